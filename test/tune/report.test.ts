import { describe, expect, it } from 'vitest';
import { formatKernelSummary, kernelSummary } from '../../src/tune/report.js';

describe('kernel summary', () => {
  it('counts the problems per family and configuration, with where each choice came from', () => {
    const s = kernelSummary([
      { family: 'conv2d', key: 'a', name: 'sg', source: 'static' },
      { family: 'conv2d', key: 'b', name: 'sg', source: 'static' },
      { family: 'matmul', key: 'c', name: 'sg8 TM24', source: 'cache' },
      { family: 'conv2d', key: 'd', name: 'im2col', source: 'static' },
      { family: 'conv2d', key: 'e', name: 'igemm 32×64×32 4×8', source: 'tuned' },
    ]);
    expect(s).toEqual({
      conv2d: { 'sg (static)': 2, 'im2col (static)': 1, 'igemm 32×64×32 4×8 (tuned)': 1 },
      matmul: { 'sg8 TM24 (cache)': 1 },
    });
    expect(formatKernelSummary(s)).toBe('conv2d: sg ×2, im2col ×1 (static), igemm 32×64×32 4×8 ×1 (tuned); matmul: sg8 TM24 ×1 (cache)');
    expect(formatKernelSummary(kernelSummary([]))).toBe('');
  });
});
