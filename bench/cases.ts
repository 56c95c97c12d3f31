/**
 * The benchmark registry: every case in one table (CASES), whole training
 * steps in another (STEPS). Adding a kernel later is one entry.
 *
 * An entry names the exports it needs ('conv2d' = src/ops/index.ts's
 * `conv2d`; 'optim:AdamW' = src/optim/index.ts's `AdamW`; 'a|b' = either).
 * Missing exports make the row "not available yet", never a silent drop.
 * `prepare` uploads inputs and returns:
 *   - ours: the timed op call (plus untimed `before`/`after` per repeat, e.g.
 *     the forward whose backward is timed);
 *   - tf (optional): the same computation through TF.js, for --vs tfjs, with
 *     converters of its outputs to our layout for the max |Δ| check;
 *   - flops and/or bytes per call (bytes = the minimum DRAM traffic: every
 *     input read once, every output written once), from which the rate and
 *     share of peak are computed; `bound` says which one the case is judged by.
 * Layouts: ours NCHW / OIHW; TF.js convolutions are NHWC / HWIO (its native
 * and only WebGPU layout), so TF.js gets transposed copies of the same data.
 */
import { type Engine, type Tensor, tunerOf } from '../src/index.js';
import { matmulChoice } from '../src/ops/matmul.js';
import { hwioToOihw, nchwToNhwc, nhwcToNchw, oihwToHwio, oneHot, rand, randInt } from './data.js';
import type { TF, TfTensor } from './tfjs.js';
import { makeStep } from './steps.js';
import { makeTfResNet18Step, type TfStepBench } from './tfjs-steps.js';

// Ops are looked up by name at run time: they land while this file exists.
// biome-ignore lint/suspicious/noExplicitAny: a registry of ops of every signature, called by name
export type Fn = (...args: any[]) => any;

export interface CaseContext {
  engine: Engine;
  /** A software adapter (lavapipe, SwiftShader): the slow cases are skipped. */
  software: boolean;
  full: boolean;
  /** The export named by `ref` ('name' in ops, or 'module:name'); throws if absent. */
  fn(ref: string): Fn;
  /** Whether `ref` resolves. */
  has(ref: string): boolean;
}

export interface OursRunner {
  /** Untimed, before each timed call (e.g. the forward pass of a backward case). */
  before?: () => void;
  /** The timed call; returns the tensors the check reads. */
  run: () => Tensor | Tensor[];
  /** Untimed, after each call; default: dispose what `run` returned. */
  after?: (out: Tensor[]) => void;
}

export interface TfSide {
  run: () => TfTensor | TfTensor[];
  /** The i-th output converted to our layout (default: as is). */
  toOurs?: (v: Float32Array, i: number) => Float32Array;
  dispose: () => void;
}

export interface Prepared {
  /** Floating-point operations per call (multiply-add = 2). */
  flops?: number;
  /** Minimum bytes moved per call. */
  bytes?: number;
  ours: OursRunner;
  tf?: (tf: TF) => TfSide;
  /** Allowed max |Δ| as a fraction of max |TF.js value| (plus 1e-6); default 1e-3. */
  tol?: number;
  /** Shown in the table's note column. */
  note?: string;
  /** The kernel configuration the op runs (autotuned cases), read after the timed calls: the 'variant' column. */
  variant?: () => string;
  /** Awaited (untimed) after the first call: e.g. the autotuner measuring this case's shapes in tune mode 'full'. */
  settle?: () => Promise<void>;
  dispose: () => void;
}

export interface BenchCase {
  kernel: string;
  name: string;
  needs: string[];
  bound: 'compute' | 'memory';
  /** A reason to skip on this adapter, or null. */
  skip?: (c: CaseContext) => string | null;
  prepare: (c: CaseContext) => Prepared;
}

/** A whole training step, registered by the trainer (see STEPS). */
export interface StepBench {
  /** One optimisation step (forward, backward, update); may return a promise. */
  step: () => unknown;
  imagesPerStep: number;
  /** The fixed batch (NCHW images, labels), for the TF.js side. */
  inputs?: { xHost: Float32Array; yHost: Int32Array };
  /** The loss of the first step (at initialisation), once it has run. */
  initialLoss?: () => Promise<number>;
  dispose?: () => void;
}

export interface StepCase {
  name: string;
  /**
   * Hook for the trainer engineer: given the engine, build the model, data
   * and optimiser and return a step closure. null = "not available yet".
   */
  make: ((engine: Engine) => Promise<StepBench>) | null;
  /** The same step in TF.js for --vs tfjs (bench/tfjs-steps.ts), on our bench's batch. */
  tf?: (tf: TF, ours: StepBench) => TfStepBench;
}

// ---- helpers -------------------------------------------------------------

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Uploads host data (f32 or i32) to our engine. */
function up(c: CaseContext, data: Float32Array | Int32Array, shape: number[]): Tensor {
  return c.engine.tensor(data, shape, data instanceof Int32Array ? { dtype: 'i32' } : {});
}

/** A forward call: returns outputs, disposed after each repeat. */
function fwd(f: () => Tensor | Tensor[]): OursRunner {
  return { run: f };
}

/**
 * A backward call through autograd: `before` runs the forward with the
 * inputs `wrt` requiring grad (untimed), `run` is y.backward(dy) and returns
 * the gradients in the order of `wrt`; `after` drops gradients and graph.
 */
