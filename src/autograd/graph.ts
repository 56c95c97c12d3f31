/**
 * The autograd graph. Each differentiable op that runs while gradients are
 * enabled records a GraphNode on its output: the op's name (which selects its
 * backward rule in `rules.ts`), its inputs, the tensors its backward needs
 * (`saved`, reference-counted so the caller may dispose them), and any
 * non-tensor attributes. `GraphNode<K>` types `attrs` and `saved` by the op's
 * name K (payloads.ts), so its backward rule reads them without casts.
 *
 * Nodes are reference-counted too: by their output tensor and by the nodes
 * that consume it. When neither is left (the user disposed the outputs
 * without calling backward), the node frees what it saved. `backward()` frees
 * each node it passes through, as PyTorch does without `retain_graph`.
 */
import type { OpAttrs, OpInputs, OpName, OpSaved } from './payloads.js';

export class GraphNode<K extends OpName = OpName> {
  refs = 1;
  freed = false;
  readonly inputNodes: (GraphNode | null)[];

  constructor(
    readonly op: K,
    readonly inputs: OpInputs<K>,
    readonly saved: OpSaved<K>,
    readonly attrs: OpAttrs<K>,
    readonly outputShape: readonly number[],
  ) {
    this.inputNodes = inputs.map((t) => (t?.requiresGrad && t.node && !t.node.freed ? t.node : null));
    for (const n of this.inputNodes) if (n) n.refs++;
    for (const s of saved) s?.storage.ref();
  }

  #savedReleased = false;
  #inputsReleased = false;

  unref(): void {
    if (--this.refs <= 0) this.free();
  }

  /** Releases the saved tensors; the node can no longer be differentiated. */
  releaseSaved(): void {
    this.freed = true;
    if (this.#savedReleased) return;
    this.#savedReleased = true;
    for (const s of this.saved) s?.storage.unref();
  }

  /** Releases the saved tensors and this node's hold on its inputs' nodes. */
  free(): void {
    this.releaseSaved();
    if (this.#inputsReleased) return;
    this.#inputsReleased = true;
    for (const n of this.inputNodes) n?.unref();
  }
}
