import { defineConfig } from 'vitest/config';

// Kernel tests share one software GPU (lavapipe on the CPU): run test files one
// at a time so they do not fight over the two cores, and give them room.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
