// What a run leaves and says when it stops early: a failure before the first
// checkpoint says there is none (instead of "rerun with --resume"), and a stop
// on request mid-epoch leaves a model file that `automix eval` can read.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createEngine, defaultConfig, NonFiniteLossError, OutOfMemoryError, train } from '../../src/index.js';
import { decodeTensorFile } from '../../src/train/checkpoint.js';

const small = (method: 'none' | 'automix', prefix: string) => ({
  ...defaultConfig(method),
  width: 0.0625,
  limitTrain: 64,
  limitTest: 16,
  batchSize: 16,
  epochs: 1,
  out: mkdtempSync(join(tmpdir(), prefix)),
});

it('a GPU failure before the first checkpoint says that no checkpoint exists', async () => {
  const e = await createEngine();
  const cfg = { ...small('none', 'automix-oom0-'), injectOomAtStep: 0 };
  const err = await train(e, cfg).catch((x: unknown) => x);
  expect(err).toBeInstanceOf(OutOfMemoryError);
  expect((err as Error).message).toMatch(/no checkpoint was written yet/);
  expect((err as Error).message).not.toMatch(/is intact/);
  expect(existsSync(join(cfg.out, 'state.json'))).toBe(false);
  e.destroy();
}, 60_000);

it('a non-finite first step stops without claiming a checkpoint', async () => {
  const e = await createEngine();
  const cfg = { ...small('none', 'automix-nan0-'), injectNanAtStep: 0 };
  const err = await train(e, cfg).catch((x: unknown) => x);
  expect(err).toBeInstanceOf(NonFiniteLossError);
  expect((err as Error).message).toMatch(/step 0: loss = NaN.*the update was not applied; no checkpoint was written yet/);
  e.destroy();
}, 60_000);

it('a stop on request mid-epoch leaves the checkpoint and the exported networks', async () => {
  const e = await createEngine();
  const cfg = small('automix', 'automix-stop-');
  let steps = 0;
  await expect(train(e, cfg, { onStep: () => steps++, stopRequested: () => steps >= 1 })).rejects.toThrow(/stopped on request/);
  expect(existsSync(join(cfg.out, 'state.json'))).toBe(true);
  // The reported (momentum) network and the online one, readable as eval reads them.
  const reported = decodeTensorFile(join(cfg.out, 'model.safetensors'));
  const online = decodeTensorFile(join(cfg.out, 'model-online.safetensors'));
  expect(reported.metadata['automix_network']).toBe('momentum');
  expect(online.metadata['automix_network']).toBe('online');
  expect(reported.tensors.has('head_one.fc.weight')).toBe(true);
  e.destroy();
}, 60_000);
