#!/usr/bin/env node
// The `automix` command. In a development checkout (src/ present) it runs the
// TypeScript sources through tsx, so it never runs a stale build; an installed
// package ships only dist/ and runs the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(fileURLToPath(src))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(src.href);
} else {
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
