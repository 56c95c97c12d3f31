/**
 * The variant column: the kernel configurations the autotuner chose during a
 * case's timed call (Tuner.choicesSince), whatever the families — matmul
 * today, any family registered later — so that a new tuned op shows up
 * without a change here. Pure (tested in test/bench/).
 */
import type { ChoiceUse } from '../src/tune/tuner.js';

/**
 * 'tiled_v4 64×64×16 8×8 (cache)' for one choice; a configuration that ran
 * several problems once with ' ×n'; the family's name in front of each group
 * when the call used more than one family ('matmul: … ; conv2d: …').
 * undefined when the call used no tuned family.
 */
export function describeChoices(uses: readonly ChoiceUse[]): string | undefined {
  if (!uses.length) return undefined;
  const byFamily = new Map<string, Map<string, number>>();
  for (const u of uses) {
    const configs = byFamily.get(u.family) ?? new Map<string, number>();
    const label = `${u.name} (${u.source})`;
    configs.set(label, (configs.get(label) ?? 0) + 1);
    byFamily.set(u.family, configs);
  }
  const groups = [...byFamily].map(([family, configs]) => {
    const list = [...configs].map(([label, n]) => (n > 1 ? `${label} ×${n}` : label)).join(', ');
    return byFamily.size > 1 ? `${family}: ${list}` : list;
  });
  return groups.join('; ');
}
