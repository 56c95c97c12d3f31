/**
 * nn layers with PyTorch semantics and parameter names/layouts, so weights
 * move between this engine and an equivalent torch.nn model unchanged.
 * A layer declares its parameters on a Builder and reads them back by name
 * once the model is built.
 */
import { batchNorm2d } from '../ops/batchnorm.js';
import { conv2d, type Conv2dOptions as Conv2dOpOptions } from '../ops/conv2d.js';
import { relu } from '../ops/elementwise.js';
import { layerNorm } from '../ops/layernorm.js';
import { matmul } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { type Builder, init, type Init } from './builder.js';

/** What every layer shares: its builder and dotted name prefix. */
export abstract class Layer {
  training = true;
  constructor(
    protected readonly b: Builder,
    readonly name: string,
  ) {}
  protected p(local: string): Tensor {
    return this.b.built.params.get(`${this.name}.${local}`);
  }
  protected buf(local: string): Tensor {
    return this.b.built.buffers.get(`${this.name}.${local}`);
  }
}

/** A Conv2d layer's options: the op's geometry options, plus whether it has a bias and how its weight starts. */
export interface Conv2dOptions extends Omit<Conv2dOpOptions, 'impl'> {
  bias?: boolean;
  weightInit?: Init;
}

export class Conv2d extends Layer {
  readonly hasBias: boolean;
  constructor(
    b: Builder,
    name: string,
    readonly inCh: number,
    readonly outCh: number,
    readonly k: number,
    readonly o: Conv2dOptions = {},
  ) {
    super(b, name);
    const groups = o.groups ?? 1;
    this.hasBias = o.bias ?? false;
    b.param(`${name}.weight`, [outCh, inCh / groups, k, k], o.weightInit ?? init.kaimingFanOut(outCh * k * k));
    if (this.hasBias) b.param(`${name}.bias`, [outCh], init.zeros());
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.p('weight'), this.hasBias ? this.p('bias') : null, {
      stride: this.o.stride ?? 1,
      padding: this.o.padding ?? 0,
      dilation: this.o.dilation ?? 1,
      groups: this.o.groups ?? 1,
    });
  }
}

export class BatchNorm2d extends Layer {
  constructor(
    b: Builder,
    name: string,
    readonly ch: number,
    zeroInit = false,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super(b, name);
    b.param(`${name}.weight`, [ch], zeroInit ? init.zeros() : init.ones());
    b.param(`${name}.bias`, [ch], init.zeros());
    b.buffer(`${name}.running_mean`, [ch], init.zeros());
    b.buffer(`${name}.running_var`, [ch], init.ones());
  }
  /**
   * bn(x); with `relu` and/or `residual`, relu(bn(x) + residual) in the same
   * kernels (bit for bit the separate ops, see ops/batchnorm.ts).
   */
  forward(x: Tensor, o: { relu?: boolean; residual?: Tensor | null } = {}): Tensor {
    return batchNorm2d(x, this.p('weight'), this.p('bias'), this.buf('running_mean'), this.buf('running_var'), {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      relu: o.relu ?? false,
      residual: o.residual ?? null,
    });
  }
}

/** y = x·Wᵀ + b with W [out, in] (torch.nn.Linear). */
export class Linear extends Layer {
  constructor(
    b: Builder,
    name: string,
    readonly inF: number,
    readonly outF: number,
    weightInit?: Init,
    biasInit?: Init,
  ) {
    super(b, name);
    b.param(`${name}.weight`, [outF, inF], weightInit ?? init.uniformFanIn(inF));
    b.param(`${name}.bias`, [outF], biasInit ?? init.uniformFanIn(inF));
  }
  forward(x: Tensor, activation: 'none' | 'relu' = 'none'): Tensor {
    if (x.ndim === 2) return matmul(x, this.p('weight'), { transB: true, bias: this.p('bias'), activation });
    const lead = x.shape.slice(0, -1);
    const y = matmul(reshape(x, [-1, this.inF]), this.p('weight'), { transB: true, bias: this.p('bias'), activation });
    return reshape(y, [...lead, this.outF]);
  }
}

export class LayerNorm extends Layer {
  constructor(
    b: Builder,
    name: string,
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super(b, name);
    b.param(`${name}.weight`, [dim], init.ones());
    b.param(`${name}.bias`, [dim], init.zeros());
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.p('weight'), this.p('bias'), this.eps);
  }
}

export { relu };
