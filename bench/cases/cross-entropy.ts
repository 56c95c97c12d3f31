/**
 * Mean softmax cross-entropy of [B, K] logits against integer labels, or the
 * AutoMix mixed form λ·CE(y_a) + (1 − λ)·CE(y_b) (src/ops/cross-entropy.ts;
 * TF.js: the same loss with soft targets λ·onehot(y_a) + (1 − λ)·onehot(y_b)).
 * Backward = dlogits.
 */
import { crossEntropy, mixedCrossEntropy } from '../../src/ops/cross-entropy.js';
import { oneHot, rand, randInt } from '../data.js';
import { bwd, disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export function crossEntropyCase(B: number, K: number, mixed: boolean, mode: 'forward' | 'backward'): BenchCase {
  const lam = 0.3;
  return {
    kernel: `${mixed ? 'mixed ' : ''}cross-entropy${mode === 'backward' ? ' backward' : ''}`,
    name: `[${B}, ${K}]`,
    bound: 'memory',
    prepare(c) {
      const X = rand(B * K, 31, -3, 3);
      const ya = randInt(B, K, 32);
      const yb = randInt(B, K, 33);
      const T = oneHot(ya, K);
      if (mixed) {
        const Tb = oneHot(yb, K);
        for (let i = 0; i < T.length; i++) T[i] = lam * T[i]! + (1 - lam) * Tb[i]!;
      }
      const x = up(c, X, [B, K]);
      const a = up(c, ya, [B]);
      const b = up(c, yb, [B]);
      const ce = () => (mixed ? mixedCrossEntropy(x, a, b, lam) : crossEntropy(x, a));
      return {
        bytes: 4 * (B * K * (mode === 'forward' ? 1 : 2) + B * (mixed ? 2 : 1)),
        ours: mode === 'forward' ? fwd(ce) : bwd([x], ce, null),
        tf: (tf) => {
          const tx = tf.tensor2d(X, [B, K]);
          const tt = tf.tensor2d(T, [B, K]);
          const run = mode === 'forward' ? () => tf.losses.softmaxCrossEntropy(tt, tx) : () => tf.div(tf.sub(tf.softmax(tx), tt), B);
          return { run, dispose: () => tf.dispose([tx, tt]) };
        },
        dispose: disposeAll(x, a, b),
      };
    },
  };
}
