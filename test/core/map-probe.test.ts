// Waiting for a readback without a pending map (src/device/map-probe.ts): a probe that is not
// granted at once leaves the buffer unmapped and can be repeated; the wait ends with the right
// bytes whatever the plan — probing from the start, after a sleep, or the plain map.
import { describe, expect, it } from 'vitest';
import { createEngine, DeviceLostError, ops } from '../../src/index.js';
import { mapIfReady, mapWhenDone } from '../../src/device/map-probe.js';
import { testEngine } from '../helpers/engine.js';

describe('map probes', () => {
  it('a probe while the GPU is busy is refused and undone; a later wait maps the result', async () => {
    const e = await testEngine();
    const n = 512;
    const a = e.tensor(
      Float32Array.from({ length: n * n }, (_, i) => ((i % 7) - 3) / 8),
      [n, n],
    );
    const staging = e.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    await e.sync();
    // Enough work that the copy behind it cannot be done within the probe's 0 ms grace.
    let c = a;
    for (let i = 0; i < 6; i++) c = ops.matmul(c, a);
    e.ctx.copy(c.buffer, c.offset * 4, staging, 0, 16);
    e.ctx.flush();
    expect(await mapIfReady(staging, 0)).toBe(false);
    expect(staging.mapState).toBe('unmapped');
    await mapWhenDone(staging, { sleep: 1, every: 2, growth: 1.5, maxEvery: 20 });
    expect(staging.mapState).toBe('mapped');
    const got = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    expect(Array.from(got)).toEqual(Array.from((await c.read()).subarray(0, 4)));
    staging.destroy();
  });

  it('every plan ends mapped once the work is done: at once, probing, sleeping first', async () => {
    const e = await testEngine();
    const src = e.tensor([1, 2, 3, 4], [4]);
    for (const plan of [
      { sleep: 0, every: 0, growth: 1, maxEvery: 0 },
      { sleep: 0, every: 2, growth: 1.5, maxEvery: 50 },
      { sleep: 5, every: 3, growth: 1, maxEvery: 3 },
    ]) {
      const staging = e.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      e.ctx.copy(src.buffer, src.offset * 4, staging, 0, 16);
      e.ctx.flush();
      await mapWhenDone(staging, plan);
      expect(Array.from(new Float32Array(staging.getMappedRange().slice(0))), JSON.stringify(plan)).toEqual([1, 2, 3, 4]);
      staging.unmap();
      staging.destroy();
    }
  });

  it('a lost device ends the wait with an error instead of probing forever', async () => {
    const e = await createEngine();
    const staging = e.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    e.ctx.device.destroy();
    await expect(mapWhenDone(staging, { sleep: 0, every: 2, growth: 1.5, maxEvery: 20 })).rejects.toBeDefined();
    e.destroy();
  }, 20_000);

  it('sync() and read() after a device loss say so (DeviceLostError), on every adapter', async () => {
    const e = await createEngine();
    const t = e.tensor([1, 2, 3, 4], [4]);
    await e.sync();
    e.ctx.device.destroy();
    await expect(e.sync()).rejects.toBeInstanceOf(DeviceLostError);
    await expect(t.read()).rejects.toBeInstanceOf(DeviceLostError);
    e.destroy();
  }, 20_000);
});