function bwd(wrt: Tensor[], forward: () => Tensor, dy: Tensor | null): OursRunner {
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

function disposeAll(...ts: (Tensor | null | undefined)[]): () => void {
  return () => {
    for (const t of ts) t?.dispose();
  };
}

const onlyOnGpu = (c: CaseContext) => (c.software && !c.full ? 'slow on a software adapter (use --full)' : null);

// ---- case builders -------------------------------------------------------

function matmulCase(n: number): BenchCase {
  return {
    kernel: 'matmul',
    name: `${n}³`,
    needs: ['matmul'],
    bound: 'compute',
    skip: n >= 2048 ? onlyOnGpu : undefined,
    prepare(c) {
      const A = rand(n * n, 1);
      const B = rand(n * n, 2);
      const a = up(c, A, [n, n]);
      const b = up(c, B, [n, n]);
      return {
        flops: 2 * n ** 3,
        bytes: 3 * 4 * n * n,
        ours: fwd(() => c.fn('matmul')(a, b)),
        tf: (tf) => {
          const ta = tf.tensor2d(A, [n, n]);
          const tb = tf.tensor2d(B, [n, n]);
          return { run: () => tf.matMul(ta, tb), dispose: () => tf.dispose([ta, tb]) };
        },
        // The autotuner's choice (src/tune/): 'tiled_v4 64×64×16 8×8 (tuned)'; with
        // AUTOMIX_TUNE=full the first call tunes the shape before the timed calls.
        variant: () => {
          const ch = matmulChoice(a, b);
          return `${ch.name} (${ch.source})`;
        },
        settle: () => tunerOf(c.engine).idle(),
        dispose: disposeAll(a, b),
      };
    },
  };
}

interface ConvShape {
  N: number;
  Cin: number;
  Cout: number;
  H: number;
  W: number;
  k: number;
  stride: number;
  pad: number;
}

function convCase(name: string, s: ConvShape, mode: 'forward' | 'grad-input' | 'grad-weight'): BenchCase {
  const { N, Cin, Cout, H, W, k, stride, pad } = s;
  const Ho = Math.floor((H + 2 * pad - k) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - k) / stride) + 1;
  return {
    kernel: mode === 'forward' ? 'conv2d' : `conv2d ${mode}`,
    name,
    needs: ['conv2d'],
    bound: 'compute',
    prepare(c) {
      const X = rand(N * Cin * H * W, 11);
      const Wt = rand(Cout * Cin * k * k, 12, -0.1, 0.1);
      const DY = rand(N * Cout * Ho * Wo, 13);
      const x = up(c, X, [N, Cin, H, W]);
      const w = up(c, Wt, [Cout, Cin, k, k]);
      const dy = up(c, DY, [N, Cout, Ho, Wo]);
      const conv = () => c.fn('conv2d')(x, w, null, { stride, padding: pad });
      const ours = mode === 'forward' ? fwd(conv) : mode === 'grad-input' ? bwd([x], conv, dy) : bwd([w], conv, dy);
      return {
        flops: 2 * N * Cout * Ho * Wo * Cin * k * k,
        bytes: 4 * (N * Cin * H * W + Cout * Cin * k * k + N * Cout * Ho * Wo),
        ours,
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, Cin, H, W), [N, H, W, Cin]);
          const tw = tf.tensor4d(oihwToHwio(Wt, Cout, Cin, k, k), [k, k, Cin, Cout]);
          const tdy = tf.tensor4d(nchwToNhwc(DY, N, Cout, Ho, Wo), [N, Ho, Wo, Cout]);
          const strides: [number, number] = [stride, stride];
          const run =
            mode === 'forward'
              ? () => tf.conv2d(tx, tw, stride, pad)
              : mode === 'grad-input'
                ? () =>
                    tf.engine().runKernel(
                      'Conv2DBackpropInput',
                      { dy: tdy, filter: tw },
                      {
                        strides,
                        pad,
                        dataFormat: 'NHWC',
                        inputShape: [N, H, W, Cin],
                      },
                    ) as TfTensor
                : () =>
                    tf.engine().runKernel(
                      'Conv2DBackpropFilter',
                      { x: tx, dy: tdy },
                      {
                        strides,
                        pad,
                        dataFormat: 'NHWC',
                        filterShape: [k, k, Cin, Cout],
                      },
                    ) as TfTensor;
          const toOurs =
            mode === 'forward'
              ? (v: Float32Array) => nhwcToNchw(v, N, Ho, Wo, Cout)
              : mode === 'grad-input'
                ? (v: Float32Array) => nhwcToNchw(v, N, H, W, Cin)
                : (v: Float32Array) => hwioToOihw(v, k, k, Cin, Cout);
          return { run, toOurs, dispose: () => tf.dispose([tx, tw, tdy]) };
        },
        dispose: disposeAll(x, w, dy),
      };
    },
  };
}

/**
 * Row-wise softmax over [R, C], forward or backward (dx = y ⊙ (dy − Σ dy⊙y)).
 * Uses the public `softmax` op when there is one, else the row-softmax
 * launchers of src/ops/attention.ts (what attention runs).
 */
