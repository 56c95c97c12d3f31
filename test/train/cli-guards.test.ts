// The CLI's guards of issue 18 (robustness, second round), end to end: a run directory is never
// lost or overwritten without the user asking; output paths are checked before the first step;
// data, checkpoint and model that disagree are refused up front, by name, in every command;
// every numeric flag of eval and visualize is checked; plot names the file it cannot read;
// Ctrl-C ends with the conventional 130; a batch too large for the adapter says what fits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { makeImages, makeLabels } from '../data/idx-fixtures.js';

const BIN = join(__dirname, '..', '..', 'bin', 'automix.js');
const SMALL = ['--width', '0.0625', '--limit-train', '48', '--limit-test', '16', '--batch-size', '16', '--epochs', '1', '--seed', '5'];

function automix(args: string[], timeout = 240_000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, signal: r.signal, out: r.stdout + r.stderr, seconds: (Date.now() - t0) / 1000 };
}

const tmp = (p = 'automix-guard-') => mkdtempSync(join(tmpdir(), p));

/** A Fashion-MNIST-style directory of IDX files with the given train and test image sizes. */
function idxDir(train: [number, number, number], test: [number, number, number]): string {
  const dir = tmp('automix-idx-');
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), makeImages(...train));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), makeLabels(train[0], 10));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), makeImages(...test));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), makeLabels(test[0], 10));
  return dir;
}

function expectRefused(r: { code: number | null; out: string }, re: RegExp, what: string) {
  expect(r.code, `${what}\n${r.out}`).toBe(1);
  expect(r.out, what).toMatch(re);
  expect(r.out, what).not.toMatch(/\n\s+at /);
}

/** One finished AutoMix run (one epoch) that several tests read. */
let run = '';
beforeAll(() => {
  run = tmp('automix-guard-run-');
  const r = automix(['train', '--method', 'automix', ...SMALL, '--out', run, '--json', join(run, 'run.json')]);
  expect(r.code, r.out).toBe(0);
}, 240_000);

describe('a run directory is never overwritten without the user asking (items 1, 4)', () => {
  it('train into an --out holding a run is refused without --resume or --force, and the run is untouched', () => {
    const before = readdirSync(run).sort();
    const state = readFileSync(join(run, 'state.json'), 'utf8');
    const r = automix(['train', '--method', 'automix', ...SMALL, '--out', run]);
    expectRefused(
      r,
      new RegExp(`ConfigError: --out ${run} already holds a run \\(.*state\\.json.*\\): pass --resume to continue it, or --force to delete it and start over`),
      'no --resume',
    );
    expect(readdirSync(run).sort()).toEqual(before);
    expect(readFileSync(join(run, 'state.json'), 'utf8')).toBe(state);
    const both = automix(['train', '--method', 'automix', ...SMALL, '--out', run, '--resume', '--force']);
    expectRefused(both, /--force: and --resume contradict each other/, '--resume --force');
  });

  it('--force deletes the previous run and starts over; an existing --json record is refused without it', () => {
    const dir = tmp();
    // A stale checkpoint numbered above anything the new run writes would outlive the new ones.
    writeFileSync(join(dir, 'ckpt-00099999.safetensors'), encodeSafetensors({}));
    writeFileSync(join(dir, 'run.json'), '{"config": {}, "epochs": []}');
    const refused = automix(['train', '--method', 'none', ...SMALL, '--out', dir]);
    expectRefused(refused, /already holds a run \(ckpt-00099999\.safetensors\)/, 'stale checkpoint');
    const json = automix(['train', '--method', 'none', ...SMALL, '--out', tmp(), '--json', join(dir, 'run.json')]);
    expectRefused(json, /--json .*run\.json already exists .*pass --force to overwrite it/, 'existing --json');
    const r = automix(['train', '--method', 'none', ...SMALL, '--out', dir, '--force', '--json', join(dir, 'run.json')]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/--force: deleted the previous run in .* \(ckpt-00099999\.safetensors\)/);
    expect(existsSync(join(dir, 'ckpt-00099999.safetensors'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).epochs.length).toBe(1);
  });

  it('--resume removes the temp files of checkpoint writes killed midway (not those of a live process)', () => {
    const dir = tmp();
    expect(automix(['train', '--method', 'none', ...SMALL, '--out', dir]).code).toBe(0);
    const dead = 2_000_000_000; // no such process
    const stale = [`ckpt-00000002.safetensors.tmp-${dead}-0123456789ab`, `state.json.tmp-${dead}-ba9876543210`, `model.safetensors.tmp-${dead}-00aa11bb22cc`];
    const live = `ckpt-00000003.safetensors.tmp-${process.pid}-0123456789ab`;
    for (const f of [...stale, live]) writeFileSync(join(dir, f), 'partial');
    const r = automix(['train', '--method', 'none', ...SMALL, '--out', dir, '--resume']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/removed 3 temp file\(s\) of interrupted writes/);
    for (const f of stale) expect(existsSync(join(dir, f)), f).toBe(false);
    expect(existsSync(join(dir, live))).toBe(true);
  });

  it('--resume in a directory with checkpoints but no state.json is refused instead of silently starting over', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors({}));
    const r = automix(['train', '--method', 'none', ...SMALL, '--out', dir, '--resume']);
    expectRefused(r, /--resume: .* has model\.safetensors but no state\.json to resume from; pass --force/, 'no state.json');
  });
});

