// The engine's contract: adapter info, clear errors (missing adapter, broken
// WGSL, shape mismatch, limits), ownership (scopes, dispose) and memory that
// does not grow from step to step.
import { describe, expect, it } from 'vitest';
import { createEngine, DisposedError, KernelError, LimitError, NoAdapterError, ops, ShapeError } from '../../src/index.js';
import { nodeGpu } from '../../src/device/gpu-node.js';
import { createArena } from '../../src/tensor/arena.js';
import { uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

describe('device', () => {
  it('exposes the adapter, its limits and the optional features it granted', async () => {
    const e = await testEngine();
    expect(e.info.backend).toBe('node-dawn');
    expect(e.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(e.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    for (const f of e.features) expect(typeof f).toBe('string');
  });

  it('without an adapter fails with what to install', async () => {
    const fakeGpu = { requestAdapter: async () => null } as unknown as GPU;
    const err = await createEngine({ gpu: fakeGpu }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(NoAdapterError);
    if (process.platform === 'linux') expect(String((err as Error).message)).toMatch(/mesa-vulkan-drivers libvulkan1/);
  });

  it('where the platform has only a compatibility-mode adapter, runs there in workgroups it allows', async () => {
    // A platform on OpenGL ES or Direct3D 11: a plain request finds nothing, a compatibility one does.
    const real = await nodeGpu();
    const levels: (string | undefined)[] = [];
    const gpu = {
      requestAdapter: async (o: GPURequestAdapterOptions & { featureLevel?: string } = {}) => {
        levels.push(o.featureLevel);
        return o.featureLevel === 'compatibility' ? real.requestAdapter(o) : null;
      },
    } as unknown as GPU;
    const e = await createEngine({ gpu, limits: 'default' });
    try {
      expect(levels).toEqual([undefined, 'compatibility']);
      expect(e.info.compatibilityMode).toBe(true);
      expect(e.maxWorkgroupSize).toBe(128);
      // A flat kernel (256 invocations where allowed) and a reduction, in workgroups of 128.
      const host = uniformData(1000, 3);
      const x = e.tensor(host, [1000]);
      expect(Array.from(await ops.relu(x).read())).toEqual(Array.from(host, (v) => Math.max(0, v)));
      expect((await ops.sum(x).read())[0]).toBeCloseTo(
        host.reduce((a, b) => a + b, 0),
        3,
      );
    } finally {
      e.destroy();
    }
    // Asking for a core adapter explicitly does not fall back.
    levels.length = 0;
    await expect(createEngine({ gpu, featureLevel: 'core' })).rejects.toBeInstanceOf(NoAdapterError);
    expect(levels).toEqual(['core']);
  });

  it('an unknown tune mode, kernelRules or limits is refused by name before any adapter is asked for', async () => {
    let asked = 0;
    const gpu = {
      requestAdapter: async () => {
        asked++;
        return null;
      },
    } as unknown as GPU;
    await expect(createEngine({ gpu, kernelRules: 'fast' as never })).rejects.toThrow(/kernelRules must be 'cpu' or 'gpu'.*got 'fast'/);
    await expect(createEngine({ gpu, tune: 'always' as never })).rejects.toThrow(/tune must be one of 'off', 'cached', 'full', got 'always'/);
    await expect(createEngine({ gpu, limits: 'max' as never })).rejects.toThrow(/limits must be 'adapter' or 'default'.*got 'max'/);
    expect(asked).toBe(0);
  });
});

describe('kernels', () => {
  it('a WGSL syntax error names the file', async () => {
    const e = await testEngine();
    expect(() => e.kernels.define('broken_syntax', '@compute @workgroup_size(1) fn main( {')).toThrow(/kernels\/broken_syntax\.wgsl: WGSL parse error/);
  });

  it('a WGSL type error is reported naming the kernel', async () => {
    const e = await testEngine();
    e.kernels.define(
      'broken_types',
      `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
       @compute @workgroup_size(1) fn bad_entry() { let x: f32 = 1u; out[0] = x; }`,
    );
    const t = e.empty([4]);
    e.run('broken_types', 'bad_entry', { bind: { out: t }, workgroups: 1 });
    const err = await e.sync().catch((x: unknown) => x);
    expect(err).toBeInstanceOf(KernelError);
    expect(String((err as Error).message)).toMatch(/broken_types/);
    t.dispose();
    await e.sync(); // nothing else pending: the engine keeps working
    expect(Array.from(await ops.relu(e.tensor([-1, 2], [2])).read())).toEqual([0, 2]);
    // Its pipeline stays invalid: using it again fails again (Dawn reports only a follow-on error
    // then), instead of its dispatch silently not running.
    const u = e.empty([4]);
    e.run('broken_types', 'bad_entry', { bind: { out: u }, workgroups: 1 });
    const again = await e.sync().catch((x: unknown) => x);
    expect(again).toBeInstanceOf(KernelError);
    expect(String((again as Error).message)).toMatch(/broken_types:bad_entry.*invalid due to a previous error/);
    u.dispose();
  });

  it('a kernel binding more storage buffers than the device allows is refused naming the limit', async () => {
    const e = await testEngine();
    const n = e.limits.maxStorageBuffersPerShaderStage + 1;
    const decl = Array.from({ length: n }, (_, i) => `@group(0) @binding(${i}) var<storage, read_write> b${i}: array<f32>;`).join('\n');
    e.kernels.define(
      'too_many_buffers',
      `${decl}\n@compute @workgroup_size(1) fn touch_all() { ${Array.from({ length: n }, (_, i) => `b${i}[0] = 1.0;`).join(' ')} }`,
    );
    const bind = Object.fromEntries(Array.from({ length: n }, (_, i) => [`b${i}`, e.empty([1])]));
    const err = (() => {
      try {
        e.run('too_many_buffers', 'touch_all', { bind, workgroups: 1 });
      } catch (x) {
        return x;
      }
    })();
    expect(err).toBeInstanceOf(LimitError);
    expect(String((err as Error).message)).toMatch(
      new RegExp(`too_many_buffers:touch_all: binds ${n} storage buffers, more than this device's maxStorageBuffersPerShaderStage`),
    );
    for (const t of Object.values(bind)) t.dispose();
  });

  it('unknown bindings, entry points and params are refused by name', async () => {
    const e = await testEngine();
    const t = e.empty([4]);
    expect(() => e.run('elementwise', 'no_such_entry', { bind: {}, workgroups: 1 })).toThrow(/has no compute entry point 'no_such_entry'/);
    expect(() => e.run('elementwise', 'fill', { bind: { out: t, typo: t }, params: { n: 4 }, workgroups: 1 })).toThrow(/unknown binding 'typo'/);
    expect(() => e.run('elementwise', 'fill', { bind: { out: t }, params: { nn: 4 }, workgroups: 1 })).toThrow(/unknown uniform Params\.nn/);
    t.dispose();
  });

  it('a binding beyond maxStorageBufferBindingSize is refused naming the limit', async () => {
    const e = await testEngine();
    const limit = e.limits.maxStorageBufferBindingSize;
    if (limit >= e.limits.maxBufferSize) return expect(limit).toBeGreaterThan(0); // adapter can bind all it can allocate
    const n = Math.floor(limit / 4) + 64;
    e.scope(() => {
      const t = e.empty([n]);
      expect(() => ops.relu(t)).toThrow(LimitError);
      expect(() => ops.relu(t)).toThrow(/maxStorageBufferBindingSize/);
    });
  });
});

describe('limits refused up front', () => {
  it('a pipeline needing more workgroup memory than the adapter has is refused, naming the limit', async () => {
    const e = await testEngine();
    const limit = e.limits.maxComputeWorkgroupStorageSize;
    e.kernels.define(
      'big_tiles',
      `override TILE: u32 = 16u;
       var<workgroup> tile: array<f32, TILE * TILE>;
       @group(0) @binding(0) var<storage, read_write> out: array<f32>;
       @compute @workgroup_size(1) fn main() { tile[0] = 1.0; out[0] = tile[0]; }`,
    );
    const t = e.empty([4]);
    e.run('big_tiles', 'main', { bind: { out: t }, workgroups: 1 }); // 1 KiB: fine
    const tooBig = Math.ceil(Math.sqrt(limit / 4)) + 1;
    expect(() => e.run('big_tiles', 'main', { bind: { out: t }, constants: { TILE: tooBig }, workgroups: 1 })).toThrow(LimitError);
    expect(() => e.run('big_tiles', 'main', { bind: { out: t }, constants: { TILE: tooBig }, workgroups: 1 })).toThrow(
      /exceeds the adapter's maxComputeWorkgroupStorageSize/,
    );
    await e.sync();
    t.dispose();
  });
});

describe('autograd', () => {
  it('backward of a non-scalar takes an explicit upstream gradient', async () => {
    const e = await testEngine();
    const x = e.tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = ops.mul(x, x); // dy/dx = 2x
    y.backward(e.tensor([1, 10, 100], [3]));
    expect(Array.from(await x.grad!.read())).toEqual([2, 40, 600]);
    expect(() => ops.mul(x, x).backward()).toThrow(/non-scalar tensor \[3\] needs an explicit upstream gradient/);
    x.grad!.dispose();
    x.dispose();
  });

  it('noGrad records nothing; detach cuts the graph', async () => {
    const e = await testEngine();
    const x = e.tensor([1, 2], [2], { requiresGrad: true });
    expect(e.noGrad(() => ops.relu(x)).requiresGrad).toBe(false);
    const d = ops.detach(ops.relu(x));
    expect(d.requiresGrad).toBe(false);
    expect(() => ops.sum(d).backward()).toThrow(/does not require grad/);
    x.dispose();
  });
});

describe('tensors and ownership', () => {
  it('upload, read back, and shape errors at the boundary', async () => {
    const e = await testEngine();
    const t = e.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(Array.from(await t.read())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => e.tensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
    expect(() => e.tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    t.dispose();
    t.dispose(); // idempotent
    expect(() => ops.relu(t)).toThrow(DisposedError);
  });

  it('scope() disposes what it created except what it returns or keeps', async () => {
    const e = await testEngine();
    const before = e.memory().liveTensors;
    let kept = null as ReturnType<typeof e.empty> | null;
    const out = e.scope(() => {
      const a = e.tensor(uniformData(8), [8]);
      const b = ops.relu(a);
      kept = e.keep(ops.add(a, b));
      return ops.mul(a, b);
    });
    expect(e.memory().liveTensors).toBe(before + 2);
    expect(kept!.disposed).toBe(false);
    out.dispose();
    kept!.dispose();
    expect(e.memory().liveTensors).toBe(before);
  });

  it('the tape keeps what backward needs even if the user disposed it', async () => {
    const e = await testEngine();
    const x = e.tensor([1, -2, 3], [3], { requiresGrad: true });
    const y = e.scope(() => ops.sum(ops.mul(ops.relu(x), x))); // intermediates disposed
    y.backward();
    expect(Array.from(await x.grad!.read())).toEqual([2, 0, 6]);
    y.dispose();
    x.grad!.dispose();
    x.dispose();
  });

  it('arena views share one buffer and bind at their offsets', async () => {
    const e = await testEngine();
    const a = createArena(e, [[3], [2, 2], [1]]);
    a.views[1]!.write([1, 2, 3, 4]);
    const r = ops.relu(ops.affine(a.views[1]!, -1, 2.5));
    expect(Array.from(await r.read())).toEqual([1.5, 0.5, 0, 0]);
    expect(Array.from(await a.views[0]!.read())).toEqual([0, 0, 0]);
    r.dispose();
    for (const v of a.views) v.dispose();
    a.flat.dispose();
  });
});

describe('memory', () => {
  it('200 forward+backward steps leave the bytes in use unchanged after the first', async () => {
    const e = await testEngine();
    const w = e.tensor(uniformData(16 * 8, 3), [16, 8], { requiresGrad: true });
    const b = e.tensor(uniformData(8, 4), [8], { requiresGrad: true });
    const x = e.tensor(uniformData(32 * 16, 5), [32, 16]);
    const step = () =>
      e.scope(() => {
        const h = ops.matmul(x, w, { bias: b, activation: 'relu' });
        const loss = ops.mean(ops.mul(h, h));
        loss.backward();
        // Plain SGD on the host side of the API: w -= 0.01·grad.
        return null;
      });
    // Two warm-up steps: the first creates the gradients, the second is the
    // first to accumulate into them (its kernel's pipeline is created then).
    step();
    step();
    await e.sync();
    const first = e.memory();
    for (let i = 0; i < 198; i++) {
      step();
      if (i % 50 === 0) await e.sync();
    }
    await e.sync();
    const after = e.memory();
    expect(after.bytesInUse).toBe(first.bytesInUse);
    expect(after.liveTensors).toBe(first.liveTensors);
    expect(after.pipelines).toBe(first.pipelines);
    w.grad?.dispose();
    b.grad?.dispose();
    w.dispose();
    b.dispose();
    x.dispose();
  });
});