function softmaxCase(R: number, C: number, mode: 'forward' | 'backward'): BenchCase {
  return {
    kernel: mode === 'forward' ? 'softmax' : 'softmax backward',
    name: `[${R}, ${C}]`,
    needs: ['softmax|attention:softmaxRowsRaw'],
    bound: 'memory',
    prepare(c) {
      const X = rand(R * C, 21, -4, 4);
      const DY = rand(R * C, 22);
      const x = up(c, X, [R, C]);
      const dy = up(c, DY, [R, C]);
      let ours: OursRunner;
      let note: string | undefined;
      let y: Tensor | null = null;
      if (c.has('softmax')) {
        const sm = () => c.fn('softmax')(x);
        ours = mode === 'forward' ? fwd(sm) : bwd([x], sm, dy);
      } else {
        note = mode === 'forward' ? 'via softmaxRowsRaw' : 'via softmaxRowsBackwardRaw';
        const fw = c.fn('attention:softmaxRowsRaw');
        if (mode === 'forward') ours = fwd(() => fw(x, R, C, 1));
        else {
          y = fw(x, R, C, 1) as Tensor;
          const bw = c.fn('attention:softmaxRowsBackwardRaw');
          ours = fwd(() => bw(y, dy, R, C, 1));
        }
      }
      return {
        bytes: 4 * R * C * (mode === 'forward' ? 2 : 3),
        flops: R * C * (mode === 'forward' ? 5 : 4),
        ours,
        ...(note ? { note } : {}),
        tf: (tf) => {
          const tx = tf.tensor2d(X, [R, C]);
          const tdy = tf.tensor2d(DY, [R, C]);
          const ty = tf.softmax(tx);
          const run =
            mode === 'forward'
              ? () => tf.softmax(tx)
              : () => {
                  const dyy = tf.mul(tdy, ty);
                  return tf.sub(dyy, tf.mul(tf.sum(dyy, -1, true), ty));
                };
          return { run, dispose: () => tf.dispose([tx, tdy, ty]) };
        },
        dispose: disposeAll(x, dy, y),
      };
    },
  };
}

/**
 * Mean softmax cross-entropy of [B, K] logits against integer labels, or the
 * AutoMix mixed form λ·CE(y_a) + (1 − λ)·CE(y_b) (TF.js: the same loss with
 * soft targets λ·onehot(y_a) + (1 − λ)·onehot(y_b)). Backward = dlogits.
 */
function crossEntropyCase(B: number, K: number, mixed: boolean, mode: 'forward' | 'backward'): BenchCase {
  const need = mixed ? 'mixedCrossEntropy' : 'crossEntropy';
  const lam = 0.3;
  return {
    kernel: `${mixed ? 'mixed ' : ''}cross-entropy${mode === 'backward' ? ' backward' : ''}`,
    name: `[${B}, ${K}]`,
    needs: [need],
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
      const ce = () => (mixed ? c.fn(need)(x, a, b, lam) : c.fn(need)(x, a));
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

/** BatchNorm2d in training mode over NCHW [N, C, H, W]; backward = dx. */
function batchNormCase(N: number, C: number, H: number, W: number, mode: 'forward' | 'backward'): BenchCase {
  const eps = 1e-5;
  return {
    kernel: mode === 'forward' ? 'batch norm' : 'batch norm backward',
    name: `[${N}, ${C}, ${H}, ${W}] train`,
    needs: ['batchNorm2d'],
    bound: 'memory',
    prepare(c) {
      const X = rand(N * C * H * W, 41, -2, 3);
      const G = rand(C, 42, 0.5, 1.5);
      const Bt = rand(C, 43);
      const DY = rand(N * C * H * W, 44);
      const x = up(c, X, [N, C, H, W]);
      const g = up(c, G, [C]);
      const b = up(c, Bt, [C]);
      const rm = up(c, new Float32Array(C), [C]);
      const rv = up(c, new Float32Array(C).fill(1), [C]);
      const dy = up(c, DY, [N, C, H, W]);
      const bn = () => c.fn('batchNorm2d')(x, g, b, rm, rv, { training: true, eps });
      const n = N * C * H * W;
      return {
        bytes: 4 * n * (mode === 'forward' ? 2 : 3),
        ours: mode === 'forward' ? fwd(bn) : bwd([x], bn, dy),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, C, H, W), [N, H, W, C]);
          const tg = tf.tensor1d(G);
          const tb = tf.tensor1d(Bt);
          const tdy = tf.tensor4d(nchwToNhwc(DY, N, C, H, W), [N, H, W, C]);
          const { mean, variance } = tf.moments(tx, [0, 1, 2]);
          const run =
            mode === 'forward'
              ? () => {
                  const m = tf.moments(tx, [0, 1, 2]);
                  return tf.batchNorm(tx, m.mean, m.variance, tb, tg, eps);
                }
              : () => {
                  // dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)), means over N, H, W
                  const rstd = tf.rsqrt(tf.add(variance, eps));
                  const xhat = tf.mul(tf.sub(tx, mean), rstd);
                  const mdy = tf.mean(tdy, [0, 1, 2]);
                  const mdyx = tf.mean(tf.mul(tdy, xhat), [0, 1, 2]);
                  return tf.mul(tf.mul(tg, rstd), tf.sub(tf.sub(tdy, mdy), tf.mul(xhat, mdyx)));
                };
          return { run, toOurs: (v) => nhwcToNchw(v, N, H, W, C), dispose: () => tf.dispose([tx, tg, tb, tdy, mean, variance]) };
        },
        dispose: disposeAll(x, g, b, rm, rv, dy),
      };
    },
  };
}