describe('output locations are checked before the first step (items 2, 3)', () => {
  it('--json in a missing directory, an --out under a file, under /proc, or unwritable: refused at once, naming the path given', () => {
    const dir = tmp();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string[], RegExp][] = [
      [
        ['--out', join(dir, 'o1'), '--json', join(dir, 'missing', 'run.json')],
        new RegExp(`--json ${dir}/missing/run\\.json: the directory ${dir}/missing does not exist`),
      ],
      [['--out', join(dir, 'o2'), '--json', dir], new RegExp(`--json ${dir}: is a directory`)],
      [['--out', join(file, 'sub')], new RegExp(`--out ${file}/sub: ${file} is a file, not a directory`)],
      [['--out', file], new RegExp(`--out ${file}: exists and is not a directory`)],
      [['--out', '/proc/automix-test/run'], /--out \/proc\/automix-test\/run: cannot write in \/proc/],
      [['--out', '/proc/self'], /--out \/proc\/self: cannot write in \/proc\/self/],
      [['--out', join(dir, 'o3'), '--json', join(dir, 'o3', 'state.json')], /--json .*state\.json: is a file of the run in --out/],
    ];
    for (const [args, re] of cases) {
      const r = automix(['train', '--method', 'none', ...SMALL, ...args], 60_000);
      expectRefused(r, re, args.join(' '));
      expect(r.out, args.join(' ')).not.toMatch(/adapter:/); // before the engine, let alone a step
      expect(r.seconds, args.join(' ')).toBeLessThan(30);
    }
    expect(existsSync(join(dir, 'o1'))).toBe(false);
    // A --json inside an --out that does not exist yet is fine: --out is made first.
    const ok = automix(['train', '--method', 'none', ...SMALL, '--out', join(dir, 'new', 'run'), '--json', join(dir, 'new', 'run', 'run.json')]);
    expect(ok.code, ok.out).toBe(0);
    expect(statSync(join(dir, 'new', 'run', 'run.json')).isFile()).toBe(true);
  });
});

