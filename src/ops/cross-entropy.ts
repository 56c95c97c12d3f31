/**
 * Fused log-softmax + cross-entropy (kernels/cross_entropy.wgsl): the plain
 * form with one label per sample and the mixed form used by mixup/AutoMix,
 *   mean_n [ λ_n·CE(x_n, y_a) + (1 − λ_n)·CE(x_n, y_b) ].
 * The forward makes one pass per row and saves the log-sum-exp; the backward
 * is one elementwise kernel. Gradients flow to the logits only.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, groups, sameEngine } from './launch.js';
import { sumRowsRaw } from './reduce.js';
import { rowLaunch, rowWorkgroupSize } from './softmax.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /** labelsB when mixed, the per-sample λ tensor when λ is one */
    crossEntropy: { attrs: CeAttrs; saved: [logits: Tensor, lse: Tensor, labelsA: Tensor, labelsB?: Tensor, lam?: Tensor] };
  }
}

interface CeAttrs {
  mixed: boolean;
  /** Scalar λ (when no per-sample tensor is given). */
  lam: number;
}

function checkLabels(op: string, logits: Tensor, labels: Tensor, name: string): void {
  if (labels.dtype !== 'i32') throw new ShapeError(`${op}: ${name} must be an i32 tensor, got ${labels.dtype} ${fmtShape(labels.shape)}`);
  if (labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new ShapeError(`${op}: ${name} must have shape [${logits.shape[0]}] for logits ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}`);
  }
}

function checkLogits(op: string, logits: Tensor): void {
  assertF32(op, logits);
  if (logits.ndim !== 2) throw new ShapeError(`${op}: logits must be [N, C], got ${fmtShape(logits.shape)}`);
  if (logits.shape[0] === 0 || logits.shape[1] === 0) throw new ShapeError(`${op}: empty logits ${fmtShape(logits.shape)}`);
}

/**
 * The forward launch: returns the scalar mean loss and the per-row
 * log-sum-exp [N] that the backward needs.
 */
function forwardRaw(logits: Tensor, la: Tensor, lb: Tensor | null, lam: number, lamT: Tensor | null): { loss: Tensor; lse: Tensor } {
  const e = logits.engine;
  const [rows, cols] = logits.shape as [number, number];
  const rowLoss = e.empty([rows]);
  const lse = e.empty([rows]);
  const l = rowLaunch(e, rows, cols);
  e.run('cross_entropy', `fwd_${l.suffix}`, {
    bind: { x: logits, la, lb: lb ?? la, lamv: lamT ?? e.placeholder(), loss: rowLoss, lse_out: lse },
    params: { rows, cols, lam },
    constants: { WG: l.WG, MIXED: lb ? 1 : 0, LAM_PER_SAMPLE: lamT ? 1 : 0 },
    workgroups: l.workgroups,
  });
  const mean = sumRowsRaw(rowLoss, 1, rows, 1 / rows);
  rowLoss.dispose();
  return { loss: e._viewOwned(mean, []), lse };
}

/** Mean over the batch of −log softmax(logits)[n, labels[n]]. labels: i32 [N]. */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  checkLogits('crossEntropy', logits);
  sameEngine('crossEntropy', logits, labels);
  checkLabels('crossEntropy', logits, labels, 'labels');
  const { loss, lse } = forwardRaw(logits, labels, null, 1, null);
  const attrs: CeAttrs = { mixed: false, lam: 1 };
  const out = record(loss, 'crossEntropy', [logits], [logits, lse, labels], attrs);
  lse.dispose(); // the graph holds its own reference
  return out;
}

/**
 * Mean over n of λ_n·CE(logits_n, labelsA_n) + (1 − λ_n)·CE(logits_n, labelsB_n).
 * `lam` is one number for the batch or an f32 tensor [N] of per-sample weights
 * (not differentiated).
 */
export function mixedCrossEntropy(logits: Tensor, labelsA: Tensor, labelsB: Tensor, lam: number | Tensor): Tensor {
  const op = 'mixedCrossEntropy';
  checkLogits(op, logits);
  checkLabels(op, logits, labelsA, 'labelsA');
  checkLabels(op, logits, labelsB, 'labelsB');
  let lamT: Tensor | null = null;
  let lamS = 0;
  if (typeof lam === 'number') {
    if (!Number.isFinite(lam)) throw new ShapeError(`${op}: λ must be a finite number, got ${lam}`);
    lamS = lam;
  } else {
    assertF32(op, lam);
    if (lam.ndim !== 1 || lam.shape[0] !== logits.shape[0]) {
      throw new ShapeError(`${op}: per-sample λ must have shape [${logits.shape[0]}] for logits ${fmtShape(logits.shape)}, got ${fmtShape(lam.shape)}`);
    }
    lamT = lam;
  }
  sameEngine(op, logits, labelsA, labelsB, ...(lamT ? [lamT] : []));
  const { loss, lse } = forwardRaw(logits, labelsA, labelsB, lamS, lamT);
  const attrs: CeAttrs = { mixed: true, lam: lamS };
  const saved: [Tensor, Tensor, Tensor, Tensor, Tensor?] = lamT ? [logits, lse, labelsA, labelsB, lamT] : [logits, lse, labelsA, labelsB];
  const out = record(loss, 'crossEntropy', [logits], saved, attrs);
  lse.dispose();
  return out;
}

/** Raw backward: dlogits = g/N · (softmax(logits) − mixed one-hot). */
export function crossEntropyBackwardRaw(logits: Tensor, lse: Tensor, g: Tensor, la: Tensor, lb: Tensor | null, lam: number, lamT: Tensor | null): Tensor {
  const e = logits.engine;
  const [rows, cols] = logits.shape as [number, number];
  const dx = e.empty(logits.shape);
  const WG = rowWorkgroupSize(e);
  e.run('cross_entropy', 'bwd', {
    bind: { x: logits, la, lb: lb ?? la, lamv: lamT ?? e.placeholder(), lse, g, dx },
    params: { rows, cols, lam, scale: 1 / rows },
    constants: { WG, MIXED: lb ? 1 : 0, LAM_PER_SAMPLE: lamT ? 1 : 0 },
    workgroups: groups(rows * cols, WG),
  });
  return dx;
}

export function crossEntropyBackward(node: GraphNode<'crossEntropy'>, g: Tensor): (Tensor | null)[] {
  const { mixed, lam } = node.attrs;
  const [logits, lse, la, lb, lamT] = node.saved;
  if (!logits.requiresGrad) return [null];
  return [crossEntropyBackwardRaw(logits, lse, g, la, mixed ? lb! : null, lam, lamT ?? null)];
}
