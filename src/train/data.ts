/** Resolves `--data` (fashion-mnist[:DIR] | cifar10:DIR | cifar100:DIR) to datasets. */
import { loadCifar10, loadCifar100 } from '../data/cifar.js';
import type { ImageDataset } from '../data/dataset.js';
import { limitDataset } from '../data/dataset.js';
import { DatasetError } from '../data/errors.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { ConfigError } from './config.js';

export interface Datasets {
  train: ImageDataset;
  test: ImageDataset;
  source: string;
  family: 'fashion-mnist' | 'cifar10' | 'cifar100';
}

/** Datasets loaded ahead (by the CLI's preflight) for the next `loadData` of the same arguments. */
let primed: { key: string; data: Datasets } | null = null;
const keyOf = (spec: string, limitTrain: number, limitTest: number) => JSON.stringify([spec, limitTrain, limitTest]);

/**
 * Hands datasets already loaded and checked to the next `loadData(spec, limitTrain, limitTest)`
 * (once), so a check made before training does not read the files twice.
 */
export function primeData(spec: string, limitTrain: number, limitTest: number, data: Datasets): void {
  primed = { key: keyOf(spec, limitTrain, limitTest), data };
}

export async function loadData(spec: string, limitTrain = 0, limitTest = 0): Promise<Datasets> {
  if (primed) {
    const p = primed;
    primed = null;
    if (p.key === keyOf(spec, limitTrain, limitTest)) return p.data;
  }
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
  checkDatasets(d.train, d.test, d.source);
  return {
    train: limitTrain ? limitDataset(d.train, limitTrain) : d.train,
    test: limitTest ? limitDataset(d.test, limitTest) : d.test,
    source: d.source,
    family,
  };
}

/** The file a dataset was read from, or its name in its source directory. */
export function datasetFile(ds: ImageDataset, source = ''): string {
  return ds.file ?? (source ? `${source} (${ds.name})` : ds.name);
}

const dims = (ds: ImageDataset) => `${ds.c}×${ds.h}×${ds.w}`;

/**
 * Refuses a pair of splits that no model can train and test on: an empty split, images with a
 * side of 0 pixels, or test images of another size, channel count or class count than the
 * training images (a model takes one size; a 32×32-trained network "tested" on 28×28 images
 * reports a meaningless accuracy).
 * @throws DatasetError naming the file at fault.
 */
export function checkDatasets(train: ImageDataset, test: ImageDataset, source = ''): void {
  for (const [split, ds] of [
    ['training', train],
    ['test', test],
  ] as const) {
    if (ds.n === 0) throw new DatasetError(datasetFile(ds, source), `holds 0 images: the ${split} set needs at least one (a truncated or placeholder file?)`);
    if (ds.h < 1 || ds.w < 1 || ds.c < 1)
      throw new DatasetError(datasetFile(ds, source), `its images are ${dims(ds)} (channels × height × width): every side must be at least 1 pixel`);
  }
  if (train.c !== test.c || train.h !== test.h || train.w !== test.w) {
    throw new DatasetError(
      datasetFile(test, source),
      `test images are ${dims(test)} but the training images (${datasetFile(train, source)}) are ${dims(train)}: a model takes one image size; use test images of the training images' size`,
    );
  }
  if (train.numClasses !== test.numClasses) {
    throw new DatasetError(
      datasetFile(test, source),
      `${test.numClasses} classes but the training set (${datasetFile(train, source)}) has ${train.numClasses}`,
    );
  }
}

/** ViT-tiny's patch size (src/models/index.ts). */
const VIT_PATCH = 4;

/**
 * Refuses images a model (and, for AutoMix, its Mix Block) cannot take, naming the model and the
 * images' file: ViT needs square images whose side is a multiple of its patch size; AutoMix's
 * mask is computed on the 1/4-size feature map and upsampled by one integer factor, which must
 * give back both sides of the image.
 * @throws ConfigError naming the flag (`--model`, `--method`) and the dataset file.
 */
export function checkModelInput(model: string, method: string | null, ds: ImageDataset, source = ''): void {
  const file = datasetFile(ds, source);
  if (model === 'vit-tiny' && (ds.h !== ds.w || ds.h % VIT_PATCH !== 0)) {
    throw new ConfigError(
      `--model vit-tiny: needs square images whose side is a multiple of its patch size ${VIT_PATCH}, but ${file} holds ${dims(ds)} images (resnet18 and resnext50 take any size)`,
    );
  }
  if (method === 'automix') {
    const fh = Math.ceil(ds.h / 4);
    const fw = Math.ceil(ds.w / 4);
    const r = Math.round(ds.h / fh);
    if (fh * r !== ds.h || fw * r !== ds.w) {
      throw new ConfigError(
        `--method automix: the Mix Block's mask (on the ${fh}×${fw} feature map, upsampled ×${r} to ${fh * r}×${fw * r}) cannot cover the ${ds.h}×${ds.w} images of ${file}; use images whose sides are multiples of 4, or another --method`,
      );
    }
  }
}