describe('data that the model cannot take is refused by name, in every command (items 8, 11)', () => {
  it('0 images, 28×0 images, non-square images for ViT, and train/test of different sizes', () => {
    const empty = idxDir([0, 28, 28], [16, 28, 28]);
    const emptyTest = idxDir([48, 28, 28], [0, 28, 28]);
    const zeroW = idxDir([48, 28, 0], [16, 28, 0]);
    const nonSquare = idxDir([48, 28, 20], [16, 28, 20]);
    const mixed = idxDir([48, 32, 32], [16, 28, 28]);
    const odd = idxDir([48, 30, 30], [16, 30, 30]);
    const cases: [string[], RegExp][] = [
      [['--method', 'none', '--data', `fashion-mnist:${empty}`], new RegExp(`DatasetError: ${empty}/train-images-idx3-ubyte: holds 0 images`)],
      [['--method', 'none', '--data', `fashion-mnist:${emptyTest}`], new RegExp(`DatasetError: ${emptyTest}/t10k-images-idx3-ubyte: holds 0 images`)],
      [['--method', 'none', '--data', `fashion-mnist:${zeroW}`], new RegExp(`DatasetError: ${zeroW}/train-images-idx3-ubyte: its images are 1×28×0`)],
      [
        ['--method', 'none', '--model', 'vit-tiny', '--data', `fashion-mnist:${nonSquare}`],
        new RegExp(`ConfigError: --model vit-tiny: needs square images .* but ${nonSquare}/train-images-idx3-ubyte holds 1×28×20 images`),
      ],
      [
        ['--method', 'none', '--data', `fashion-mnist:${mixed}`],
        new RegExp(
          `DatasetError: ${mixed}/t10k-images-idx3-ubyte: test images are 1×28×28 but the training images \\(${mixed}/train-images-idx3-ubyte\\) are 1×32×32`,
        ),
      ],
      [['--method', 'automix', '--data', `fashion-mnist:${odd}`], /ConfigError: --method automix: the Mix Block's mask .* cannot cover the 30×30 images/],
    ];
    for (const [args, re] of cases) {
      const r = automix(['train', ...SMALL, '--out', tmp(), ...args]);
      expectRefused(r, re, args.join(' '));
    }
    // eval and visualize of a 28×28 run refuse the mixed set up front too, and a set of another size.
    const ev = automix(['eval', '--checkpoint', run, '--data', `fashion-mnist:${mixed}`]);
    expectRefused(ev, /DatasetError: .*t10k-images-idx3-ubyte: test images are 1×28×28 but the training images .* are 1×32×32/, 'eval mixed');
    const vis = automix(['visualize', '--checkpoint', run, '--data', `fashion-mnist:${mixed}`, '--out', join(tmp(), 'm.png')]);
    expectRefused(vis, /DatasetError: .*test images are 1×28×28 but the training images/, 'visualize mixed');
    const big = idxDir([48, 32, 32], [16, 32, 32]);
    const ev2 = automix(['eval', '--checkpoint', run, '--data', `fashion-mnist:${big}`]);
    expectRefused(
      ev2,
      new RegExp(`ConfigError: --data: the model in ${run}/model\\.safetensors takes 1×28×28 images, but ${big}/t10k-images-idx3-ubyte holds 1×32×32 images`),
      'eval 32×32',
    );
    const vis2 = automix(['visualize', '--checkpoint', run, '--data', `fashion-mnist:${big}`, '--out', join(tmp(), 'm.png')]);
    expectRefused(vis2, /ConfigError: --data: the model in .*model\.safetensors takes 1×28×28 images, but .* holds 1×32×32 images/, 'visualize 32×32');
  });

  it('eval of a model.safetensors whose header declares fc.weight transposed is refused naming the tensor, the file and both shapes (item 7)', () => {
    const file = join(tmp(), 'edited.safetensors');
    const d = decodeSafetensors(new Uint8Array(readFileSync(join(run, 'model.safetensors'))));
    const t = d.tensors['head_one.fc.weight'] ?? d.tensors['fc.weight']!;
    const name = d.tensors['head_one.fc.weight'] ? 'head_one.fc.weight' : 'fc.weight';
    const shape = [...t.shape].reverse();
    writeFileSync(file, encodeSafetensors({ ...d.tensors, [name]: { ...t, shape } } as never, d.metadata));
    const r = automix(['eval', '--checkpoint', file]);
    expectRefused(
      r,
      new RegExp(
        `ShapeError: ${file}: parameter '${name.replace(/\./g, '\\.')}' is declared \\[${shape.join(', ')}\\] in the file, the model expects \\[${t.shape.join(', ')}\\]`,
      ),
      'transposed',
    );
  });
});

describe('eval, visualize and plot check their flags and files (item 12)', () => {
  it('numeric flags are refused naming the flag and what is allowed', () => {
    const png = join(tmp(), 'm.png');
    const cases: [string[], RegExp][] = [
      [['eval', '--checkpoint', run, '--limit-test', 'abc'], /ConfigError: --limit-test: must be a non-negative integer, got 'abc'/],
      [['eval', '--checkpoint', run, '--limit-test=-1'], /--limit-test: must be a non-negative integer, got '-1'/],
      [['eval', '--checkpoint', run, '--batch-size', '0'], /--batch-size: must be an integer from 1 to 4096, got '0'/],
      [['eval', '--checkpoint', run, '--batch-size', '1.5'], /--batch-size: must be an integer from 1 to 4096, got '1\.5'/],
      [['visualize', '--checkpoint', run, '--out', png, '--pairs', '0'], /ConfigError: --pairs: must be an integer from 1 to 256, got '0'/],
      [['visualize', '--checkpoint', run, '--out', png, '--pairs=-3'], /--pairs: must be an integer from 1 to 256, got '-3'/],
      [['visualize', '--checkpoint', run, '--out', png, '--pairs', 'abc'], /--pairs: must be an integer from 1 to 256, got 'abc'/],
      [['visualize', '--checkpoint', run, '--out', png, '--pairs', '2.5'], /--pairs: must be an integer from 1 to 256, got '2\.5'/],
      [['visualize', '--checkpoint', run, '--out', png, '--seed', 'x'], /--seed: must be a non-negative integer, got 'x'/],
      [['visualize', '--checkpoint', run, '--out', join(run, 'run.json')], /--out .*run\.json: exists and is not a PNG; refusing to replace it/],
      [
        ['eval', '--checkpoint', run, '--dump-logits', join(run, 'state.json')],
        /--dump-logits .*state\.json: is a training run's file; refusing to overwrite it/,
      ],
    ];
    for (const [args, re] of cases) expectRefused(automix(args), re, args.join(' '));
    expect(readFileSync(join(run, 'run.json'), 'utf8')).toMatch(/"epochs"/);
  });

  it('plot names the file and what it expected for null, empty, config-less JSON and a state.json of null', () => {
    const dir = tmp();
    const files: [string, string, RegExp][] = [
      ['null.json', 'null', /holds null; expected the object automix train --json writes/],
      ['empty.json', '', /is empty; expected/],
      ['noconfig.json', '{"epochs": []}', /has no "config" object; expected/],
      ['bad.json', '{"config": {}, "epochs": [{"train_loss": "x"}]}', /epoch 1 has no numeric train_loss and test_acc/],
      ['array.json', '[]', /holds an array; expected/],
      ['broken.json', '{"config": ', /is not valid JSON/],
    ];
    for (const [name, text, re] of files) {
      const f = join(dir, name);
      writeFileSync(f, text);
      const r = automix(['plot', '--json', f, '--out', join(dir, 'c.png')]);
      expectRefused(r, new RegExp(`ConfigError: --json: ${f.replace(/\./g, '\\.')} ${re.source}`), name);
    }
    const stateDir = join(dir, 'run');
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, 'state.json'), 'null');
    const st = automix(['plot', '--json', join(stateDir, 'state.json'), '--out', join(dir, 'c.png')]);
    expectRefused(st, /state\.json holds null; expected/, 'plot state.json null');
    const vis = automix(['visualize', '--checkpoint', stateDir, '--out', join(dir, 'm.png')]);
    expectRefused(vis, /CheckpointError: .*state\.json: holds null, not an automix run state/, 'visualize state.json null');
    // A run's own state.json plots (it carries the config and the epochs).
    const ok = automix(['plot', '--json', join(run, 'state.json'), '--out', join(dir, 'ok.png')]);
    expect(ok.code, ok.out).toBe(0);
  });

  it('each command has --help', () => {
    for (const cmd of ['train', 'eval', 'visualize', 'plot']) {
      const r = automix([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.out, cmd).toMatch(new RegExp(`automix ${cmd}`));
      expect(r.out, cmd).toMatch(/Usage/);
    }
    expect(automix(['visualize', '-h']).out).toMatch(/--pairs N/);
  });
});

