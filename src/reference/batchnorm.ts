/**
 * Plain-TypeScript (f64) definition of BatchNorm2d over NCHW, PyTorch semantics:
 * training normalises with the batch mean and biased variance and moves the
 * running buffers towards the batch mean and unbiased variance; eval uses the
 * running buffers.
 */

export interface BatchNormRefOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  /** y = relu(bn(x) + residual): the fused epilogue. */
  relu?: boolean;
  residual?: ArrayLike<number> | null;
}

export interface BatchNormRefResult {
  y: Float64Array;
  /** Running buffers after the call (unchanged in eval mode). */
  runningMean: Float64Array;
  runningVar: Float64Array;
  /** The statistics used to normalise. */
  mean: Float64Array;
  invstd: Float64Array;
}

export function batchNorm2dRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  weight: ArrayLike<number> | null,
  bias: ArrayLike<number> | null,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  o: BatchNormRefOptions,
): BatchNormRefResult {
  const [N, C, H, W] = shape as [number, number, number, number];
  const HW = H * W;
  const L = N * HW;
  const m = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  const mean = new Float64Array(C);
  const invstd = new Float64Array(C);
  const rm = Float64Array.from(runningMean);
  const rv = Float64Array.from(runningVar);
  for (let c = 0; c < C; c++) {
    if (o.training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[(n * C + c) * HW + i]!;
      const mu = s / L;
      let ss = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) ss += (x[(n * C + c) * HW + i]! - mu) ** 2;
      mean[c] = mu;
      invstd[c] = 1 / Math.sqrt(ss / L + eps);
      rm[c] = (1 - m) * rm[c]! + m * mu;
      rv[c] = (1 - m) * rv[c]! + m * (ss / (L - 1));
    } else {
      mean[c] = rm[c]!;
      invstd[c] = 1 / Math.sqrt(rv[c]! + eps);
    }
  }
  const y = new Float64Array(N * C * HW);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const w = weight ? weight[c]! : 1;
      const b = bias ? bias[c]! : 0;
      for (let i = 0; i < HW; i++) {
        const k = (n * C + c) * HW + i;
        const v = (x[k]! - mean[c]!) * invstd[c]! * w + b + (o.residual ? o.residual[k]! : 0);
        y[k] = o.relu ? Math.max(v, 0) : v;
      }
    }
  }
  return { y, runningMean: rm, runningVar: rv, mean, invstd };
}

/**
 * Gradients of relu(bn(x) + residual) (batchNorm2dRef with `relu` and a
 * residual) given dy and the forward's output y: the ReLU's mask (y > 0)
 * applied to dy, then batchNorm2dBackwardRef; the residual's gradient is the
 * masked dy.
 */
export function batchNormReluBackwardRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  weight: ArrayLike<number> | null,
  dy: ArrayLike<number>,
  y: ArrayLike<number>,
  mean: ArrayLike<number>,
  invstd: ArrayLike<number>,
  training: boolean,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array; dresidual: Float64Array } {
  const dresidual = Float64Array.from(dy, (g, i) => (y[i]! > 0 ? g : 0));
  return { ...batchNorm2dBackwardRef(x, shape, weight, dresidual, mean, invstd, training), dresidual };
}

/**
 * Gradients of batchNorm2dRef's y given dy. In training mode dx includes the
 * terms through the batch mean and variance; in eval mode the statistics
 * (`mean`, `invstd` from the forward) are constants.
 */
export function batchNorm2dBackwardRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  weight: ArrayLike<number> | null,
  dy: ArrayLike<number>,
  mean: ArrayLike<number>,
  invstd: ArrayLike<number>,
  training: boolean,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const HW = H * W;
  const L = N * HW;
  const dx = new Float64Array(N * C * HW);
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sdy = 0;
    let sdyx = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const k = (n * C + c) * HW + i;
        sdy += dy[k]!;
        sdyx += dy[k]! * (x[k]! - mean[c]!) * invstd[c]!;
      }
    }
    dbias[c] = sdy;
    dweight[c] = sdyx;
    const w = weight ? weight[c]! : 1;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const k = (n * C + c) * HW + i;
        const xhat = (x[k]! - mean[c]!) * invstd[c]!;
        dx[k] = training ? (w * invstd[c]! * (L * dy[k]! - sdy - xhat * sdyx)) / L : w * invstd[c]! * dy[k]!;
      }
    }
  }
  return { dx, dweight, dbias };
}
