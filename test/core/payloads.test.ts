// Typed autograd payloads (issue 19, item 3): what an op records (`record(out, op, inputs,
// saved, attrs)`) and what its backward rule reads (`node.saved`, `node.attrs`) are both typed
// by the op's name through `OpPayloads` (src/autograd/payloads.ts), so a forward and a backward
// that disagree do not compile. The `@ts-expect-error` lines below are the contract: tsc
// (`npx tsc -p tsconfig.json --noEmit`) fails if any of them stops being an error. The
// functions holding them are never called; vitest checks the few runtime facts.
import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../../src/autograd/graph.js';
import type { AllPayloadsWellFormed, OpAttrs, OpName, OpSaved } from '../../src/autograd/payloads.js';
import { record } from '../../src/autograd/record.js';
import { BACKWARD, type BackwardRule } from '../../src/autograd/rules.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** Recording: the saved tensors and attributes must be the op's own. */
export function recordContract(out: Tensor, a: Tensor, b: Tensor): void {
  record(out, 'add', [a, b], [], { alpha: 1, beta: -1 });
  record(out, 'mul', [a, b], [a, b], {});
  record(out, 'matmul', [a, b, null], [a, b], { transA: false, transB: true, act: 'none' });
  record(out, 'matmul', [a, b, null], [a, b, out], { transA: false, transB: false, act: 'relu' });
  record(out, 'crossEntropy', [a], [a, b, b], { mixed: false, lam: 1 });

  // @ts-expect-error add saves no tensor
  record(out, 'add', [a, b], [a], { alpha: 1, beta: 1 });
  // @ts-expect-error add's attributes need beta
  record(out, 'add', [a, b], [], { alpha: 1 });
  // @ts-expect-error mul saves both operands
  record(out, 'mul', [a, b], [a], {});
  // @ts-expect-error softmax's `log` is a boolean
  record(out, 'softmax', [a], [out], { log: 1 });
  // @ts-expect-error attention saves [q, k, v, prob], not a shape
  record(out, 'attention', [a, b, b], [a, b, b, out], { shape: a.shape });
  // @ts-expect-error conv2d saves [x, w]
  record(out, 'conv2d', [a, b, null], [a], { opts: {}, xShape: a.shape, wShape: b.shape });
  // @ts-expect-error an op without a payload (and so without a rule) has no name
  record(out, 'notAnOp', [a], [], {});
  // @ts-expect-error add's inputs are its two operands
  record(out, 'add', [a], [], { alpha: 1, beta: 1 });
  // @ts-expect-error blend's inputs are [x, perm, coef | null]
  record(out, 'blend', [a, b], [b], { op: 'mixup' } as never);
}

/** Reading: a rule's node is typed by its op, so it reads exactly what was recorded. */
export function ruleContract(att: GraphNode<'attention'>, mm: GraphNode<'matmul'>): number {
  const [q, k, v, prob] = att.saved;
  const tensors: Tensor[] = [q, k, v, prob];
  const scale: number = att.attrs.scale;
  const relu: Tensor | undefined = mm.saved[2];
  // @ts-expect-error attention saves four tensors
  const fifth: Tensor = att.saved[4];
  // @ts-expect-error matmul's third saved tensor exists only with act 'relu'
  const c: Tensor = mm.saved[2];
  // @ts-expect-error attention has no `log` attribute
  const log: boolean = att.attrs.log;
  // @ts-expect-error the table's rule for attention takes an attention node, not an add node
  const wrong: BackwardRule<'add'> = BACKWARD.attention;
  return tensors.length + scale + (relu ? 1 : 0) + (fifth ? 1 : 0) + (c ? 1 : 0) + (log ? 1 : 0) + (wrong.length ? 1 : 0);
}

// Every declared payload is { attrs: object; saved: Tensor[] }.
const wellFormed: AllPayloadsWellFormed = true;
type AddPayload = [OpAttrs<'add'>, OpSaved<'add'>];
const addPayload: AddPayload = [{ alpha: 1, beta: 1 }, []];

describe('typed autograd payloads', () => {
  it('has one backward rule per op name in OpPayloads', () => {
    const names = Object.keys(BACKWARD) as OpName[];
    expect(names.length).toBeGreaterThan(20);
    for (const n of names) expect(typeof BACKWARD[n]).toBe('function');
    expect(wellFormed).toBe(true);
    expect(addPayload[1]).toEqual([]);
  });
});