describe('Ctrl-C and adapter limits (items 13, 14)', async () => {
  const { createEngine } = await import('../../src/index.js');
  const probe = await createEngine();
  const bindingLimit = probe.limits.maxStorageBufferBindingSize;
  const PER_IMAGE = 16 * 28 * 28 * 4;
  probe.destroy();
  it('a second Ctrl-C aborts with status 130 and says what is left', async () => {
    const dir = tmp();
    const child = spawn(
      process.execPath,
      [
        BIN,
        'train',
        '--method',
        'none',
        '--width',
        '0.25',
        '--limit-train',
        '1024',
        '--limit-test',
        '16',
        '--batch-size',
        '128',
        '--epochs',
        '1',
        '--out',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (/training resnet18/.test(out)) {
          clearInterval(poll);
          child.kill('SIGINT');
          const again = setInterval(() => {
            if (/stopping after this step/.test(out)) {
              clearInterval(again);
              child.kill('SIGINT');
              resolve();
            }
          }, 5);
        } else if (Date.now() - t0 > 120_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
          reject(new Error(`no start within 120 s:\n${out}`));
        }
      }, 20);
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code, out).toBe(130);
    expect(out).toMatch(
      /aborted by a second Ctrl-C; (no checkpoint had been written to .* yet: rerun to start again|the last checkpoint .* is intact: continue with --resume)/,
    );
  });

  // The first conv's output at width 0.25 is 16 channels × 28 × 28 floats per image; the
  // smallest batch whose activation does not fit one binding of this adapter.
  const batch = Math.floor(bindingLimit / PER_IMAGE) + 2;
  it.skipIf(batch > 4096)(
    '--batch-size too large for maxStorageBufferBindingSize: the LimitError says which batch fits [needs a binding limit under 4096 images]',
    async () => {
      const r = automix([
        'train',
        '--method',
        'none',
        '--width',
        '0.25',
        '--limit-train',
        String(batch),
        '--limit-test',
        '16',
        '--batch-size',
        String(batch),
        '--epochs',
        '1',
        '--out',
        tmp(),
      ]);
      expectRefused(
        r,
        /LimitError: .*maxStorageBufferBindingSize.*; a batch of \d+ is too large for this adapter: at most \d+ images fit this buffer, so try --batch-size \d+ or smaller/,
        'huge batch',
      );
      const fit = Number(/try --batch-size (\d+) or smaller/.exec(r.out)![1]);
      expect(fit).toBeLessThan(batch);
      expect(fit * PER_IMAGE).toBeLessThanOrEqual(bindingLimit);
    },
  );
});
