#!/usr/bin/env node
/**
 * Screenshot of the demo page after it has trained for a while:
 * serves web/ with Vite, opens it in headless Chromium (Debian's, WebGPU on),
 * starts training with URL parameters, waits until the page pauses itself
 * at step --steps, and writes docs/images/demo.png.
 *
 *   node scripts/screenshot-demo.mjs [--steps 40] [--batch 16] [--out docs/images/demo.png] [--timeout-min 20]
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium, startVite } from '../test/browser/chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const steps = Number(opt('steps', 40));
const batch = Number(opt('batch', 16));
const evalEvery = Number(opt('eval-every', 10));
const out = resolve(root, opt('out', 'docs/images/demo.png'));
const timeoutMs = Number(opt('timeout-min', 20)) * 60_000;
const say = (m) => process.stdout.write(`[screenshot] ${m}\n`);

const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}

let vite;
let browser;
let code = 1;
const watchdog = setTimeout(async () => {
  say(`timed out after ${timeoutMs / 60_000} min`);
  await browser?.close();
  await vite?.close();
  process.exit(1);
}, timeoutMs + 60_000);
try {
  vite = await startVite(root, join(root, 'web'));
  browser = await launchChromium({ viewport: { width: 1280, height: 1000 } });
  const { page } = browser;
  page.on('pageerror', (e) => say(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') say(`console: ${m.text()}`);
  });
  const url = `${vite.url}?autostart=1&stopAt=${steps}&batch=${batch}&train=2048&test=256&evalEvery=${evalEvery}`;
  say(`opening ${url}`);
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  const t0 = Date.now();
  let last = -1;
  for (;;) {
    const s = await page.evaluate(() => ({ step: window.__demo.step, state: window.__demo.state, error: window.__demo.error, adapter: window.__demo.adapter }));
    if (s.error) throw new Error(`the demo reported: ${s.error}`);
    if (s.step !== last) {
      say(
        `step ${s.step}/${steps} (${((Date.now() - t0) / 1000).toFixed(0)} s)${last < 0 && s.adapter ? `, adapter ${s.adapter.vendor}/${s.adapter.architecture}` : ''}`,
      );
      last = s.step;
    }
    if (s.step >= steps && s.state === 'paused') break;
    if (Date.now() - t0 > timeoutMs) throw new Error(`only ${s.step} steps after ${timeoutMs / 60_000} min`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  await new Promise((r) => setTimeout(r, 500));
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  say(`wrote ${out}`);
  code = 0;
} catch (e) {
  say(`FAIL: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  clearTimeout(watchdog);
  await browser?.close();
  await vite?.close();
}
process.exit(code);
