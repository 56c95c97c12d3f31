/**
 * The TF.js side of the whole-training-step rows (`npm run bench -- --vs tfjs`):
 * the same CIFAR ResNet-18 as src/models/resnet.ts, built from TF.js ops on
 * tf.variable()s in NHWC (TF.js's native and only WebGPU conv layout) with
 * HWIO filters.
 *
 * - 3×3 stem (stride 1, pad 1, no max-pool), BasicBlocks [2, 2, 2, 2] with
 *   64w/128w/256w/512w channels, stride 2 at the first block of stages 2–4,
 *   1×1 stride-2 conv + BN on the shortcut where the shape changes, global
 *   average pool, FC to 10 classes. Convolutions have no bias; padding is
 *   PyTorch's symmetric pad 1 (explicit, not TF's 'same', which pads a
 *   stride-2 conv asymmetrically).
 * - Initialisation as ours: Kaiming-normal (fan-out) convs, BN γ = 1 and β = 0
 *   except γ = 0 on each block's last BN (zero_init_residual), FC weight
 *   N(0, 0.01), bias 0.
 * - Batch norm in train mode with batch statistics: tf.moments over N, H, W
 *   (biased variance) and tf.batchNorm (ε = 1e-5), gradients through the
 *   statistics; running mean/var are updated with momentum 0.1 (unbiased
 *   variance), as ours and PyTorch do.
 * - Loss: mean softmax cross-entropy on the logits (tf.losses.softmaxCrossEntropy
 *   with one-hot labels).
 * - Update: tf.train.momentum(lr 0.1, 0.9) on gradient + 1e-4·param for every
 *   trainable variable (coupled weight decay, torch.optim.SGD's and ours;
 *   TF.js's momentum accumulator starts at zero, so its first step equals
 *   PyTorch's buf = d).
 *
 * One step = tf.variableGrads (forward + backward) + applyGradients, then an
 * awaited read of the loss: the read is queued after the update's dispatches,
 * so it resolves once the whole step has run on the GPU.
 */
import { nchwToNhwc, oneHot } from './data.js';
import { settleTf, type TF, type TfTensor } from './tfjs.js';

export interface TfStepBench {
  /** One training step; resolves with its loss once the GPU has finished it. */
  step: () => Promise<number>;
  imagesPerStep: number;
  dispose: () => void;
}

type Var = import('@tensorflow/tfjs').Variable;

let instances = 0;