/** LayerNorm over the last axis of [B, L, D]; backward = dx. */
function layerNormCase(B: number, L: number, D: number, mode: 'forward' | 'backward'): BenchCase {
  const eps = 1e-5;
  return {
    kernel: mode === 'forward' ? 'layer norm' : 'layer norm backward',
    name: `[${B}, ${L}, ${D}]`,
    needs: ['layerNorm'],
    bound: 'memory',
    prepare(c) {
      const n = B * L * D;
      const X = rand(n, 51, -2, 3);
      const G = rand(D, 52, 0.5, 1.5);
      const Bt = rand(D, 53);
      const DY = rand(n, 54);
      const x = up(c, X, [B, L, D]);
      const g = up(c, G, [D]);
      const b = up(c, Bt, [D]);
      const dy = up(c, DY, [B, L, D]);
      const ln = () => c.fn('layerNorm')(x, g, b, eps);
      return {
        bytes: 4 * n * (mode === 'forward' ? 2 : 3),
        ours: mode === 'forward' ? fwd(ln) : bwd([x], ln, dy),
        tf: (tf) => {
          const tx = tf.tensor3d(X, [B, L, D]);
          const tg = tf.tensor1d(G);
          const tb = tf.tensor1d(Bt);
          const tdy = tf.tensor3d(DY, [B, L, D]);
          const run =
            mode === 'forward'
              ? () => {
                  const m = tf.moments(tx, -1, true);
                  return tf.add(tf.mul(tf.mul(tf.sub(tx, m.mean), tf.rsqrt(tf.add(m.variance, eps))), tg), tb);
                }
              : () => {
                  const m = tf.moments(tx, -1, true);
                  const rstd = tf.rsqrt(tf.add(m.variance, eps));
                  const xhat = tf.mul(tf.sub(tx, m.mean), rstd);
                  const dyw = tf.mul(tdy, tg);
                  const a = tf.mean(dyw, -1, true);
                  const bb = tf.mean(tf.mul(dyw, xhat), -1, true);
                  return tf.mul(rstd, tf.sub(tf.sub(dyw, a), tf.mul(xhat, bb)));
                };
          return { run, dispose: () => tf.dispose([tx, tg, tb, tdy]) };
        },
        dispose: disposeAll(x, g, b, dy),
      };
    },
  };
}

