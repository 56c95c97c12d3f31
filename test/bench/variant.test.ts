// The bench's variant column: the text made of the tuner's choices (pure),
// and Tuner.choicesSince, which the bench reads around a timed call, on this
// machine's adapter (lavapipe in CI) with tuning off (nothing is measured).
import { afterAll, describe, expect, it } from 'vitest';
import { CASES } from '../../bench/cases/index.js';
import { describeChoices } from '../../bench/variant.js';
import { createEngine, type Engine, memoryTuneStore, ops, tunerOf } from '../../src/index.js';
import type { ChoiceUse } from '../../src/tune/tuner.js';

const use = (family: string, name: string, source: ChoiceUse['source'] = 'static', key = `${family}:${name}`): ChoiceUse => ({ family, key, name, source });

describe('describeChoices', () => {
  it('is undefined when no tuned family ran', () => {
    expect(describeChoices([])).toBeUndefined();
  });

  it('gives one choice as "name (source)", as the matmul rows always read', () => {
    expect(describeChoices([use('matmul', 'tiled_v4 64×64×16 8×8', 'cache')])).toBe('tiled_v4 64×64×16 8×8 (cache)');
  });

  it('counts a configuration that ran several problems, keeps the order of use', () => {
    const uses = [use('matmul', 'sg8 TM32', 'static', 'a'), use('matmul', 'tiled 32', 'tuned', 'b'), use('matmul', 'sg8 TM32', 'static', 'c')];
    expect(describeChoices(uses)).toBe('sg8 TM32 (static) ×2, tiled 32 (tuned)');
  });

  it('names the families when a call used several', () => {
    const uses = [use('conv2d', 'implicit 64×64'), use('matmul', 'sg8 TM32', 'cache'), use('conv2d', 'implicit 64×64', 'static', 'k2')];
    expect(describeChoices(uses)).toBe('conv2d: implicit 64×64 (static) ×2; matmul: sg8 TM32 (cache)');
  });
});

describe('the case list', () => {
  it('has one row per "kernel case" (the strings --filter reads)', () => {
    const names = CASES.map((c) => `${c.kernel} ${c.name}`);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('Tuner.choicesSince', () => {
  let e: Engine | null = null;
  afterAll(() => e?.destroy());

  it('returns the problems chosen for after a mark, each with its latest choice, in the order of that choice', async () => {
    e = await createEngine({ tune: 'off', tuneStore: memoryTuneStore() });
    const t = tunerOf(e);
    const a = e.tensor(new Float32Array(16 * 8).fill(1), [16, 8]);
    const b = e.tensor(new Float32Array(8 * 4).fill(1), [8, 4]);
    const c = e.tensor(new Float32Array(4 * 8).fill(1), [4, 8]);
    ops.matmul(a, b).dispose();
    const mark = t.choiceCount;
    expect(t.choicesSince(mark)).toEqual([]);
    const ab = ops.matmul(a, b);
    ops.matmul(ab, c).dispose();
    ops.matmul(a, b).dispose();
    const uses = t.choicesSince(mark);
    expect(uses.map((u) => u.family)).toEqual(['matmul', 'matmul']);
    expect(uses.every((u) => u.source === 'static' && u.name.length > 0)).toBe(true);
    // [16, 4] × [4, 8] first, then [16, 8] × [8, 4] again: its latest choice.
    expect(uses[0]!.key).not.toBe(uses[1]!.key);
    expect(uses[1]!.key).toBe(t.choicesSince(t.choiceCount - 1)[0]!.key);
    expect(t.choicesSince(t.choiceCount)).toEqual([]);
    for (const x of [a, b, c, ab]) x.dispose();
  });
});
