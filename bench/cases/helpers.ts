/**
 * The pieces the case files share: uploading inputs, the forward and
 * backward runners, disposal, the software-adapter skip, and the builders of
 * a case for a one- or two-input op over whole tensors (elementwise,
 * activation, reduction).
 */
import type { Tensor } from '../../src/index.js';
import { rand } from '../data.js';
import type { TF, TfTensor } from '../tfjs.js';
import type { BenchCase, CaseContext, OursRunner } from './types.js';

export const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Uploads host data (f32 or i32) to our engine. */
export function up(c: CaseContext, data: Float32Array | Int32Array, shape: number[]): Tensor {
  return c.engine.tensor(data, shape, data instanceof Int32Array ? { dtype: 'i32' } : {});
}

/** A forward call: returns outputs, disposed after each repeat. */
export function fwd(f: () => Tensor | Tensor[]): OursRunner {
  return { run: f };
}

/**
 * A backward call through autograd: `before` runs the forward with the
 * inputs `wrt` requiring grad (untimed), `run` is y.backward(dy) and returns
 * the gradients in the order of `wrt`; `after` drops gradients and graph.
 */
export function bwd(wrt: Tensor[], forward: () => Tensor, dy: Tensor | null): OursRunner {
  for (const t of wrt) t.requiresGrad = true;
  let y: Tensor | null = null;
  return {
    before() {
      y = forward();
    },
    run() {
      if (dy) y!.backward(dy);
      else y!.backward();
      return wrt.map((t) => t.grad!);
    },
    after() {
      for (const t of wrt) {
        t.grad?.dispose();
        t.grad = null;
      }
      y?.dispose();
      y = null;
    },
  };
}

export function disposeAll(...ts: (Tensor | null | undefined)[]): () => void {
  return () => {
    for (const t of ts) t?.dispose();
  };
}

export const onlyOnGpu = (c: CaseContext) => (c.software && !c.full ? 'slow on a software adapter (use --full)' : null);

/** A one-input op on [shape]: ours(x) vs theirs(x). */
export function unaryCase(
  kernel: string,
  shape: number[],
  ours: (x: Tensor) => Tensor,
  theirs: (tf: TF, x: TfTensor) => TfTensor,
  flopsPerElem = 1,
): BenchCase {
  return {
    kernel,
    name: `[${shape.join(', ')}]`,
    bound: 'memory',
    prepare(c) {
      const n = prod(shape);
      const X = rand(n, 61, -3, 3);
      const x = up(c, X, shape);
      return {
        bytes: 8 * n,
        flops: flopsPerElem * n,
        ours: fwd(() => ours(x)),
        tf: (tf) => {
          const tx = tf.tensor(X, shape);
          return { run: () => theirs(tf, tx), dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}

/** A two-input op on [shapeA] ∘ [shapeB] (broadcasting when they differ). */
export function binaryCase(
  kernel: string,
  shapeA: number[],
  shapeB: number[],
  ours: (a: Tensor, b: Tensor) => Tensor,
  theirs: (tf: TF, a: TfTensor, b: TfTensor) => TfTensor,
): BenchCase {
  return {
    kernel,
    name: `[${shapeA.join(', ')}] ∘ [${shapeB.join(', ')}]`,
    bound: 'memory',
    prepare(c) {
      const A = rand(prod(shapeA), 71);
      const B = rand(prod(shapeB), 72);
      const a = up(c, A, shapeA);
      const b = up(c, B, shapeB);
      return {
        bytes: 4 * (2 * prod(shapeA) + prod(shapeB)),
        flops: prod(shapeA),
        ours: fwd(() => ours(a, b)),
        tf: (tf) => {
          const ta = tf.tensor(A, shapeA);
          const tb = tf.tensor(B, shapeB);
          return { run: () => theirs(tf, ta, tb), dispose: () => tf.dispose([ta, tb]) };
        },
        dispose: disposeAll(a, b),
      };
    },
  };
}
