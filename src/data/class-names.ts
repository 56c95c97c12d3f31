/** Human names of the classes of the datasets the loaders read, for pictures and messages. */

export const CLASS_NAMES: Readonly<Record<string, readonly string[]>> = {
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  cifar10: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
};

/**
 * The name of class `k` of a dataset named `datasetName` ("fashion-mnist/test", "cifar10/train"):
 * its published class name where this module knows the set and its class count, else "class k".
 */
export function className(datasetName: string, numClasses: number, k: number): string {
  const names = CLASS_NAMES[datasetName.split('/')[0]!];
  return names && names.length === numClasses && names[k] !== undefined ? names[k]! : `class ${k}`;
}
