/** Resolves `--data` (fashion-mnist[:DIR] | cifar10:DIR | cifar100:DIR) to datasets. */
import { loadCifar10, loadCifar100 } from '../data/cifar.js';
import type { ImageDataset } from '../data/dataset.js';
import { limitDataset } from '../data/dataset.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { ConfigError } from './config.js';

export interface Datasets {
  train: ImageDataset;
  test: ImageDataset;
  source: string;
  family: 'fashion-mnist' | 'cifar10' | 'cifar100';
}

export async function loadData(spec: string, limitTrain = 0, limitTest = 0): Promise<Datasets> {
  const [name, ...rest] = spec.split(':');
  const dir = rest.join(':') || undefined;
  let d: { train: ImageDataset; test: ImageDataset; source: string };
  let family: Datasets['family'];
  if (name === 'fashion-mnist') {
    d = await loadFashionMnist(dir);
    family = 'fashion-mnist';
  } else if (name === 'cifar10' || name === 'cifar100') {
    if (!dir) throw new ConfigError(`--data ${name}:DIR needs the directory holding the CIFAR binary files`);
    d = name === 'cifar10' ? await loadCifar10(dir) : await loadCifar100(dir);
    family = name;
  } else {
    throw new ConfigError(`--data: unknown dataset '${spec}' (use fashion-mnist, fashion-mnist:DIR, cifar10:DIR or cifar100:DIR)`);
  }
  return {
    train: limitTrain ? limitDataset(d.train, limitTrain) : d.train,
    test: limitTest ? limitDataset(d.test, limitTest) : d.test,
    source: d.source,
    family,
  };
}
