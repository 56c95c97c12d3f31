/**
 * conv2d (src/ops/conv2d.ts) forward, and its input and weight gradients
 * through autograd. TF.js convolves NHWC / HWIO (its native and only WebGPU
 * layout), so it gets transposed copies of the same data.
 */
import type { TfTensor } from '../tfjs.js';
import { conv2d } from '../../src/ops/conv2d.js';
import { hwioToOihw, nchwToNhwc, nhwcToNchw, oihwToHwio, rand } from '../data.js';
import { bwd, disposeAll, fwd, up } from './helpers.js';
import type { BenchCase } from './types.js';

export interface ConvShape {
  N: number;
  Cin: number;
  Cout: number;
  H: number;
  W: number;
  k: number;
  stride: number;
  pad: number;
}

/** A 3×3, padding-1 convolution of [N, C, HW, HW] to Cout channels. */
export const conv3x3 = (N: number, C: number, HW: number, stride = 1, Cout = C): ConvShape => ({ N, Cin: C, Cout, H: HW, W: HW, k: 3, stride, pad: 1 });

export function convCase(name: string, s: ConvShape, mode: 'forward' | 'grad-input' | 'grad-weight'): BenchCase {
  const { N, Cin, Cout, H, W, k, stride, pad } = s;
  const Ho = Math.floor((H + 2 * pad - k) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - k) / stride) + 1;
  return {
    kernel: mode === 'forward' ? 'conv2d' : `conv2d ${mode}`,
    name,
    bound: 'compute',
    prepare(c) {
      const X = rand(N * Cin * H * W, 11);
      const Wt = rand(Cout * Cin * k * k, 12, -0.1, 0.1);
      const DY = rand(N * Cout * Ho * Wo, 13);
      const x = up(c, X, [N, Cin, H, W]);
      const w = up(c, Wt, [Cout, Cin, k, k]);
      const dy = up(c, DY, [N, Cout, Ho, Wo]);
      const conv = () => conv2d(x, w, null, { stride, padding: pad });
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
