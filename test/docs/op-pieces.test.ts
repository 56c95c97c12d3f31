/**
 * docs/architecture.md's "Finding an op's pieces" is how a newcomer finds an
 * op's kernel, launcher, backward rule, reference, test, doc and bench case
 * from its name. This keeps it true: every op module and every kernel file is
 * in its table, and every op with a backward rule (a module that declares its
 * `OpPayloads` entry) has `src/reference/<op>.ts`, `test/ops/<op>.test.ts` and
 * `bench/cases/<op>.ts`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const arch = read('docs/architecture.md');
const section = arch.slice(arch.indexOf("## Finding an op's pieces"), arch.indexOf('\n## ', arch.indexOf("## Finding an op's pieces") + 1));

const opModules = readdirSync(join(root, 'src/ops')).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'launch.ts');
const kernelFiles = readdirSync(join(root, 'kernels')).filter((f) => f.endsWith('.wgsl'));
const recordingOps = opModules.filter((f) => read(`src/ops/${f}`).includes("declare module '../autograd/payloads.js'")).map((f) => f.replace(/\.ts$/, ''));

describe("docs/architecture.md: finding an op's pieces", () => {
  it('has the section', () => {
    expect(section.length).toBeGreaterThan(100);
  });

  it('lists every op module', () => {
    expect(opModules.filter((f) => !section.includes(`src/ops/${f}`))).toEqual([]);
  });

  it('lists every kernel file', () => {
    expect(kernelFiles.filter((f) => !section.includes(`kernels/${f}`))).toEqual([]);
  });

  it('finds ops that record a backward rule', () => {
    expect(recordingOps).toContain('conv2d');
    expect(recordingOps).toContain('mix-block-attention');
  });

  it.each(recordingOps)('%s has its reference, test and bench case under its name', (op) => {
    const missing = [`src/reference/${op}.ts`, `test/ops/${op}.test.ts`, `bench/cases/${op}.ts`].filter((p) => !existsSync(join(root, p)));
    expect(missing).toEqual([]);
  });
});
