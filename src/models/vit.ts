/**
 * A small Vision Transformer: patch embedding (its own kernel), learned
 * position embeddings, pre-norm blocks (multi-head attention + GELU MLP),
 * final LayerNorm and mean pooling over tokens (no class token, so every
 * token is a position on the image grid and stage outputs can be read as
 * feature maps by the Mix Block). Blocks are grouped into 4 stages.
 */
import { add } from '../ops/elementwise.js';
import { gelu } from '../ops/activation.js';
import { attentionTokens } from '../ops/attention.js';
import { patchEmbed } from '../ops/patch-embed.js';
import { permute, reshape } from '../ops/shape.js';
import { sumToShape } from '../ops/reduce.js';
import { scale } from '../ops/elementwise.js';
import { type Builder, init } from '../nn/builder.js';
import { Layer, LayerNorm, Linear } from '../nn/layers.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Backbone, ForwardOptions } from './network.js';

class PatchEmbed extends Layer {
  constructor(
    b: Builder,
    name: string,
    readonly inC: number,
    readonly dim: number,
    readonly patch: number,
  ) {
    super(b, name);
    const fanIn = inC * patch * patch;
    b.param(`${name}.proj.weight`, [dim, inC, patch, patch], init.uniformFanIn(fanIn));
    b.param(`${name}.proj.bias`, [dim], init.uniformFanIn(fanIn));
  }
  forward(x: Tensor): Tensor {
    return patchEmbed(x, this.p('proj.weight'), this.p('proj.bias'), this.patch);
  }
}

class Attention {
  q: Linear;
  k: Linear;
  v: Linear;
  proj: Linear;
  constructor(
    b: Builder,
    name: string,
    readonly dim: number,
    readonly heads: number,
  ) {
    const tn = init.normal(0.02);
    this.q = new Linear(b, `${name}.q`, dim, dim, tn, init.zeros());
    this.k = new Linear(b, `${name}.k`, dim, dim, tn, init.zeros());
    this.v = new Linear(b, `${name}.v`, dim, dim, tn, init.zeros());
    this.proj = new Linear(b, `${name}.proj`, dim, dim, tn, init.zeros());
  }
  forward(x: Tensor): Tensor {
    const [N, L] = x.shape as [number, number, number];
    const dh = this.dim / this.heads;
    // Heads read in place from the projections' token-major [N, L, D] (no permutes; src/ops/attention-plan.ts).
    const heads = (t: Tensor) => reshape(t, [N, L, this.heads, dh]);
    const o = attentionTokens(heads(this.q.forward(x)), heads(this.k.forward(x)), heads(this.v.forward(x)), { scale: 1 / Math.sqrt(dh) });
    return this.proj.forward(reshape(o, [N, L, this.dim]));
  }
}

class Block {
  norm1: LayerNorm;
  attn: Attention;
  norm2: LayerNorm;
  fc1: Linear;
  fc2: Linear;
  constructor(b: Builder, name: string, dim: number, heads: number, mlpRatio: number) {
    const tn = init.normal(0.02);
    this.norm1 = new LayerNorm(b, `${name}.norm1`, dim, 1e-6);
    this.attn = new Attention(b, `${name}.attn`, dim, heads);
    this.norm2 = new LayerNorm(b, `${name}.norm2`, dim, 1e-6);
    this.fc1 = new Linear(b, `${name}.mlp.fc1`, dim, dim * mlpRatio, tn, init.zeros());
    this.fc2 = new Linear(b, `${name}.mlp.fc2`, dim * mlpRatio, dim, tn, init.zeros());
  }
  forward(x: Tensor): Tensor {
    const h = add(x, this.attn.forward(this.norm1.forward(x)));
    return add(h, this.fc2.forward(gelu(this.fc1.forward(this.norm2.forward(h)))));
  }
}

export class ViT extends Layer implements Backbone {
  readonly numStages = 4;
  readonly stageChannels: number[];
  readonly featureDim: number;
  readonly embed: PatchEmbed;
  readonly blocks: Block[] = [];
  readonly norm: LayerNorm;
  readonly grid: number;

  constructor(b: Builder, inChannels: number, imageSize: number, o: { dim: number; depth: number; heads: number; patch: number }) {
    super(b, '');
    this.grid = Math.floor(imageSize / o.patch);
    this.embed = new PatchEmbed(b, 'patch_embed', inChannels, o.dim, o.patch);
    b.param('pos_embed', [1, this.grid * this.grid, o.dim], init.normal(0.02));
    for (let i = 0; i < o.depth; i++) this.blocks.push(new Block(b, `blocks.${i}`, o.dim, o.heads, 4));
    this.norm = new LayerNorm(b, 'norm', o.dim, 1e-6);
    this.featureDim = o.dim;
    this.stageChannels = [o.dim, o.dim, o.dim, o.dim];
  }

  /** Tokens [N, L, D] as a feature map [N, D, h, w]. */
  #asMap(t: Tensor): Tensor {
    const [N, , D] = t.shape as [number, number, number];
    return reshape(permute(t, [0, 2, 1]), [N, D, this.grid, this.grid]);
  }

  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    const input = o.mixAt?.after === 0 ? o.mixAt.fn(x) : x;
    let h = add(this.embed.forward(input), this.b.built.params.get('pos_embed'));
    const per = Math.ceil(this.blocks.length / this.numStages);
    for (let s = 0; s < this.numStages; s++) {
      for (const blk of this.blocks.slice(s * per, (s + 1) * per)) h = blk.forward(h);
      if (o.mixAt?.after === s + 1) h = o.mixAt.fn(h);
      if (o.stopAfter === s + 1) return this.#asMap(h);
    }
    h = this.norm.forward(h);
    const [N, L, D] = h.shape as [number, number, number];
    return scale(reshape(sumToShape(h, [N, 1, D]), [N, D]), 1 / L);
  }

  setTraining(_on: boolean): void {
    /* no batch statistics in a ViT */
  }
}
