// The `automix` CLI end to end on a tiny configuration: exact resume after
// SIGKILL, a forced NaN, a simulated device loss, a kill in the middle of a
// checkpoint write, and bad flags — each ends with a message that names what
// happened and an intact last checkpoint.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/io/safetensors.js';

const BIN = join(__dirname, '..', '..', 'bin', 'automix.js');
const SMALL = ['--width', '0.0625', '--limit-train', '48', '--limit-test', '16', '--batch-size', '16', '--epochs', '2', '--seed', '5'];

function automix(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env } });
  return { code: r.status, signal: r.signal, out: r.stdout + r.stderr };
}

function tensorsOf(file: string): Map<string, number[]> {
  const d = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
  return new Map(Object.entries(d.tensors).map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
}

function state(dir: string): { checkpoint: string; step: number } {
  return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
}

const tmp = () => mkdtempSync(join(tmpdir(), 'automix-cli-'));

describe('automix train: faults and resume', () => {
  it('a run killed with SIGKILL mid-epoch and resumed ends with the same weights as an uninterrupted one', async () => {
    const full = tmp();
    const r = automix(['train', '--method', 'automix', ...SMALL, '--out', full, '--json', join(full, 'run.json')]);
    expect(r.code, r.out).toBe(0);
    // The run says, once, which kernels its step runs, and records them.
    const said = r.out.split('\n').filter((l) => l.startsWith('kernels in the training step: '));
    expect(said, r.out).toHaveLength(1);
    for (const f of ['conv2d: ', 'matmul: ', 'mix_block_attention: ']) expect(said[0]).toContain(f);
    const kernels = JSON.parse(readFileSync(join(full, 'run.json'), 'utf8')).kernels as Record<string, Record<string, number>>;
    expect(Object.keys(kernels).sort()).toEqual(['conv2d', 'matmul', 'mix_block_attention']);
    for (const configs of Object.values(kernels)) {
      for (const [k, n] of Object.entries(configs)) {
        expect(k).toMatch(/ \((static|cache|tuned|forced)\)$/);
        expect(n).toBeGreaterThan(0);
      }
    }

    const killed = tmp();
    const child = spawn(process.execPath, [BIN, 'train', '--method', 'automix', ...SMALL, '--checkpoint-every', '1', '--out', killed], { stdio: 'ignore' });
    // Kill it once it has checkpointed step 2 of 6 (mid-epoch 1).
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        try {
          if (existsSync(join(killed, 'state.json')) && state(killed).step >= 2) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve();
          } else if (Date.now() - t0 > 200_000) {
            clearInterval(poll);
            child.kill('SIGKILL');
            reject(new Error('no checkpoint within 200 s'));
          }
        } catch {
          /* state.json mid-rename: poll again */
        }
      }, 100);
    });
    await new Promise((res) => child.on('exit', res));
    expect(state(killed).step).toBeLessThan(6);
    const resumed = automix([
      'train',
      '--method',
      'automix',
      ...SMALL,
      '--checkpoint-every',
      '1',
      '--out',
      killed,
      '--resume',
      '--json',
      join(killed, 'run.json'),
    ]);
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/resumed from ckpt-/);
    const a = tensorsOf(join(full, state(full).checkpoint));
    const b = tensorsOf(join(killed, state(killed).checkpoint));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
    // The interrupted epoch's record covers all of it: the checkpoint carried its running sums.
    type Rec = { train_loss: number; terms: Record<string, number>; mask_mean: number; seconds: number; images_per_s: number };
    const epochsOf = (dir: string): Rec[] => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).epochs;
    const [ea, eb] = [epochsOf(full), epochsOf(killed)];
    expect(eb.length).toBe(2);
    for (let i = 0; i < 2; i++) {
      expect(eb[i]!.train_loss).toBe(ea[i]!.train_loss);
      expect(eb[i]!.terms).toEqual(ea[i]!.terms);
      expect(eb[i]!.mask_mean).toBe(ea[i]!.mask_mean);
      expect(eb[i]!.images_per_s).toBeCloseTo((3 * 16) / eb[i]!.seconds, 6);
    }
  });

  it('a forced NaN stops the run naming the loss terms, leaving the last checkpoint intact', () => {
    const dir = tmp();
    const r = automix(['train', '--method', 'automix', ...SMALL, '--checkpoint-every', '2', '--inject-nan-at-step', '3', '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/NonFiniteLossError: non-finite loss at epoch 2, step 3: L_mix_q = NaN/);
    expect(r.out).not.toMatch(/\n\s+at /); // no stack trace without --verbose
    // 3 steps per epoch: the last checkpoint is the end of epoch 1 (step 3),
    // taken just before the poisoned step.
    const st = state(dir);
    expect(st.step).toBe(3);
    expect(tensorsOf(join(dir, st.checkpoint)).size).toBeGreaterThan(10);
  });

  it('--on-nonfinite skip skips the poisoned step and finishes', () => {
    const dir = tmp();
    const r = automix(['train', '--method', 'none', ...SMALL, '--inject-nan-at-step', '1', '--on-nonfinite', 'skip', '--out', dir]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/non-finite loss at epoch 1, step 1: loss = NaN; step skipped/);
  });

  it('a device loss is reported as such, and --resume continues from the last checkpoint', () => {
    const dir = tmp();
    const r = automix(['train', '--method', 'none', ...SMALL, '--checkpoint-every', '2', '--inject-device-loss-at-step', '3', '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/DeviceLostError: GPU device lost/);
    expect(r.out).toMatch(/the last checkpoint .* is intact/);
    expect(state(dir).step).toBe(3); // end of epoch 1, just before the loss
    // Resuming with other settings would silently change the schedule: refused, state untouched.
    const other = automix(['train', '--method', 'none', ...SMALL, '--epochs', '3', '--lr', '0.05', '--out', dir, '--resume']);
    expect(other.code).toBe(1);
    expect(other.out).toMatch(/--resume: .*state\.json was started with other settings \(--epochs was 2, now 3; --lr was 0\.1, now 0\.05\)/);
    expect(other.out).not.toMatch(/\n\s+at /);
    expect(state(dir).step).toBe(3);
    const again = automix(['train', '--method', 'none', ...SMALL, '--checkpoint-every', '2', '--out', dir, '--resume']);
    expect(again.code, again.out).toBe(0);
    expect(state(dir).step).toBe(6);
  });

  it('GPU out-of-memory is reported as such, with the last checkpoint intact', () => {
    const dir = tmp();
    const r = automix(['train', '--method', 'none', ...SMALL, '--checkpoint-every', '2', '--inject-oom-at-step', '3', '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/OutOfMemoryError: GPU out of memory/);
    expect(r.out).toMatch(/the last checkpoint .* is intact: rerun with --resume/);
    const st = state(dir);
    expect(tensorsOf(join(dir, st.checkpoint)).size).toBeGreaterThan(10);
  });

  it('a kill in the middle of a checkpoint write leaves the previous checkpoint in charge', () => {
    const dir = tmp();
    const r = automix(['train', '--method', 'none', ...SMALL, '--checkpoint-every', '1', '--out', dir], { AUTOMIX_TEST_KILL_IN_CHECKPOINT: '2' });
    expect(r.signal).toBe('SIGKILL');
    const st = state(dir);
    expect(st.step).toBe(1); // the second write never landed
    expect(tensorsOf(join(dir, st.checkpoint)).size).toBeGreaterThan(10);
    const again = automix(['train', '--method', 'none', ...SMALL, '--out', dir, '--resume']);
    expect(again.code, again.out).toBe(0);
  });
});

describe('automix train: gradient clipping', () => {
  it('--clip-grad bounds every step: ‖Δθ‖ ≤ steps · lr · clip', async () => {
    const dir = tmp();
    const args = [
      'train',
      '--method',
      'none',
      ...SMALL,
      '--epochs',
      '1',
      '--clip-grad',
      '0.001',
      '--momentum',
      '0',
      '--weight-decay',
      '0',
      '--lr',
      '0.5',
      '--out',
      dir,
    ];
    const r = automix(args);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/grad_norm/);
    const { createEngine } = await import('../../src/index.js');
    const { buildModel } = await import('../../src/models/index.js');
    const d = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    const e = await createEngine();
    const net = buildModel(e, JSON.parse(d.metadata.automix_model!), 5, 'init');
    const init = await net.params.read();
    let sq = 0;
    for (const [k, v] of init) {
      const after = d.tensors[k]!.data as Float32Array;
      for (let i = 0; i < v.length; i++) sq += (after[i]! - v[i]!) ** 2;
    }
    net.dispose();
    e.destroy();
    const steps = 3; // 48 images / batch 16
    expect(Math.sqrt(sq)).toBeGreaterThan(0);
    expect(Math.sqrt(sq)).toBeLessThanOrEqual(steps * 0.5 * 0.001 * 1.001);
  });
});

describe('automix: bad input', () => {
  it('rejects bad flags with one clear message and exit status 1', () => {
    const cases: [string[], RegExp][] = [
      [['train', '--epochs=-1'], /--epochs: must be a positive integer, got -1/],
      [['train', '--epochs', '0'], /--epochs: must be a positive integer, got 0/],
      [['train', '--epochs', 'ten'], /--epochs: expected a number, got 'ten'/],
      [['train', '--method', 'magic'], /--method: unknown method 'magic'/],
      [['train', '--model', 'resnet9'], /--model: unknown model 'resnet9'/],
      [['train', '--bogus'], /Unknown option '--bogus'/],
      [['train', '--ema-momentum', '1'], /--ema-momentum: must be auto or in \[0, 0\.999999\], got 1/],
      [
        ['train', '--data', 'fashion-mnist:/nonexistent/dir', '--epochs', '1'],
        /DatasetError: \/nonexistent\/dir: Fashion-MNIST directory does not exist.*apt-get install dataset-fashion-mnist/s,
      ],
      [['eval', '--checkpoint', '/nonexistent/model.safetensors'], /checkpoint file not found/],
    ];
    for (const [args, re] of cases) {
      const r = automix(args);
      expect(r.code, `${args.join(' ')}\n${r.out}`).toBe(1);
      expect(r.out, args.join(' ')).toMatch(re);
      expect(r.out, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });
});

describe('automix train: flags', () => {
  it("--ema-momentum sets the start of the momentum network's EMA schedule (default auto: scaled to the run, docs/method.md §3 at full length)", async () => {
    const { parseTrainArgs } = await import('../../src/cli/main.js');
    expect(parseTrainArgs([]).emaMomentum).toBe('auto');
    expect(parseTrainArgs(['--ema-momentum', 'auto']).emaMomentum).toBe('auto');
    expect(parseTrainArgs(['--ema-momentum', '0.99']).emaMomentum).toBe(0.99);
    expect(() => parseTrainArgs(['--ema-momentum', 'fast'])).toThrow(/--ema-momentum: expected a number, got 'fast'/);
  });

  it('--replay and --tune choose how the step and the kernels run, and refuse other values', async () => {
    const { parseTrainArgs } = await import('../../src/cli/main.js');
    expect(parseTrainArgs([]).replay).toBe('auto');
    expect(parseTrainArgs(['--replay', 'off']).replay).toBe('off');
    expect(() => parseTrainArgs(['--replay', 'sometimes'])).toThrow(/--replay: expected auto or off, got 'sometimes'/);
    expect(parseTrainArgs([]).tune).toBeUndefined(); // AUTOMIX_TUNE, else 'cached'
    expect(parseTrainArgs(['--tune', 'full']).tune).toBe('full');
    expect(() => parseTrainArgs(['--tune', 'fast'])).toThrow(/--tune: expected off, cached or full, got 'fast'/);
  });

  it('--resume checks the EMA start only where there is a momentum network', async () => {
    const { checkResumeConfig } = await import('../../src/train/trainer.js');
    const { defaultConfig } = await import('../../src/train/config.js');
    const none = defaultConfig('none');
    expect(() => checkResumeConfig({ ...none, emaMomentum: 0.999 }, none, 'state.json')).not.toThrow();
    const am = defaultConfig('automix');
    expect(() => checkResumeConfig({ ...am, emaMomentum: 0.999 }, am, 'state.json')).toThrow(/--ema-momentum was 0\.999, now auto/);
  });
});

describe('checkpoints that do not fit the model', () => {
  it('a checkpoint of another model or with wrong shapes is refused by name', async () => {
    const { createEngine } = await import('../../src/index.js');
    const { buildModel } = await import('../../src/models/index.js');
    const e = await createEngine();
    const spec = { model: 'resnet18' as const, width: 0.0625, inChannels: 1, imageSize: 16, numClasses: 3, heads: ['fc'] };
    const net = buildModel(e, spec, 0);
    const vals = await net.params.read();
    const vit = buildModel(e, { ...spec, model: 'vit-tiny', width: 0.125 }, 0);
    const vitVals = await vit.params.read();
    expect(() => net.params.load(vitVals, 'other.safetensors')).toThrow(/other\.safetensors: missing parameter 'conv1\.weight'/);
    const wrong = new Map(vals);
    wrong.set('fc.weight', new Float32Array(7));
    expect(() => net.params.load(wrong, 'wrong.safetensors')).toThrow(
      /wrong\.safetensors: parameter 'fc\.weight' has 7 values, the model expects 96 \[3, 32\]/,
    );
    net.dispose();
    vit.dispose();
    e.destroy();
  });
});
