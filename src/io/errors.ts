// Error type for unreadable checkpoints. Messages name the file and the exact
// problem, because a corrupt checkpoint is usually found days after it was written.

/** A checkpoint (safetensors) file is malformed. `file` names the file at fault. */
export class CheckpointError extends Error {
  readonly file: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'CheckpointError';
    this.file = file;
  }
}
