/** A count of workgroups as an explicit grid: [n, 1, 1], or folded into x·y past `maxDim` (the kernel linearises x + y·nx). */
export function foldedGrid(n: number, maxDim: number): [number, number, number] {
  if (n <= maxDim) return [n, 1, 1];
  const y = Math.ceil(n / maxDim);
  return [Math.ceil(n / y), y, 1];
}
