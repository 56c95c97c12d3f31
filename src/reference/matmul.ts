/**
 * Reference batched matmul in f64: the definition of kernels/matmul.wgsl.
 *   C[b] = act(op(A[b]) · op(B[b]) + bias),  op(X) = X or Xᵀ
 * A is [batch?, M, K] ([batch?, K, M] if transA); B is [batch?, K, N]
 * ([batch?, N, K] if transB); an operand without a batch dimension is
 * shared by every batch entry. Result [batch, M, N] flattened.
 */
export interface MatmulRefOptions {
  M: number;
  N: number;
  K: number;
  batch?: number;
  aBatched?: boolean;
  bBatched?: boolean;
  transA?: boolean;
  transB?: boolean;
  bias?: ArrayLike<number> | null;
  activation?: 'none' | 'relu' | 'gelu';
}

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc), for the GELU epilogue. */
export function erfRef(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, o: MatmulRefOptions): Float64Array {
  const { M, N, K } = o;
  const batch = o.batch ?? 1;
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ab = o.aBatched ? z * M * K : 0;
    const bb = o.bBatched ? z * K * N : 0;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = o.transA ? a[ab + k * M + m]! : a[ab + m * K + k]!;
          const bv = o.transB ? b[bb + n * K + k]! : b[bb + k * N + n]!;
          s += av * bv;
        }
        if (o.bias) s += o.bias[n]!;
        if (o.activation === 'relu') s = Math.max(s, 0);
        else if (o.activation === 'gelu') s = 0.5 * s * (1 + erfRef(s / Math.SQRT2));
        out[z * M * N + m * N + n] = s;
      }
    }
  }
  return out;
}

/**
 * Gradients of L = Σ G ⊙ C w.r.t. A, B and bias (no activation or ReLU),
 * for 2-D operands. Returned in the operands' own layouts.
 */
export function matmulBackwardRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  g: ArrayLike<number>,
  o: MatmulRefOptions,
): { dA: Float64Array; dB: Float64Array; dBias: Float64Array } {
  const { M, N, K } = o;
  const c = matmulRef(a, b, o);
  const dC = Float64Array.from(g, (v, i) => (o.activation === 'relu' && c[i]! <= 0 ? 0 : v));
  const dA = new Float64Array(M * K);
  const dB = new Float64Array(K * N);
  const dBias = new Float64Array(N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const d = dC[m * N + n]!;
      dBias[n]! += d;
      for (let k = 0; k < K; k++) {
        const ai = o.transA ? k * M + m : m * K + k;
        const bi = o.transB ? n * K + k : k * N + n;
        dA[ai]! += d * b[bi]!;
        dB[bi]! += d * a[ai]!;
      }
    }
  }
  return { dA, dB, dBias };
}
