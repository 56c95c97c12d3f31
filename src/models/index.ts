/** Builds the models the CLI names. */
import type { Engine } from '../engine.js';
import { Builder } from '../nn/builder.js';
import { type Backbone, Network, type ModelSpec } from './network.js';
import { ResNetCifar } from './resnet.js';
import { ViT } from './vit.js';

export { Network, type ModelSpec, type Backbone, type ForwardOptions } from './network.js';

export const MODELS = ['resnet18', 'resnext50', 'vit-tiny'] as const;

/** Builds a model; the same spec and seed give the same weights. */
export function buildModel(engine: Engine, spec: ModelSpec, seed: number, label = 'model'): Network {
  const b = new Builder(engine);
  let backbone: Backbone;
  if (spec.model === 'vit-tiny') {
    const dim = Math.max(spec.width >= 1 ? 192 : Math.round((192 * spec.width) / 12) * 12, 12);
    backbone = new ViT(b, spec.inChannels, spec.imageSize, { dim, depth: 12, heads: 3, patch: 4 });
  } else {
    backbone = new ResNetCifar(b, spec.model, spec.inChannels, spec.width);
  }
  return new Network(engine, spec, backbone, b, seed, label);
}
