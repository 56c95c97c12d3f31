/**
 * Plain-TypeScript (f64) definitions of the optimiser and EMA updates of
 * kernels/optim.wgsl, in PyTorch's order of operations. Each function updates
 * its arrays in place, element by element.
 */

export interface SGDRefOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * One torch.optim.SGD step. `buf` is the momentum buffer (ignored when
 * momentum is 0); `first` says it holds no value yet (PyTorch's
 * `momentum_buffer is None`), in which case it is set to d.
 */
export function sgdStepRef(p: Float64Array, g: ArrayLike<number>, buf: Float64Array | null, o: SGDRefOptions, first: boolean): void {
  const mom = o.momentum ?? 0;
  const damp = o.dampening ?? 0;
  const wd = o.weightDecay ?? 0;
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! + wd * p[i]!;
    if (mom !== 0) {
      const b = first ? d : mom * buf![i]! + (1 - damp) * d;
      buf![i] = b;
      d = o.nesterov ? d + mom * b : b;
    }
    p[i] = p[i]! - o.lr * d;
  }
}

export interface AdamWRefOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** One torch.optim.AdamW step; `t` is the step number after increment (1 on the first step). */
export function adamwStepRef(p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, o: AdamWRefOptions, t: number): void {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? 0.01;
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    p[i] = p[i]! * (1 - o.lr * wd);
    m[i] = b1 * m[i]! + (1 - b1) * gi;
    v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
    p[i] = p[i]! - (o.lr / bc1) * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps));
  }
}

/** θ_k ← m·θ_k + (1 − m)·θ_q */
export function emaRef(target: Float64Array, source: ArrayLike<number>, m: number): void {
  for (let i = 0; i < target.length; i++) target[i] = m * target[i]! + (1 - m) * source[i]!;
}
