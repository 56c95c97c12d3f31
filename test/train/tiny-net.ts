/**
 * A tiny four-stage CNN for trainer tests, with a plain-TypeScript f64
 * reference of its forward pass built from the op references. Input
 * [N, 1, 8, 8]; stage 3 gives [N, 6, 2, 2] (the Mix Block's input); 3 classes.
 */
import type { Engine } from '../../src/index.js';
import { Builder } from '../../src/nn/builder.js';
import { BatchNorm2d, Conv2d } from '../../src/nn/layers.js';
import { Network, type Backbone, type ForwardOptions } from '../../src/models/network.js';
import { relu } from '../../src/ops/elementwise.js';
import { globalAvgPool } from '../../src/ops/pool.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { batchNorm2dRef } from '../../src/reference/batchnorm.js';
import { conv2dRef } from '../../src/reference/conv2d.js';
import { globalAvgPoolRef } from '../../src/reference/pool.js';

/** [in, out, stride] of each stage's 3×3 conv. */
export const STAGES: [number, number, number][] = [
  [1, 4, 1],
  [4, 4, 2],
  [4, 6, 2],
  [6, 6, 1],
];
export const CLASSES = 3;

class TinyBackbone implements Backbone {
  readonly numStages = 4;
  readonly stageChannels = STAGES.map((s) => s[1]);
  readonly featureDim = 6;
  readonly convs: Conv2d[];
  readonly bns: BatchNorm2d[];
  constructor(b: Builder) {
    this.convs = STAGES.map(([i, o, s], k) => new Conv2d(b, `s${k}.conv`, i, o, 3, { stride: s, padding: 1 }));
    this.bns = STAGES.map(([, o], k) => new BatchNorm2d(b, `s${k}.bn`, o));
  }
  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    let h = o.mixAt?.after === 0 ? o.mixAt.fn(x) : x;
    for (let k = 0; k < 4; k++) {
      h = relu(this.bns[k]!.forward(this.convs[k]!.forward(h)));
      if (o.mixAt?.after === k + 1) h = o.mixAt.fn(h);
      if (o.stopAfter === k + 1) return h;
    }
    return globalAvgPool(h);
  }
  setTraining(on: boolean): void {
    for (const b of this.bns) b.training = on;
  }
}

export function tinyNetwork(engine: Engine, heads: string[], seed: number, label: string): Network {
  const b = new Builder(engine);
  const backbone = new TinyBackbone(b);
  return new Network(engine, { model: 'resnet18', width: 1, inChannels: 1, imageSize: 8, numClasses: CLASSES, heads }, backbone, b, seed, label);
}

export type Params = Map<string, Float64Array>;

/** f64 forward of the tiny network (train-mode BN), to stage `stopAfter` or to head logits. */
export function tinyForwardRef(p: Params, x: Float64Array, N: number, o: { stopAfter?: number; head?: string }): { out: Float64Array; shape: number[] } {
  let h = x;
  let shape = [N, 1, 8, 8];
  for (let k = 0; k < 4; k++) {
    const [ci, co, s] = STAGES[k]!;
    const [, , H, W] = shape as [number, number, number, number];
    const Ho = Math.floor((H + 2 - 3) / s) + 1;
    const Wo = Math.floor((W + 2 - 3) / s) + 1;
    h = conv2dRef(h, p.get(`s${k}.conv.weight`)!, null, { N, C: ci, H, W, O: co, KH: 3, KW: 3, sh: s, sw: s, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 });
    shape = [N, co, Ho, Wo];
    const bn = batchNorm2dRef(h, shape, p.get(`s${k}.bn.weight`)!, p.get(`s${k}.bn.bias`)!, new Float64Array(co), new Float64Array(co).fill(1), {
      training: true,
    });
    h = Float64Array.from(bn.y, (v) => Math.max(v, 0));
    if (o.stopAfter === k + 1) return { out: h, shape };
  }
  const f = globalAvgPoolRef(h, shape as [number, number, number, number]);
  const w = p.get(`${o.head}.fc.weight`)!;
  const bias = p.get(`${o.head}.fc.bias`)!;
  const D = 6;
  const out = new Float64Array(N * CLASSES);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < CLASSES; c++) {
      let acc = bias[c]!;
      for (let d = 0; d < D; d++) acc += f[n * D + d]! * w[c * D + d]!;
      out[n * CLASSES + c] = acc;
    }
  return { out, shape: [N, CLASSES] };
}
