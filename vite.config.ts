/**
 * Vite configuration for the browser side of automix-webgpu:
 *   - `npm run demo:web` serves the demo page in web/ on localhost;
 *   - `npm run test:browser` (test/browser/run.mjs) reuses this file with
 *     root test/browser;
 *   - both get a read-only route /datasets/fashion-mnist/<file> serving the
 *     four Fashion-MNIST IDX files from $AUTOMIX_FASHION_MNIST_DIR or
 *     /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
 * The library itself needs nothing from here: its WGSL is bundled by
 * `import.meta.glob` in src/kernels/sources-browser.ts.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export const FASHION_MNIST_ROUTE = '/datasets/fashion-mnist/';
const FASHION_MNIST_BASES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

function fashionMnistDir(): string {
  const env = process.env['AUTOMIX_FASHION_MNIST_DIR'];
  return env ? env : '/usr/share/datasets/fashion-mnist';
}

/**
 * GET /datasets/fashion-mnist/<base> answers with <dir>/<base> or <dir>/<base>.gz
 * (the page's IDX parser gunzips when needed). Only the four known names are
 * served, so nothing else on disk is reachable through this route.
 */
export function fashionMnistRoute(): Plugin {
  const handler = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = req.url ?? '';
    if (!url.startsWith(FASHION_MNIST_ROUTE)) {
      next();
      return;
    }
    const base = decodeURIComponent(url.slice(FASHION_MNIST_ROUTE.length).split('?')[0]!).replace(/\.gz$/, '');
    const dir = fashionMnistDir();
    if (!FASHION_MNIST_BASES.includes(base)) {
      res.statusCode = 404;
      res.end(`unknown Fashion-MNIST file '${base}' (served: ${FASHION_MNIST_BASES.join(', ')})`);
      return;
    }
    const file = [join(dir, base), join(dir, `${base}.gz`)].find((f) => existsSync(f) && statSync(f).isFile());
    if (!file) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(
        `Fashion-MNIST file ${base}(.gz) not found in ${dir}. Install it with \`sudo apt-get install dataset-fashion-mnist\`, ` +
          'set AUTOMIX_FASHION_MNIST_DIR to a directory holding the IDX files, or pick the files on the page.',
      );
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(statSync(file).size));
    res.setHeader('x-source-file', file);
    createReadStream(file).pipe(res);
  };
  return {
    name: 'automix-fashion-mnist-route',
    configureServer(server) {
      server.middlewares.use(handler);
    },
    configurePreviewServer(server) {
      server.middlewares.use(handler);
    },
  };
}

export default defineConfig({
  root: resolve(here, 'web'),
  // Relative asset URLs, so the built demo also works from a sub-path.
  base: './',
  plugins: [fashionMnistRoute()],
  server: {
    host: 'localhost', // WebGPU needs a secure context: localhost qualifies, a LAN address does not
    port: 5173,
    fs: { allow: [here] },
  },
  preview: { host: 'localhost', port: 4173 },
  // Found up front, so the dev server never re-optimises (and reloads the page) mid-run.
  optimizeDeps: { include: ['fflate', 'wgsl_reflect/wgsl_reflect.module.js'] },
  build: {
    outDir: resolve(here, 'dist/web'),
    emptyOutDir: true,
    target: 'es2022',
  },
  esbuild: { target: 'es2022' },
});