/** A one-input elementwise op on [shape]: ours(x) vs tf(x). */
function unaryCase(
  kernel: string,
  need: string,
  shape: number[],
  ours: (f: Fn, x: Tensor) => Tensor,
  theirs: (tf: TF, x: TfTensor) => TfTensor,
  flopsPerElem = 1,
): BenchCase {
  return {
    kernel,
    name: `[${shape.join(', ')}]`,
    needs: [need],
    bound: 'memory',
    prepare(c) {
      const n = prod(shape);
      const X = rand(n, 61, -3, 3);
      const x = up(c, X, shape);
      return {
        bytes: 8 * n,
        flops: flopsPerElem * n,
        ours: fwd(() => ours(c.fn(need), x)),
        tf: (tf) => {
          const tx = tf.tensor(X, shape);
          return { run: () => theirs(tf, tx), dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}

function binaryCase(
  kernel: string,
  need: string,
  shapeA: number[],
  shapeB: number[],
  ours: (f: Fn, a: Tensor, b: Tensor) => Tensor,
  theirs: (tf: TF, a: TfTensor, b: TfTensor) => TfTensor,
): BenchCase {
  return {
    kernel,
    name: `[${shapeA.join(', ')}] ∘ [${shapeB.join(', ')}]`,
    needs: [need],
    bound: 'memory',
    prepare(c) {
      const A = rand(prod(shapeA), 71);
      const B = rand(prod(shapeB), 72);
      const a = up(c, A, shapeA);
      const b = up(c, B, shapeB);
      return {
        bytes: 4 * (2 * prod(shapeA) + prod(shapeB)),
        flops: prod(shapeA),
        ours: fwd(() => ours(c.fn(need), a, b)),
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

/** Pooling over NCHW; TF.js pools NHWC. */
function poolCase(kernel: string, need: string, N: number, C: number, H: number, W: number, k: number | 'global'): BenchCase {
  const Ho = k === 'global' ? 1 : H / k;
  const Wo = k === 'global' ? 1 : W / k;
  return {
    kernel,
    name: k === 'global' ? `[${N}, ${C}, ${H}, ${W}]` : `[${N}, ${C}, ${H}, ${W}] k=${k}`,
    needs: [need],
    bound: 'memory',
    prepare(c) {
      const X = rand(N * C * H * W, 81);
      const x = up(c, X, [N, C, H, W]);
      const f = c.fn(need);
      return {
        bytes: 4 * (N * C * H * W + N * C * Ho * Wo),
        ours: fwd(() => (k === 'global' ? f(x) : f(x, k))),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, C, H, W), [N, H, W, C]);
          const run =
            k === 'global' ? () => tf.mean(tx, [1, 2]) : need === 'maxPool2d' ? () => tf.maxPool(tx, k, k, 'valid') : () => tf.avgPool(tx, k, k, 'valid');
          const toOurs = k === 'global' ? undefined : (v: Float32Array) => nhwcToNchw(v, N, Ho, Wo, C);
          return { run, ...(toOurs ? { toOurs } : {}), dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}

/** Integer-factor upsampling of NCHW (PyTorch semantics: bilinear align_corners=False). */
function upsampleCase(N: number, C: number, H: number, W: number, f: number, mode: 'nearest' | 'bilinear'): BenchCase {
  return {
    kernel: `upsample ${mode}`,
    name: `[${N}, ${C}, ${H}, ${W}] ×${f}`,
    needs: ['upsample'],
    bound: 'memory',
    prepare(c) {
      const X = rand(N * C * H * W, 91);
      const x = up(c, X, [N, C, H, W]);
      return {
        bytes: 4 * N * C * H * W * (1 + f * f),
        ours: fwd(() => c.fn('upsample')(x, f, mode)),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, N, C, H, W), [N, H, W, C]);
          const size: [number, number] = [H * f, W * f];
          const run =
            mode === 'bilinear'
              ? () => tf.image.resizeBilinear(tx as never, size, false, true)
              : () => tf.image.resizeNearestNeighbor(tx as never, size, false, false);
          return { run, toOurs: (v) => nhwcToNchw(v, N, H * f, W * f, C), dispose: () => tf.dispose(tx) };
        },
        dispose: disposeAll(x),
      };
    },
  };
}

/** Multi-head attention softmax(q·kᵀ/√dh)·v on [B, H, L, dh]; backward = dq, dk, dv. */
function mhaCase(B: number, H: number, L: number, dh: number, mode: 'forward' | 'backward'): BenchCase {
  const scale = 1 / Math.sqrt(dh);
  return {
    kernel: mode === 'forward' ? 'multi-head attention' : 'multi-head attention backward',
    name: `B=${B} H=${H} L=${L} dh=${dh}`,
    needs: ['attention'],
    bound: 'compute',
    prepare(c) {
      const n = B * H * L * dh;
      const Q = rand(n, 101);
      const K = rand(n, 102);
      const V = rand(n, 103);
      const DO = rand(n, 104);
      const shape = [B, H, L, dh];
      const q = up(c, Q, shape);
      const k = up(c, K, shape);
      const v = up(c, V, shape);
      const dO = up(c, DO, shape);
      const att = () => c.fn('attention')(q, k, v);
      return {
        flops: (mode === 'forward' ? 4 : 8) * B * H * L * L * dh,
        bytes: 4 * n * (mode === 'forward' ? 4 : 7),
        ours: mode === 'forward' ? fwd(att) : bwd([q, k, v], att, dO),
        tf: (tf) => {
          const tq = tf.tensor4d(Q, shape as [number, number, number, number]);
          const tk = tf.tensor4d(K, shape as [number, number, number, number]);
          const tv = tf.tensor4d(V, shape as [number, number, number, number]);
          const tdo = tf.tensor4d(DO, shape as [number, number, number, number]);
          const P = tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale));
          const run =
            mode === 'forward'
              ? () => tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale)), tv)
              : () => {
                  const dv = tf.matMul(P, tdo, true, false);
                  const dP = tf.matMul(tdo, tv, false, true);
                  const dS = tf.mul(tf.mul(P, tf.sub(dP, tf.sum(tf.mul(P, dP), -1, true))), scale);
                  return [tf.matMul(dS, tk), tf.matMul(dS, tq, true, false), dv];
                };
          return { run, dispose: () => tf.dispose([tq, tk, tv, tdo, P]) };
        },
        dispose: disposeAll(q, k, v, dO),
      };
    },
  };
}

/**
 * AutoMix Mix Block (docs/method.md §2.2): from features z [N, C, S, S] and π, the
 * shared 1×1 query/key projection C→d, the 1×1 value projection of z[π]
 * C→1, A = softmax(Q·K/√d) over the partner's L = S² positions and the mask
 * logits s = A·v: [N, 1, S, S]. Backward (docs/method.md §2.3): the gradients of the
 * four projection parameters (none flows to z). TF.js: the same steps as
 * tensor ops on NHWC features, the backward written out from the saved A, Q,
 * K, v as TF.js's own gradients would compute it.
 */
function mixBlockCase(N: number, C: number, S: number, mode: 'forward' | 'backward'): BenchCase {
  const d = C / 2;
  const L = S * S;
  const scale = 1 / Math.sqrt(d);
  const projFlops = 2 * N * L * C * (2 * d + 1);
  const attnFlops = 2 * N * L * L * d + 2 * N * L * L;
  return {
    kernel: mode === 'forward' ? 'mix block attention' : 'mix block attention backward',
    name: `${S}×${S} N=${N} C=${C} d=${d}`,
    needs: ['mixBlockLogits'],
    bound: 'compute',
    prepare(c) {
      const Z = rand(N * C * L, 111);
      const Wq = rand(d * C, 112, -0.1, 0.1);
      const Bq = rand(d, 113, -0.1, 0.1);
      const Wv = rand(C, 114, -0.1, 0.1);
      const Bv = rand(1, 115, -0.1, 0.1);
      const DS = rand(N * L, 116);
      const perm = Int32Array.from({ length: N }, (_, i) => (i * 37 + 11) % N);
      const z = up(c, Z, [N, C, S, S]);
      const p = up(c, perm, [N]);
      const wq = up(c, Wq, [d, C]);
      const bq = up(c, Bq, [d]);
      const wv = up(c, Wv, [1, C]);
      const bv = up(c, Bv, [1]);
      const ds = up(c, DS, [N, 1, S, S]);
      const mb = () => c.fn('mixBlockLogits')(z, p, wq, bq, wv, bv, {});
      return {
        // backward: the attention part twice (dA, dQ, dK) plus the weight gradients
        flops: mode === 'forward' ? projFlops + attnFlops : projFlops + 2 * attnFlops,
        bytes: 4 * (N * C * L * 2 + d * C + N * L),
        ours: mode === 'forward' ? fwd(mb) : bwd([wq, bq, wv, bv], mb, ds),
        tf: (tf) => {
          const zt = tf.tensor4d(nchwToNhwc(Z, N, C, S, S), [N, S, S, C]);
          const tp = tf.tensor1d(perm, 'int32');
          const twq = tf.tensor2d(Wq, [d, C]);
          const tbq = tf.tensor1d(Bq);
          const twv = tf.tensor2d(Wv, [1, C]);
          const tbv = tf.tensor1d(Bv);
          const tds = tf.tensor3d(DS, [N, L, 1]);
          const forward = () => {
            const za = tf.reshape(zt, [N * L, C]);
            const zb = tf.reshape(tf.gather(zt, tp), [N * L, C]);
            const Q = tf.reshape(tf.add(tf.matMul(za, twq, false, true), tbq), [N, L, d]);
            const K = tf.reshape(tf.add(tf.matMul(zb, twq, false, true), tbq), [N, L, d]);
            const v = tf.reshape(tf.add(tf.matMul(zb, twv, false, true), tbv), [N, L, 1]);
            const A = tf.softmax(tf.mul(tf.matMul(Q, K, false, true), scale));
            return { za, zb, Q, K, v, A, s: tf.matMul(A, v) };
          };
          const saved = forward();
          const run =
            mode === 'forward'
              ? () => tf.reshape(forward().s, [N, 1, S, S])
              : () => {
                  const { za, zb, Q, K, v, A } = saved;
                  const dv = tf.matMul(A, tds, true, false); // [N, L, 1]
                  const dA = tf.matMul(tds, v, false, true); // [N, L, L]
                  const dU = tf.mul(tf.mul(A, tf.sub(dA, tf.sum(tf.mul(A, dA), -1, true))), scale);
                  const dQ = tf.reshape(tf.matMul(dU, K), [N * L, d]);
                  const dK = tf.reshape(tf.matMul(dU, Q, true, false), [N * L, d]);
                  const dWq = tf.add(tf.matMul(dQ, za, true, false), tf.matMul(dK, zb, true, false));
                  const dBq = tf.add(tf.sum(dQ, 0), tf.sum(dK, 0));
                  const dv2 = tf.reshape(dv, [N * L, 1]);
                  return [dWq, dBq, tf.matMul(dv2, zb, true, false), tf.sum(dv2, 0)];
                };
          return { run, dispose: () => tf.dispose([zt, tp, twq, tbq, twv, tbv, tds, ...Object.values(saved)]) };
        },
        dispose: disposeAll(z, p, wq, bq, wv, bv, ds),
      };
    },
  };
}

/** Mixup / masked blend of a batch with its permutation, [N, C, H, W]. */
function mixCase(kind: 'mixup' | 'maskedBlend', N: number, C: number, H: number, W: number): BenchCase {
  return {
    kernel: kind === 'mixup' ? 'mixup' : 'masked blend',
    name: `[${N}, ${C}, ${H}, ${W}]`,
    needs: [kind],
    bound: 'memory',
    prepare(c) {
      const n = N * C * H * W;
      const X = rand(n, 121);
      const M = rand(N * H * W, 122, 0, 1);
      const perm = Int32Array.from({ length: N }, (_, i) => (i * 7 + 3) % N);
      const x = up(c, X, [N, C, H, W]);
      const m = up(c, M, [N, 1, H, W]);
      const p = up(c, perm, [N]);
      const lam = 0.3;
      return {
        bytes: 4 * (3 * n + (kind === 'maskedBlend' ? N * H * W : 0)),
        ours: fwd(() => (kind === 'mixup' ? c.fn('mixup')(x, p, lam) : c.fn('maskedBlend')(x, m, p))),
        tf: (tf) => {
          const tx = tf.tensor4d(X, [N, C, H, W]);
          const tm = tf.tensor4d(M, [N, 1, H, W]);
          const tp = tf.tensor1d(perm, 'int32');
          const run =
            kind === 'mixup'
              ? () => tf.add(tf.mul(tx, lam), tf.mul(tf.gather(tx, tp), 1 - lam))
              : () => tf.add(tf.mul(tf.sub(1, tm), tx), tf.mul(tm, tf.gather(tx, tp)));
          return { run, dispose: () => tf.dispose([tx, tm, tp]) };
        },
        dispose: disposeAll(x, m, p),
      };
    },
  };
}

/** ResNet-18 (CIFAR) parameter shapes, 11.17 M parameters, for the optimiser cases. */
function resnet18Shapes(): number[][] {
  const s: number[][] = [[64, 3, 3, 3], [64], [64]];
  let cin = 64;
  for (const [cout, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ] as const) {
    for (let blk = 0; blk < 2; blk++) {
      const ci = blk === 0 ? cin : cout;
      s.push([cout, ci, 3, 3], [cout], [cout], [cout, cout, 3, 3], [cout], [cout]);
      if (blk === 0 && (stride !== 1 || ci !== cout)) s.push([cout, ci, 1, 1], [cout], [cout]);
    }
    cin = cout;
  }
  s.push([10, 512], [10]);
  return s;
}

/** One optimiser step over a ResNet-18-sized ParamSet; TF.js: the same update as tensor ops. */
function optimCase(kind: 'AdamW' | 'SGD'): BenchCase {
  return {
    kernel: kind === 'AdamW' ? 'adamw step' : 'sgd momentum step',
    name: 'ResNet-18 params (11.2 M)',
    needs: [`optim:${kind}`, 'nn:ParamSet'],
    bound: 'memory',
    prepare(c) {
      const shapes = resnet18Shapes();
      const specs = shapes.map((shape, i) => ({ name: `p${i}`, shape, init: rand(prod(shape), 200 + i, -0.1, 0.1) }));
      const n = shapes.reduce((a, s) => a + prod(s), 0);
      const ParamSet = c.fn('nn:ParamSet') as unknown as new (
        e: Engine,
        specs: unknown[],
        label?: string,
      ) => {
        grads: Tensor[];
        params: Tensor[];
        dispose(): void;
      };
      const set = new ParamSet(c.engine, specs, 'bench');
      const G = specs.map((s, i) => rand(s.init.length, 300 + i, -0.01, 0.01));
      set.grads.forEach((g, i) => g.write(G[i]!));
      const lr = 0.01;
      const wd = kind === 'AdamW' ? 0.05 : 5e-4;
      const Opt = c.fn(`optim:${kind}`) as unknown as new (groups: unknown[]) => { step(): void; dispose?(): void };
      const opt = kind === 'AdamW' ? new Opt([{ params: set, lr, weightDecay: wd }]) : new Opt([{ params: set, lr, momentum: 0.9, weightDecay: wd }]);
      let steps = 0;
      return {
        // AdamW: read p, g, m, v; write p, m, v. SGD: read p, g, buf; write p, buf.
        bytes: 4 * n * (kind === 'AdamW' ? 7 : 5),
        flops: n * (kind === 'AdamW' ? 12 : 5),
        ours: {
          run: () => {
            opt.step();
            steps++;
            return set.params.slice(0, 1);
          },
          after: () => {},
        },
        tf: (tf) => {
          // The same update rule as TF.js tensor ops on variables (the first
          // call, the checked one, starts from the same state as ours did).
          const P = specs.map((s) => tf.variable(tf.tensor(s.init, s.shape)));
          const Gt = specs.map((s, i) => tf.tensor(G[i]!, s.shape));
          const M = specs.map((s) => tf.variable(tf.zeros(s.shape)));
          const V = specs.map((s) => tf.variable(tf.zeros(s.shape)));
          let t = 0;
          const b1 = 0.9;
          const b2 = 0.999;
          const run = () => {
            t++;
            for (let i = 0; i < P.length; i++) {
              if (kind === 'AdamW') {
                const m = tf.add(tf.mul(M[i]!, b1), tf.mul(Gt[i]!, 1 - b1));
                const v = tf.add(tf.mul(V[i]!, b2), tf.mul(tf.square(Gt[i]!), 1 - b2));
                const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** t)), 1e-8);
                const p = tf.sub(tf.mul(P[i]!, 1 - lr * wd), tf.mul(tf.div(m, denom), lr / (1 - b1 ** t)));
                M[i]!.assign(m);
                V[i]!.assign(v);
                P[i]!.assign(p);
              } else {
                const d = tf.add(Gt[i]!, tf.mul(P[i]!, wd));
                const buf = t === 1 ? d : tf.add(tf.mul(M[i]!, 0.9), d);
                M[i]!.assign(buf);
                P[i]!.assign(tf.sub(P[i]!, tf.mul(buf, lr)));
              }
            }
            return tf.clone(P[0]!);
          };
          return { run, dispose: () => tf.dispose([...P, ...Gt, ...M, ...V]) };
        },
        dispose: () => {
          opt.dispose?.();
          set.dispose();
          void steps;
        },
      };
    },
  };
}

