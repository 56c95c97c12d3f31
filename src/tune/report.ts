/**
 * What kernels a piece of work ran, for a run's log and record: the tuner's choices (one per
 * problem, `Tuner.choicesSince`) counted by family and configuration, with where each choice came
 * from (the static rule, the cache, a tuning in this process, a forced config).
 */
import type { ChoiceUse } from './tuner.js';

/** family → `${configuration} (${source})` → problems. */
export type KernelSummary = Record<string, Record<string, number>>;

export function kernelSummary(uses: readonly ChoiceUse[]): KernelSummary {
  const out: KernelSummary = {};
  for (const u of uses) {
    const f = (out[u.family] ??= {});
    const k = `${u.name} (${u.source})`;
    f[k] = (f[k] ?? 0) + 1;
  }
  return out;
}

/** One line: `conv2d: sg ×18, im2col ×2 (static); matmul: sg8 TM24 ×4 (static)`, families in order of first use. */
export function formatKernelSummary(s: KernelSummary): string {
  return Object.entries(s)
    .map(([family, configs]) => {
      // Configurations sharing a source print it once, after the last.
      const bySource = new Map<string, string[]>();
      for (const [k, n] of Object.entries(configs)) {
        const [, name, source] = /^(.*) \((\w+)\)$/.exec(k)!;
        bySource.set(source!, [...(bySource.get(source!) ?? []), `${name} ×${n}`]);
      }
      return `${family}: ${[...bySource].map(([src, names]) => `${names.join(', ')} (${src})`).join(', ')}`;
    })
    .join('; ');
}
