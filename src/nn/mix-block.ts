/**
 * The AutoMix Mix Block M_φ (docs/method.md §2): a shared 1×1 query/key projection
 * C'→d (d = C/2), a 1×1 value projection C'→1, patch-to-patch attention over
 * the partner's positions, nearest (or bilinear) upsampling of the logits by r,
 * and a sigmoid. Returns m_b, the weight of x[π]; m_a = 1 − m_b weights x.
 * Parameters are stored in PyTorch's 1×1-conv layout [out, in, 1, 1].
 */
import type { Engine } from '../engine.js';
import { Builder, init } from './builder.js';
import type { ParamSet } from './params.js';
import { sigmoid } from '../ops/activation.js';
import { mixBlockLogits } from '../ops/mix-block-attention.js';
import { reshape } from '../ops/shape.js';
import { upsample } from '../ops/upsample.js';
import type { Tensor } from '../tensor/tensor.js';

export class MixBlock {
  readonly params: ParamSet;
  readonly d: number;

  constructor(
    engine: Engine,
    readonly channels: number,
    seed: number,
    readonly o: { lamConcat: boolean; upsampleMode: 'nearest' | 'bilinear' } = { lamConcat: false, upsampleMode: 'nearest' },
  ) {
    const b = new Builder(engine);
    const cin = channels + (o.lamConcat ? 1 : 0);
    this.d = Math.max(1, Math.floor(channels / 2));
    b.param('mix_block.qk.weight', [this.d, cin, 1, 1], init.normal(0.01));
    b.param('mix_block.qk.bias', [this.d], init.zeros());
    b.param('mix_block.v.weight', [1, cin, 1, 1], init.normal(0.01));
    b.param('mix_block.v.bias', [1], init.zeros());
    const built = b.build(seed, 'mix_block');
    this.params = built.params;
    built.buffers.dispose(); // the Mix Block has no buffers (BN-free, as in the CIFAR configs)
  }

  dispose(): void {
    this.params.dispose();
  }

  /** m_b [N,1,H,W] for features z [N,C,h,w], ratio λ and permutation π. */
  mask(z: Tensor, perm: Tensor, lam: number, imageSize: number): Tensor {
    const P = this.params;
    const cin = this.channels + (this.o.lamConcat ? 1 : 0);
    const s = mixBlockLogits(
      z,
      perm,
      reshape(P.get('mix_block.qk.weight'), [this.d, cin]),
      P.get('mix_block.qk.bias'),
      reshape(P.get('mix_block.v.weight'), [1, cin]),
      P.get('mix_block.v.bias'),
      this.o.lamConcat ? { lam } : {},
    );
    const r = Math.round(imageSize / z.shape[2]!);
    // With nearest upsampling, sigmoid and upsampling commute (docs/method.md §2.2.7):
    // take the sigmoid on the small grid, then replicate.
    if (this.o.upsampleMode === 'nearest') return r === 1 ? sigmoid(s) : upsample(sigmoid(s), r, 'nearest');
    return sigmoid(upsample(s, r, 'bilinear'));
  }
}
