/** A training step's loss (or gradient norm) was not finite and the run was told to stop (`--on-nonfinite stop`). */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}
