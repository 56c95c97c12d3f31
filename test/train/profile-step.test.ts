// Where a training step's GPU time goes: `--profile-step N` times every kernel of step N with
// timestamp queries and reports the step's GPU time by kernel, without changing what it computes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrainArgs } from '../../src/cli/main.js';
import { formatProfile, summariseProfile } from '../../src/device/profile.js';
import { defaultConfig, train } from '../../src/index.js';
import { adapterFacts } from '../helpers/adapter.js';
import { testEngine } from '../helpers/engine.js';

const e = await testEngine();

describe('summariseProfile', () => {
  it('sums the dispatches of each kernel, largest first, and prints the top ones', () => {
    const p = summariseProfile([
      { kernel: 'conv2d_sg:conv2d_sg', ms: 3 },
      { kernel: 'batchnorm:bn_apply', ms: 1 },
      { kernel: 'conv2d_sg:conv2d_sg', ms: 2 },
      { kernel: 'elementwise:relu', ms: 0.5 },
      { kernel: 'elementwise:add', ms: 0.25 },
    ]);
    expect(p.gpuMs).toBe(6.75);
    expect(p.dispatches).toBe(5);
    expect(p.kernels.map((k) => [k.kernel, k.ms, k.dispatches])).toEqual([
      ['conv2d_sg:conv2d_sg', 5, 2],
      ['batchnorm:bn_apply', 1, 1],
      ['elementwise:relu', 0.5, 1],
      ['elementwise:add', 0.25, 1],
    ]);
    const lines = formatProfile(p, 2);
    expect(lines[0]).toBe('GPU time 6.750 ms over 5 dispatches, by kernel:');
    // An entry named after its family is printed alone; the rest after the top two on one line.
    expect(lines.slice(1)).toEqual([
      ' 74.1 %      5.000 ms  ×2    conv2d_sg',
      ' 14.8 %      1.000 ms  ×1    batchnorm:bn_apply',
      ' 11.1 %      0.750 ms  ×2    2 other kernels',
    ]);
    expect(formatProfile(summariseProfile([]))).toEqual(['no dispatch was timed']);
  });
});

describe('automix train --profile-step', () => {
  const small = (out: string) => ({
    ...defaultConfig('automix'),
    width: 0.0625,
    limitTrain: 64,
    limitTest: 16,
    batchSize: 16,
    epochs: 1,
    seed: 3,
    out,
  });

  it('is a step number, checked by name', () => {
    expect(parseTrainArgs(['--profile-step', '20']).profileStep).toBe(20);
    expect(parseTrainArgs([]).profileStep).toBeUndefined();
    expect(() => parseTrainArgs(['--profile-step=-1'])).toThrow(/--profile-step: must be a non-negative integer/);
    expect(() => parseTrainArgs(['--profile-step', '2.5'])).toThrow(/--profile-step: must be a non-negative integer/);
  });

  it.skipIf(!adapterFacts(e).timestamps)('[needs timestamps] reports the GPU time of a replayed step by kernel and leaves the run unchanged', async () => {
    const logs: string[] = [];
    const plain = await train(e, small(mkdtempSync(join(tmpdir(), 'automix-prof-'))));
    // Steps 0–2 are the warm-up and the two captures: step 3 is a replay.
    const profiled = await train(e, { ...small(mkdtempSync(join(tmpdir(), 'automix-prof-'))), profileStep: 3 }, { log: (m) => logs.push(m) });
    const p = profiled.step_profile!;
    expect(p.step).toBe(3);
    expect(p.dispatches).toBeGreaterThan(100);
    expect(p.kernels.reduce((a, k) => a + k.dispatches, 0)).toBe(p.dispatches);
    expect(p.kernels.reduce((a, k) => a + k.ms, 0)).toBeCloseTo(p.gpuMs, 9);
    expect(p.kernels.some((k) => k.kernel.startsWith('conv2d'))).toBe(true);
    for (let i = 1; i < p.kernels.length; i++) expect(p.kernels[i]!.ms).toBeLessThanOrEqual(p.kernels[i - 1]!.ms);
    expect(logs).toContain('profile of step 3 (replayed):');
    expect(logs).toContain(`  GPU time ${p.gpuMs.toFixed(3)} ms over ${p.dispatches} dispatches, by kernel:`);
    // Timing the step's kernels changes how they are encoded (a pass each), not what they compute.
    expect(profiled.epochs.map((r) => [r.train_loss, r.terms, r.test_acc_heads])).toEqual(plain.epochs.map((r) => [r.train_loss, r.terms, r.test_acc_heads]));
    expect(plain.step_profile).toBeUndefined();
  });

  it('says when the run has no such step', async () => {
    const logs: string[] = [];
    const r = await train(e, { ...small(mkdtempSync(join(tmpdir(), 'automix-prof-'))), method: 'none', profileStep: 4 }, { log: (m) => logs.push(m) });
    expect(logs).toContain('--profile-step 4: the run has 4 steps (0 to 3); no step will be profiled');
    expect(r.step_profile).toBeUndefined();
  });

  it('says when a resumed run starts past that step', async () => {
    const out = mkdtempSync(join(tmpdir(), 'automix-prof-'));
    // Stopped (with a checkpoint) part-way through its 4 steps, then resumed.
    let steps = 0;
    const stopped = await train(e, { ...small(out), method: 'none' }, { onStep: () => steps++, stopRequested: () => steps >= 1 }).catch((x: Error) => x);
    const at = Number(/stopped on request after step (\d+)/.exec(String(stopped))?.[1]);
    expect(at).toBeGreaterThanOrEqual(2);
    expect(at).toBeLessThan(4);
    const logs: string[] = [];
    const r = await train(e, { ...small(out), method: 'none', resume: true, profileStep: 1 }, { log: (m) => logs.push(m) });
    expect(logs).toContain(`--profile-step 1: the run resumes at step ${at}, past it; no step will be profiled`);
    expect(r.step_profile).toBeUndefined();
  });
});
