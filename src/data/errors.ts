// Error type for unreadable or inconsistent dataset files. Every message names
// the file and the problem so a user can fix their data without a debugger.

/** A dataset file is missing, malformed or inconsistent. `file` is the path (or directory) at fault. */
export class DatasetError extends Error {
  readonly file: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DatasetError';
    this.file = file;
  }
}
