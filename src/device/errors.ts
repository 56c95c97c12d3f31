/**
 * Error types of the engine. Each names the problem (the kernel, the shape,
 * the limit) so a user can act on the message without a debugger.
 */

/** No WebGPU adapter could be acquired. */
export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
}

/** A kernel failed to compile or a dispatch failed validation. */
export class KernelError extends Error {
  override name = 'KernelError';
  constructor(
    message: string,
    readonly kernel: string,
  ) {
    super(message);
  }
}

/** The GPU device was lost (driver reset, out of memory, destroyed). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A tensor had a shape (or size) an op cannot accept. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A request exceeds one of the adapter's limits; the limit is named. */
export class LimitError extends Error {
  override name = 'LimitError';
  constructor(
    message: string,
    readonly limit: string,
  ) {
    super(message);
  }
}

/** The GPU ran out of memory while allocating a buffer. */
export class OutOfMemoryError extends Error {
  override name = 'OutOfMemoryError';
}

/** A tensor was used after it had been disposed. */
export class DisposedError extends Error {
  override name = 'DisposedError';
}

/**
 * A step could not be captured for replay: it did something a replayed
 * step could not repeat (wrote host data, read back, kept a new buffer, or
 * put a value that changes between steps into a kernel's uniforms).
 */
export class CaptureError extends Error {
  override name = 'CaptureError';
}
