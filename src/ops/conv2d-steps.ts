/**
 * What a conv2d path is as data: the dispatch list of one pass
 * (src/ops/dispatch-list.ts) over the pass's named buffers, and the sizes of
 * its temporaries. Each path file builds one from the shape; the op runs it
 * (src/ops/conv2d.ts) and the tuning family times it (src/ops/conv2d-tuning.ts).
 */
import type { DispatchStep } from './dispatch-list.js';

/**
 * The operands 'x', 'w', 'bias', 'dy' and the pass's output 'out', then the
 * temporaries: the sg path's packed weight 'wp'; im2col's 'col', 'wm', 'ym', 'wf', 'dcol', 'dym', 'dyt', 'dwm';
 * the direct path's 'xs', 'wt', 'dyp'; the partial sums 'part' of split-K and
 * of igemm's grad-weight.
 */
export type Conv2dBuffer =
  | 'x'
  | 'w'
  | 'bias'
  | 'dy'
  | 'out'
  | 'wp'
  | 'col'
  | 'wm'
  | 'ym'
  | 'wf'
  | 'dcol'
  | 'dym'
  | 'dyt'
  | 'dwm'
  | 'xs'
  | 'wt'
  | 'dyp'
  | 'part';

/** One pass of a path: its dispatches, and its temporaries' sizes (f32 elements), allocated for the pass and released after it. */
export interface Conv2dSteps {
  temps: Partial<Record<Conv2dBuffer, number>>;
  steps: DispatchStep<Conv2dBuffer>[];
}