// ---- the registry --------------------------------------------------------

const conv3x3 = (N: number, C: number, HW: number, stride = 1, Cout = C): ConvShape => ({ N, Cin: C, Cout, H: HW, W: HW, k: 3, stride, pad: 1 });
const MAIN_CONV = conv3x3(32, 64, 32);

export const CASES: BenchCase[] = [
  matmulCase(256),
  matmulCase(512),
  matmulCase(1024),
  matmulCase(2048),

  convCase('3×3 N=32 64→64 32×32', MAIN_CONV, 'forward'),
  convCase('3×3 N=32 64→64 32×32', MAIN_CONV, 'grad-input'),
  convCase('3×3 N=32 64→64 32×32', MAIN_CONV, 'grad-weight'),
  // CIFAR ResNet-18 layer shapes at batch 32: stem, layer2–4 3×3 convs, a stride-2 downsample.
  convCase('ResNet stem 3→64 32×32', { N: 32, Cin: 3, Cout: 64, H: 32, W: 32, k: 3, stride: 1, pad: 1 }, 'forward'),
  convCase('ResNet layer2 128→128 16×16', conv3x3(32, 128, 16), 'forward'),
  convCase('ResNet layer3 256→256 8×8', conv3x3(32, 256, 8), 'forward'),
  convCase('ResNet layer4 512→512 4×4', conv3x3(32, 512, 4), 'forward'),
  convCase('ResNet down 64→128 s2 32×32', conv3x3(32, 64, 32, 2, 128), 'forward'),

  // ViT-tiny patch embedding: 32×32×3 images, 4×4 patches, D = 192 → [B, 64, 192].
  {
    kernel: 'patch embedding',
    name: 'ViT-tiny B=32 32×32 p=4 D=192',
    needs: ['patchEmbed'],
    bound: 'compute',
    prepare(c) {
      const [B, C, S, P, D] = [32, 3, 32, 4, 192];
      const L = (S / P) ** 2;
      const X = rand(B * C * S * S, 131);
      const Wt = rand(D * C * P * P, 132, -0.1, 0.1);
      const Bs = rand(D, 133);
      const x = up(c, X, [B, C, S, S]);
      const w = up(c, Wt, [D, C, P, P]);
      const b = up(c, Bs, [D]);
      return {
        flops: 2 * B * L * D * C * P * P,
        bytes: 4 * (B * C * S * S + D * C * P * P + B * L * D),
        ours: fwd(() => c.fn('patchEmbed')(x, w, b, P)),
        tf: (tf) => {
          const tx = tf.tensor4d(nchwToNhwc(X, B, C, S, S), [B, S, S, C]);
          const tw = tf.tensor4d(oihwToHwio(Wt, D, C, P, P), [P, P, C, D]);
          const tb = tf.tensor1d(Bs);
          return { run: () => tf.reshape(tf.add(tf.conv2d(tx, tw, P, 'valid'), tb), [B, L, D]), dispose: () => tf.dispose([tx, tw, tb]) };
        },
        dispose: disposeAll(x, w, b),
      };
    },
  },

  softmaxCase(4096, 1024, 'forward'),
  softmaxCase(4096, 1024, 'backward'),
  crossEntropyCase(128, 10, false, 'forward'),
  crossEntropyCase(128, 10, false, 'backward'),
  crossEntropyCase(128, 10, true, 'forward'),
  crossEntropyCase(128, 10, true, 'backward'),

  batchNormCase(32, 64, 32, 32, 'forward'),
  batchNormCase(32, 64, 32, 32, 'backward'),
  layerNormCase(32, 64, 192, 'forward'),
  layerNormCase(32, 64, 192, 'backward'),

  poolCase('max pool', 'maxPool2d', 32, 64, 32, 32, 2),
  poolCase('avg pool', 'avgPool2d', 32, 64, 32, 32, 2),
  poolCase('global avg pool', 'globalAvgPool', 32, 512, 4, 4, 'global'),

  unaryCase(
    'relu',
    'relu',
    [32, 64, 32, 32],
    (f, x) => f(x),
    (tf, x) => tf.relu(x),
  ),
  unaryCase(
    'gelu',
    'gelu',
    [32, 64, 768],
    (f, x) => f(x),
    (tf, x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
    8,
  ),
  unaryCase(
    'sigmoid',
    'sigmoid',
    [32, 64, 32, 32],
    (f, x) => f(x),
    (tf, x) => tf.sigmoid(x),
    4,
  ),
  binaryCase(
    'add',
    'add',
    [32, 64, 32, 32],
    [32, 64, 32, 32],
    (f, a, b) => f(a, b),
    (tf, a, b) => tf.add(a, b),
  ),
  binaryCase(
    'add (broadcast)',
    'add',
    [32, 64, 32, 32],
    [64, 1, 1],
    (f, a, b) => f(a, b),
    (tf, a, b) => tf.add(a, b),
  ),
  unaryCase(
    'sum (all)',
    'sum',
    [4096, 1024],
    (f, x) => f(x),
    (tf, x) => tf.sum(x),
  ),

  upsampleCase(100, 1, 8, 8, 4, 'bilinear'),
  upsampleCase(32, 64, 16, 16, 2, 'nearest'),

  mixCase('mixup', 100, 3, 32, 32),
  mixCase('maskedBlend', 100, 3, 32, 32),

  mixBlockCase(100, 256, 8, 'forward'),
  mixBlockCase(100, 256, 8, 'backward'),
  mixBlockCase(100, 256, 16, 'forward'),
  mixBlockCase(100, 256, 16, 'backward'),

  mhaCase(32, 3, 64, 64, 'forward'),
  mhaCase(32, 3, 64, 64, 'backward'),

  optimCase('SGD'),
  optimCase('AdamW'),
];

/**
 * Whole training steps (images/s). The trainer engineer fills `make`: build
 * the model, a fixed batch and the optimiser on `engine`, and return
 * `{ step, imagesPerStep }`; the bench times `step()` + engine.sync() on the
 * wall clock. Until then the row says "not available yet".
 */
// Batch 100 (the CIFAR recipe) on GPUs; 32 on software adapters, where one
// AutoMix ViT step at 100 would take minutes. images/s is per image either way.
export function stepCases(software: boolean): StepCase[] {
  const b = software ? 32 : 100;
  return [
    {
      name: `ResNet-18 ×0.25 CIFAR, vanilla, batch ${b}`,
      make: makeStep('resnet18', 0.25, 'none', b),
      tf: (tf, ours) => makeTfResNet18Step(tf, 0.25, ours.inputs!.xHost, ours.inputs!.yHost),
    },
    { name: `ResNet-18 ×0.25 CIFAR, AutoMix, batch ${b}`, make: makeStep('resnet18', 0.25, 'automix', b) },
    { name: `ViT-tiny CIFAR, vanilla, batch ${b}`, make: makeStep('vit-tiny', 1, 'none', b) },
    { name: `ViT-tiny CIFAR, AutoMix, batch ${b}`, make: makeStep('vit-tiny', 1, 'automix', b) },
  ];
}
export const STEPS: StepCase[] = stepCases(false);
