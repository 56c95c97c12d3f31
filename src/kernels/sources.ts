/**
 * Where WGSL source comes from: files on disk under Node, a bundle compiled
 * into the JavaScript in browsers. The engine takes either as a function.
 */
export type KernelSourceLoader = (family: string) => string;
