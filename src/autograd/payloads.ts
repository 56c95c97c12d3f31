/**
 * What each differentiable op records for its backward rule, typed by the
 * op's name: `OpPayloads[name]` is `{ attrs; saved }`, the non-tensor
 * attributes and the tensors the rule reads. `record()` (record.ts) checks the
 * forward's payload against it and the rule table (rules.ts) hands each rule a
 * `GraphNode<name>` typed by it, so the forward and the backward cannot
 * disagree without a compile error, and no rule casts what it reads.
 *
 * The interface is empty here: each op declares its own entry next to its
 * forward and backward, by module augmentation,
 *
 *     declare module '../autograd/payloads.js' {
 *       interface OpPayloads { add: { attrs: { alpha: number; beta: number }; saved: [] } }
 *     }
 *
 * so that a payload's type sits beside the code that writes and reads it (and
 * may use the op file's private types). `OpName` is the set of declared names;
 * the rule table must have exactly one rule per name.
 *
 * `saved` is a (readonly) tuple of tensors; optional elements (`lb?: Tensor`)
 * or a union of tuples where the forward saves different tensors by case.
 * Ops without attributes use `NoAttrs` and record `{}`. An entry may also
 * type the op's `inputs` (a tuple, as `record()` receives them) where its rule
 * reads them; without one they are `readonly (Tensor | null)[]`.
 */
import type { Tensor } from '../tensor/tensor.js';

// biome-ignore lint/suspicious/noEmptyInterface: filled by module augmentation in src/ops/*.ts
export interface OpPayloads {}

export type OpName = keyof OpPayloads;

/** The attributes `record()` stores for op K and its rule reads. */
export type OpAttrs<K extends OpName> = OpPayloads[K]['attrs'];

/** The tensors `record()` saves for op K and its rule reads. */
export type OpSaved<K extends OpName> = OpPayloads[K]['saved'];

/** The inputs `record()` receives for op K: its declared tuple, or any list of tensors. */
export type OpInputs<K extends OpName> = OpPayloads[K] extends { inputs: infer I extends readonly (Tensor | null)[] } ? I : readonly (Tensor | null)[];

/** The attributes of an op that has none. */
export type NoAttrs = Record<never, never>;

/** Compile-time check that every declared payload has the expected form. */
type Checked = { [K in OpName]: OpPayloads[K] extends { attrs: object; saved: readonly (Tensor | undefined)[] } ? true : false };
export type AllPayloadsWellFormed = Checked[OpName] extends true ? true : never;
