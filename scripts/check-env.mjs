#!/usr/bin/env node
// Checks (and where it can, installs) what the tests and the trainer need:
// npm dependencies, and a Vulkan driver Dawn can use (on a GPU-less Linux
// machine: Mesa's lavapipe from bookworm-backports). Says exactly what to do
// when it cannot fix something itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => process.stderr.write(`[check-env] ${m}\n`);

if (!existsSync(join(root, 'node_modules', 'webgpu'))) {
  say('node_modules missing: running npm ci');
  const r = spawnSync('npm', ['ci'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.platform === 'linux') {
  const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const icds = icdDirs.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')) : []));
  const hasLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some(existsSync);
  let mesaOld = false;
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a JS template
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'mesa-vulkan-drivers'], { encoding: 'utf8' });
    mesaOld = /^2[0-3]\./.test(v);
  } catch {
    /* not Debian, or not installed */
  }
  if (!hasLoader || icds.length === 0 || mesaOld) {
    const why = !hasLoader ? 'no Vulkan loader (libvulkan1)' : icds.length === 0 ? 'no Vulkan driver (ICD)' : "Mesa's Vulkan driver is older than Dawn needs";
    const isRoot = process.getuid?.() === 0;
    if (existsSync('/etc/debian_version') && isRoot) {
      say(`${why}: installing Mesa lavapipe from bookworm-backports (scripts/install-system-deps.sh)`);
      const r = spawnSync(join(root, 'scripts', 'install-system-deps.sh'), [], { stdio: 'inherit' });
      if (r.status !== 0) process.exit(r.status ?? 1);
    } else {
      say(`${why}. Install a Vulkan driver: with a GPU, its vendor driver; without one, on Debian 12:`);
      say('  sudo ./scripts/install-system-deps.sh   (adds bookworm-backports, installs mesa-vulkan-drivers libvulkan1)');
      process.exit(1);
    }
  }
  if (!existsSync('/usr/share/datasets/fashion-mnist') && !process.env.AUTOMIX_FASHION_MNIST_DIR) {
    if (existsSync('/etc/debian_version') && process.getuid?.() === 0) {
      say('Fashion-MNIST missing: installing Debian package dataset-fashion-mnist');
      spawnSync('apt-get', ['install', '-y', '-qq', 'dataset-fashion-mnist'], { stdio: 'inherit' });
    } else {
      say('Fashion-MNIST not found: sudo apt-get install dataset-fashion-mnist, or set AUTOMIX_FASHION_MNIST_DIR to a directory with its IDX files');
    }
  }
}
if (!process.env.XDG_RUNTIME_DIR) say('note: XDG_RUNTIME_DIR is unset; the engine uses /tmp');
