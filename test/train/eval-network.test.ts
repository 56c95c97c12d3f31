// `automix eval` of an AutoMix run scores the network the run reported (the momentum network in
// model.safetensors) unless told otherwise, says which network it scores, and refuses a
// --network the run or file does not hold.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const BIN = join(__dirname, '..', '..', 'bin', 'automix.js');

function automix(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

const acc = (out: string, network: string, head: string) => Number(new RegExp(`${network} network, head ${head}: test accuracy ([0-9.]+)%`).exec(out)?.[1]);

it('eval scores the reported (momentum) network by default, the online one with --network online, and says which', () => {
  const dir = mkdtempSync(join(tmpdir(), 'automix-evalnet-'));
  const run = join(dir, 'run');
  const json = join(dir, 'run.json');
  const train = automix([
    'train',
    '--method',
    'automix',
    '--width',
    '0.0625',
    '--limit-train',
    '48',
    '--limit-test',
    '20',
    '--batch-size',
    '16',
    '--epochs',
    '1',
    '--seed',
    '5',
    '--out',
    run,
    '--json',
    json,
  ]);
  expect(train.code, train.out).toBe(0);
  const record = JSON.parse(readFileSync(json, 'utf8')) as { final: { test_acc: number; head: string }; epochs: { test_acc_heads: Record<string, number> }[] };
  expect(record.final.head).toMatch(/momentum network, head_one/);
  const heads = record.epochs.at(-1)!.test_acc_heads;

  const mom = automix(['eval', '--checkpoint', run, '--limit-test', '20']);
  expect(mom.code, mom.out).toBe(0);
  expect(mom.out).toMatch(/evaluating the momentum network \(model\.safetensors\)/);
  // The exported model's accuracy is the one the run reported: same head, same images (20 of them: whole percents, no rounding in the printed 2 decimals).
  expect(acc(mom.out, 'momentum', 'head_one')).toBeCloseTo(100 * record.final.test_acc, 6);
  expect(acc(mom.out, 'momentum', 'head_mix')).toBeCloseTo(100 * heads['momentum.head_mix']!, 6);

  const onl = automix(['eval', '--checkpoint', run, '--network', 'online', '--limit-test', '20']);
  expect(onl.code, onl.out).toBe(0);
  expect(onl.out).toMatch(/evaluating the online network \(model-online\.safetensors\)/);
  expect(acc(onl.out, 'online', 'head_one')).toBeCloseTo(100 * heads['online.head_one']!, 6);
  expect(acc(onl.out, 'online', 'head_mix')).toBeCloseTo(100 * heads['online.head_mix']!, 6);

  // A file is used as given; its metadata names its network.
  const file = automix(['eval', '--checkpoint', join(run, 'model-online.safetensors'), '--limit-test', '20']);
  expect(file.out).toMatch(/evaluating the online network \(model-online\.safetensors\)/);
  const wrong = automix(['eval', '--checkpoint', join(run, 'model.safetensors'), '--network', 'online']);
  expect(wrong.code).toBe(1);
  expect(wrong.out).toMatch(/ConfigError: --network online: .*model\.safetensors holds the momentum network, not the online one/);
  expect(automix(['eval', '--checkpoint', run, '--network', 'ema']).out).toMatch(/--network: must be momentum or online, got 'ema'/);

  // A run with one network (another method: model.safetensors holds the online network) has no momentum network.
  const single = join(dir, 'single');
  mkdirSync(single);
  copyFileSync(join(run, 'model-online.safetensors'), join(single, 'model.safetensors'));
  const none = automix(['eval', '--checkpoint', single, '--network', 'momentum']);
  expect(none.code).toBe(1);
  expect(none.out).toMatch(/--network momentum: the run in .* has no momentum network \(only AutoMix runs have one\)/);

  const vis = automix(['visualize', '--checkpoint', run, '--pairs', '2', '--out', join(dir, 'm.png')]);
  expect(vis.code, vis.out).toBe(0);
  expect(vis.out).toMatch(/masks from the momentum encoder and Mix Block of ckpt-/);
});
