// The kernel tests again, on the smallest device WebGPU allows: a compatibility-mode device with
// the default limits (128 invocations per workgroup; browsers on OpenGL ES or Direct3D 11).
// test/helpers/engine.ts reads AUTOMIX_TEST_DEVICE.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const r = spawnSync(process.execPath, [vitest, 'run', 'test/ops', 'test/optim', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, AUTOMIX_TEST_DEVICE: 'compat' },
});
process.exit(r.status ?? 1);
