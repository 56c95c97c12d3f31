// Declared shapes in a safetensors checkpoint are checked against the model, not just element
// counts (issue 18, item 7): a header edited so that `fc.weight` is [64, 10] instead of [10, 64],
// or `conv1.weight` is [8, 3, 3, 1] instead of [8, 1, 3, 3], holds the same floats and used to
// load and evaluate with exit 0.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/device/errors.js';
import { CheckpointError } from '../../src/io/errors.js';
import { buildModel } from '../../src/models/index.js';
import { decodeTensorFile, encodeTensorMap } from '../../src/train/checkpoint.js';
import { testEngine } from '../helpers/engine.js';

const spec = { model: 'resnet18' as const, width: 0.125, inChannels: 1, imageSize: 28, numClasses: 10, heads: ['fc'] };

/** The model's tensors written as a checkpoint, with some declared shapes replaced. */
async function writeWith(dir: string, name: string, override: Record<string, number[]>, extra: Record<string, { shape: number[]; data: Float32Array }> = {}) {
  const e = await testEngine();
  const net = buildModel(e, spec, 0);
  const m = new Map([...(await net.params.read()), ...(await net.buffers.read())]);
  const shapes = new Map<string, readonly number[]>([
    ...net.params.params.map((p, i) => [net.params.names[i]!, p.shape] as const),
    ...net.buffers.tensors.map((t, i) => [net.buffers.names[i]!, t.shape] as const),
  ]);
  for (const [k, s] of Object.entries(override)) shapes.set(k, s);
  for (const [k, t] of Object.entries(extra)) {
    m.set(k, t.data);
    shapes.set(k, t.shape);
  }
  net.dispose();
  const file = join(dir, name);
  writeFileSync(file, encodeTensorMap(m, shapes, { automix_model: JSON.stringify(spec) }));
  return file;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('checkpoint shapes against the model', () => {
  it('a transposed fc.weight or a permuted conv1.weight is refused naming the file, the tensor and both shapes', async () => {
    const e = await testEngine();
    const dir = mkdtempSync(join(tmpdir(), 'automix-shapes-'));
    const cases: [string, number[], string][] = [
      ['fc.weight', [64, 10], '[10, 64]'],
      ['conv1.weight', [8, 3, 3, 1], '[8, 1, 3, 3]'],
      ['conv1.weight', [72], '[8, 1, 3, 3]'],
    ];
    for (const [name, declared, expected] of cases) {
      const file = await writeWith(dir, `${name}-${declared.join('x')}.safetensors`, { [name]: declared });
      const { tensors } = decodeTensorFile(file);
      const net = buildModel(e, spec, 1);
      const before = await net.params.read();
      const err = thrown(() => net.params.load(tensors, file));
      expect(err).toBeInstanceOf(ShapeError);
      expect(err.message).toContain(file);
      expect(err.message).toContain(`parameter '${name}' is declared [${declared.join(', ')}] in the file, the model expects ${expected}`);
      // Nothing was written: a refused file leaves the model as it was.
      const after = await net.params.read();
      for (const [k, v] of before) expect(after.get(k), k).toEqual(v);
      net.dispose();
    }
  });

  it('a BN running statistic of the wrong shape is refused the same way', async () => {
    const e = await testEngine();
    const dir = mkdtempSync(join(tmpdir(), 'automix-shapes-'));
    const file = await writeWith(dir, 'bn.safetensors', { 'bn1.running_mean': [1, 8] });
    const { tensors } = decodeTensorFile(file);
    const net = buildModel(e, spec, 1);
    net.params.load(tensors, file);
    const err = thrown(() => net.buffers.load(tensors, file));
    expect(err).toBeInstanceOf(ShapeError);
    expect(err.message).toContain(`${file}: buffer 'bn1.running_mean' is declared [1, 8] in the file, the model expects [8]`);
    net.dispose();
  });

  it("optimiser state whose declared shape differs from its parameter's is a CheckpointError", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'automix-shapes-'));
    const file = await writeWith(dir, 'opt.safetensors', {}, { 'optimizer.fc.weight.momentum_buffer': { shape: [64, 10], data: new Float32Array(640) } });
    const err = thrown(() => decodeTensorFile(file));
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toBe(`${file}: tensor 'optimizer.fc.weight.momentum_buffer' is declared [64, 10], but its parameter 'fc.weight' is [10, 64]`);
  });

  it('the shapes the model declares load, and plain arrays (no file) are checked by count only', async () => {
    const e = await testEngine();
    const dir = mkdtempSync(join(tmpdir(), 'automix-shapes-'));
    const file = await writeWith(dir, 'ok.safetensors', {});
    const { tensors } = decodeTensorFile(file);
    const net = buildModel(e, spec, 1);
    net.params.load(tensors, file);
    net.buffers.load(tensors, file);
    net.params.load(new Map([...tensors].map(([k, v]) => [k, Float32Array.from(v)])), 'copy');
    expect(Array.from((await net.params.read()).get('fc.weight')!)).toEqual(Array.from(tensors.get('fc.weight')!));
    net.dispose();
  });
});
