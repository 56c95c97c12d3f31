#!/usr/bin/env node
/**
 * Browser test runner (`npm run test:browser`):
 *   1. bundles the browser entry (src/browser.ts) with Vite for the browser and
 *      checks the bundle holds no Node built-ins, no Dawn, and every kernels/*.wgsl;
 *   2. serves test/browser/ with a Vite dev server on a free localhost port;
 *   3. opens it in headless Chromium (Debian's /usr/bin/chromium, driven by
 *      playwright-core; never a downloaded browser) with WebGPU enabled, runs
 *      the suite inside the page (test/browser/suite.ts) and prints the adapter
 *      and every result;
 *   4. always closes the browser and the server; exits non-zero on any failure.
 * Every step has a timeout; the whole run is capped at RUN_TIMEOUT_MS.
 *
 *   node test/browser/run.mjs [--filter TEXT] [--skip-bundle]
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumMissing, launchChromium, startVite, withTimeout } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_TIMEOUT_MS = 300_000;
const SUITE_TIMEOUT_MS = 270_000;

const args = process.argv.slice(2);
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined;
const skipBundle = args.includes('--skip-bundle');

const say = (m) => process.stdout.write(`[test:browser] ${m}\n`);

const kernelFamilies = () =>
  readdirSync(join(root, 'kernels'))
    .filter((f) => f.endsWith('.wgsl'))
    .map((f) => f.slice(0, -5))
    .sort();

/** Vite browser build of src/browser.ts, in memory; returns problems found (empty = fine). */
async function checkBundle() {
  const { build } = await import('vite');
  const out = await build({
    configFile: false,
    root,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: { entry: join(root, 'src/browser.ts'), formats: ['es'], fileName: 'automix-webgpu' },
    },
  });
  const chunks = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output).filter((c) => c.type === 'chunk');
  const code = chunks.map((c) => c.code).join('\n');
  const problems = [];
  if (/__vite-browser-external/.test(code)) problems.push('a Node built-in was externalised (Vite replaced it by __vite-browser-external)');
  const nodeImports = [...code.matchAll(/(?:from\s*|import\s*\(\s*)["'](node:[^"']+)["']/g)].map((m) => m[1]);
  if (nodeImports.length) problems.push(`imports Node built-ins: ${[...new Set(nodeImports)].join(', ')}`);
  if (/\brequire\(\s*["']/.test(code)) problems.push('contains require() calls');
  if (/dawn\.node|from\s*["']webgpu["']/.test(code)) problems.push("pulls in Dawn (npm 'webgpu')");
  const missing = kernelFamilies().filter((f) => !code.includes(`kernels/${f}.wgsl`));
  if (missing.length) problems.push(`WGSL not bundled: ${missing.join(', ')}`);
  return { problems, bytes: code.length, modules: chunks.reduce((n, c) => n + Object.keys(c.modules).length, 0) };
}

let vite = null;
let browser = null;

async function cleanup() {
  if (browser) {
    await browser.close();
    browser = null;
  }
  if (vite) {
    await vite.close();
    vite = null;
  }
}

// Hard cap: whatever hangs, clean up and fail.
const watchdog = setTimeout(() => {
  say(`FAIL: the browser tests did not finish within ${RUN_TIMEOUT_MS / 1000} s`);
  void withTimeout(cleanup(), 20_000, 'cleanup').finally(() => process.exit(1));
}, RUN_TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    void withTimeout(cleanup(), 20_000, 'cleanup').finally(() => process.exit(130));
  });
}

async function main() {
  const missing = chromiumMissing();
  if (missing) {
    for (const line of missing.split('\n')) say(`FAIL: ${line}`);
    return 1;
  }
  const failures = [];
  const t0 = performance.now();

  if (!skipBundle) {
    try {
      const b = await withTimeout(checkBundle(), 60_000, 'Vite bundle of src/browser.ts');
      if (b.problems.length) failures.push(`bundle: ${b.problems.join('; ')}`);
      say(
        `${b.problems.length ? 'FAIL' : 'PASS'} bundle: Vite browser build of src/browser.ts — ${b.modules} modules, ${(b.bytes / 1024).toFixed(0)} KiB${b.problems.length ? `: ${b.problems.join('; ')}` : ', no Node built-ins, all WGSL inlined'}`,
      );
    } catch (e) {
      failures.push(`bundle: ${e.message}`);
      say(`FAIL bundle: Vite browser build of src/browser.ts failed: ${e.message.split('\n')[0]}`);
    }
  }

  vite = await startVite(root, join(root, 'test/browser'));
  const url = vite.url;
  say(`Vite dev server on ${url}`);
  browser = await launchChromium();
  const { page, context } = browser;
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('[vite]')) return;
    process.stdout.write(`  [page] ${t}\n`);
  });
  page.on('pageerror', (e) => process.stdout.write(`  [page error] ${e.message}\n`));
  say(`Chromium ${context.browser()?.version() ?? ''} (${CHROMIUM}, ${CHROMIUM_FLAGS.join(' ')})`);

  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  await page.waitForFunction(() => window.__suiteReady === true, null, { timeout: 60_000 });
  const suite = await withTimeout(
    page.evaluate((f) => window.__runSuite(f), filter),
    SUITE_TIMEOUT_MS,
    'the in-page suite',
  );

  const a = suite.adapter;
  if (!a) {
    failures.push('no WebGPU adapter');
    say('FAIL: Chromium exposed no WebGPU adapter');
  } else {
    say(
      `adapter: vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', description '${a.description}', fallback (software) adapter: ${a.isFallbackAdapter ? 'yes' : 'no'}`,
    );
    say(`         features: ${a.features.join(', ')}`);
    if (!a.vendor && !a.architecture) failures.push('the adapter reports neither vendor nor architecture');
  }
  if (a) {
    const want = kernelFamilies();
    const got = suite.kernelFamilies;
    const missing = want.filter((f) => !got.includes(f));
    if (missing.length) failures.push(`kernels missing from the page bundle: ${missing.join(', ')}`);
    say(
      `${missing.length ? 'FAIL' : 'PASS'} kernel bundle: ${got.length}/${want.length} kernels/*.wgsl inlined in the page${missing.length ? ` (missing ${missing.join(', ')})` : ''}`,
    );
  }
  for (const r of suite.results) {
    say(`${r.status.toUpperCase().padEnd(4)} ${r.name} (${(r.ms / 1000).toFixed(1)} s) — ${r.detail}`);
    // Anything but a pass fails the run: a test that did not run proves nothing.
    if (r.status !== 'pass') failures.push(r.name);
  }
  if (suite.results.length === 0) failures.push('the suite ran no tests');
  const counts = ['pass', 'fail'].map((s) => `${suite.results.filter((r) => r.status === s).length} ${s}`).join(', ');
  say(`${counts} in page; ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
  if (failures.length) {
    say(`FAILED: ${failures.join(' | ')}`);
    return 1;
  }
  say('all browser tests passed');
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  say(`FAIL: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  code = 1;
} finally {
  await withTimeout(cleanup(), 30_000, 'cleanup').catch((e) => say(`warning: ${e.message}`));
  clearTimeout(watchdog);
}
process.exit(code);
