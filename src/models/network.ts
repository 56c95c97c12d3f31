/**
 * A classifier as the trainers see it: a backbone with addressable stages,
 * and named linear heads on its pooled features. Parameters and BN buffers
 * live in the builder's arenas.
 */
import type { Engine } from '../engine.js';
import type { BufferSet, Builder } from '../nn/builder.js';
import { Linear } from '../nn/layers.js';
import { init } from '../nn/builder.js';
import type { ParamSet } from '../nn/params.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ForwardOptions {
  /** Stop after this many stages and return that stage's feature map. */
  stopAfter?: number;
  /** Replace the feature after `after` stages (0 = the input) by fn(feature): ManifoldMix. */
  mixAt?: { after: number; fn: (h: Tensor) => Tensor };
}

export interface Backbone {
  readonly numStages: number;
  /** Channels of each stage's output. */
  readonly stageChannels: number[];
  /** Pooled feature size. */
  readonly featureDim: number;
  /** Pooled features [N, featureDim], or a stage's map when `stopAfter` is set. */
  forward(x: Tensor, o?: ForwardOptions): Tensor;
  setTraining(on: boolean): void;
}

export interface ModelSpec {
  model: 'resnet18' | 'resnext50' | 'vit-tiny';
  width: number;
  inChannels: number;
  imageSize: number;
  numClasses: number;
  /** Head names: ['fc'] for plain training, ['head_mix', 'head_one'] for AutoMix. */
  heads: string[];
}

export class Network {
  readonly heads = new Map<string, Linear>();
  readonly params: ParamSet;
  readonly buffers: BufferSet;

  constructor(
    readonly engine: Engine,
    readonly spec: ModelSpec,
    readonly backbone: Backbone,
    builder: Builder,
    seed: number,
    label: string,
  ) {
    for (const h of spec.heads) {
      // Heads: N(0, 0.01²) weights, zero bias (docs/method.md §5).
      this.heads.set(
        h,
        new Linear(builder, spec.heads.length === 1 && h === 'fc' ? 'fc' : `${h}.fc`, backbone.featureDim, spec.numClasses, init.normal(0.01), init.zeros()),
      );
    }
    const built = builder.build(seed, label);
    this.params = built.params;
    this.buffers = built.buffers;
  }

  /** Logits of head `head` for images x. */
  logits(x: Tensor, head = this.spec.heads[0]!, o: ForwardOptions = {}): Tensor {
    return this.head(head).forward(this.backbone.forward(x, o));
  }

  head(name: string): Linear {
    const h = this.heads.get(name);
    if (!h) throw new Error(`model has no head '${name}' (heads: ${[...this.heads.keys()].join(', ')})`);
    return h;
  }

  setTraining(on: boolean): void {
    this.backbone.setTraining(on);
  }

  dispose(): void {
    this.params.dispose();
    this.buffers.dispose();
  }
}