/** Deterministic normal samples (Box–Muller on xorshift32); host-side, so both runs of a bench get the same weights. */
function normal(n: number, std: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/**
 * A ResNet-18 (CIFAR, width multiplier `width`) training step in TF.js on
 * the batch `xHost` [N, 3, 32, 32] (NCHW, converted to NHWC here) with labels
 * `yHost` (10 classes).
 */
export function makeTfResNet18Step(tf: TF, width: number, xHost: Float32Array, yHost: Int32Array, numClasses = 10, cpuAdapter = false): TfStepBench {
  const N = yHost.length;
  const [C, H, W] = [3, 32, 32];
  if (xHost.length !== N * C * H * W) throw new Error(`TF.js step: expected ${N}×${C}×${H}×${W} inputs, got ${xHost.length} values`);
  const prefix = `benchResNet18_${instances++}`;
  const vars: Var[] = [];
  const stats: Var[] = [];
  let seed = 1000;
  const param = (name: string, shape: number[], values: Float32Array): Var => {
    // In a tidy, so that the initial-value tensor does not outlive the variable's copy of it.
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `${prefix}/${name}`));
    vars.push(v);
    return v;
  };
  const conv = (name: string, k: number, cin: number, cout: number) =>
    param(name, [k, k, cin, cout], normal(k * k * cin * cout, Math.sqrt(2 / (cout * k * k)), seed++));
  interface Bn {
    gamma: Var;
    beta: Var;
    mean: Var;
    variance: Var;
  }
  const bn = (name: string, ch: number, zeroInit = false): Bn => {
    const b: Bn = {
      gamma: param(`${name}.weight`, [ch], new Float32Array(ch).fill(zeroInit ? 0 : 1)),
      beta: param(`${name}.bias`, [ch], new Float32Array(ch)),
      mean: tf.tidy(() => tf.variable(tf.zeros([ch]), false, `${prefix}/${name}.running_mean`)),
      variance: tf.tidy(() => tf.variable(tf.ones([ch]), false, `${prefix}/${name}.running_var`)),
    };
    stats.push(b.mean, b.variance);
    return b;
  };

  const w = (c: number) => Math.max(1, Math.round(c * width));
  const stemC = w(64);
  const stem = { conv: conv('conv1.weight', 3, C, stemC), bn: bn('bn1', stemC) };
  interface Block {
    stride: number;
    conv1: Var;
    bn1: Bn;
    conv2: Var;
    bn2: Bn;
    down: { conv: Var; bn: Bn } | null;
  }
  const blocks: Block[] = [];
  let inC = stemC;
  for (let s = 0; s < 4; s++) {
    const planes = w(64 * 2 ** s);
    for (let i = 0; i < 2; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const n = `layer${s + 1}.${i}`;
      blocks.push({
        stride,
        conv1: conv(`${n}.conv1.weight`, 3, inC, planes),
        bn1: bn(`${n}.bn1`, planes),
        conv2: conv(`${n}.conv2.weight`, 3, planes, planes),
        bn2: bn(`${n}.bn2`, planes, true),
        down: stride !== 1 || inC !== planes ? { conv: conv(`${n}.downsample.0.weight`, 1, inC, planes), bn: bn(`${n}.downsample.1`, planes) } : null,
      });
      inC = planes;
    }
  }
  const fcW = param('fc.weight', [inC, numClasses], normal(inC * numClasses, 0.01, seed++));
  const fcB = param('fc.bias', [numClasses], new Float32Array(numClasses));

  const x = tf.tensor4d(nchwToNhwc(xHost, N, C, H, W), [N, H, W, C]);
  const y = tf.tensor2d(oneHot(yHost, numClasses), [N, numClasses]);

  const pad1: [[0, 0], [1, 1], [1, 1], [0, 0]] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];
  const conv2d = (h: TfTensor, f: Var, stride: number) =>
    tf.conv2d(h as import('@tensorflow/tfjs').Tensor4D, f as unknown as import('@tensorflow/tfjs').Tensor4D, stride, f.shape[0] === 3 ? pad1 : 'valid');
  const momentum = 0.1;
  const batchNorm = (h: TfTensor, b: Bn) => {
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    // Running statistics (not on the loss's path, so no gradient flows through them).
    const count = h.size / b.mean.size;
    b.mean.assign(tf.add(tf.mul(b.mean, 1 - momentum), tf.mul(mean, momentum)));
    b.variance.assign(tf.add(tf.mul(b.variance, 1 - momentum), tf.mul(variance, (momentum * count) / (count - 1))));
    return tf.batchNorm(h as import('@tensorflow/tfjs').Tensor4D, mean, variance, b.beta, b.gamma, 1e-5);
  };
  const lossFn = () => {
    let h = tf.relu(batchNorm(conv2d(x, stem.conv, 1), stem.bn));
    for (const blk of blocks) {
      const r = batchNorm(conv2d(tf.relu(batchNorm(conv2d(h, blk.conv1, blk.stride), blk.bn1)), blk.conv2, 1), blk.bn2);
      const sc = blk.down ? batchNorm(conv2d(h, blk.down.conv, blk.stride), blk.down.bn) : h;
      h = tf.relu(tf.add(r, sc));
    }
    const feat = tf.mean(h, [1, 2]);
    const logits = tf.add(tf.matMul(feat as import('@tensorflow/tfjs').Tensor2D, fcW), fcB);
    return tf.losses.softmaxCrossEntropy(y, logits) as import('@tensorflow/tfjs').Scalar;
  };

  const weightDecay = 1e-4;
  const opt = tf.train.momentum(0.1, 0.9);
  const byName = new Map(vars.map((v) => [v.name, v]));
  const step = async (): Promise<number> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossFn, vars);
      const decayed = Object.entries(grads).map(([name, g]) => ({ name, tensor: tf.add(g, tf.mul(byName.get(name)!, weightDecay)) }));
      opt.applyGradients(decayed);
      return value;
    });
    try {
      await settleTf(tf, cpuAdapter); // waits as our engine.sync() does on this adapter
      return (await loss.data())[0]!;
    } finally {
      loss.dispose();
    }
  };
  return {
    step,
    imagesPerStep: N,
    dispose: () => {
      opt.dispose();
      tf.dispose([x, y, ...vars, ...stats]);
    },
  };
}
