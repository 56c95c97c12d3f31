/**
 * Shared by the browser test runner and the demo screenshot script: Debian's
 * Chromium (never a downloaded browser) with WebGPU enabled, driven by
 * playwright-core, in a fresh profile; plus small helpers.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The message to print when Chromium is missing, or null when it is there. */
export function chromiumMissing() {
  if (existsSync(CHROMIUM)) return null;
  return `Chromium is not installed at ${CHROMIUM} (the browser tests use Debian's package, never a downloaded browser). Install it with:\n  sudo apt-get install chromium`;
}

export function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Launches headless Chromium in a fresh profile directory.
 * Returns { context, page, close }; close() shuts the browser and removes the profile.
 */
export async function launchChromium({ viewport = { width: 1280, height: 900 }, timeout = 30_000 } = {}) {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'automix-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport,
      timeout,
    });
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(timeout);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await withTimeout(context.close(), 15_000, 'closing Chromium').catch(() => undefined);
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, page, close };
}

/** Starts a Vite dev server from vite.config.ts on a free 127.0.0.1 port (no HMR, no file watching). */
export async function startVite(root, pageRoot) {
  const { createServer } = await import('vite');
  const port = await freePort();
  const server = await createServer({
    configFile: join(root, 'vite.config.ts'),
    root: pageRoot,
    logLevel: 'warn',
    clearScreen: false,
    // Files edited during a run must not reload the page.
    server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null },
  });
  await withTimeout(server.listen(), 30_000, 'starting the Vite dev server');
  return { server, url: `http://127.0.0.1:${port}/`, close: () => withTimeout(server.close(), 10_000, 'closing the Vite server').catch(() => undefined) };
}
