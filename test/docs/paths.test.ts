/**
 * Every repository path a document names exists: README.md and docs/**.md are
 * how a newcomer finds an op's kernel, launcher, reference, test and bench
 * case, so a renamed file must not leave a doc pointing at nothing.
 * A path counts when it starts with one of the repository's top-level folders
 * (src/, kernels/, test/, …); it may be relative to the repository root or to
 * the document's folder (Markdown links). Globs and placeholders are skipped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const PATH = /(?<![\w./-])((?:src|kernels|test|bench|docs|scripts|web|bin|\.ci)\/[\w./*-]*[\w*])/g;

function markdownFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? markdownFiles(join(dir, d.name)) : d.name.endsWith('.md') ? [join(dir, d.name)] : [],
  );
}

/** `path` mentions in `file` that resolve neither from the root nor from the file's folder. */
function missingPaths(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const missing: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(PATH)) {
      const p = m[1]!.replace(/\.+$/, '');
      if (p.includes('*') || p.includes('<')) continue;
      if (!existsSync(join(root, p)) && !existsSync(join(root, dirname(file), p))) missing.push(`${file}:${i + 1} ${p}`);
    }
  });
  return missing;
}

describe('docs name only paths that exist', () => {
  const files = ['README.md', ...markdownFiles('docs')];
  it.each(files)('%s', (file) => {
    expect(missingPaths(file)).toEqual([]);
  });
});
