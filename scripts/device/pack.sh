#!/bin/bash
# Prepares .gpu/ (ignored by git) for a run on a lent GPU machine that has no Node:
# the CLI and the bench bundled with esbuild, this machine's node binary and Dawn's
# dawn.node (xz), Fashion-MNIST, and the Vulkan loader packages (.gl/, see the device
# tool's README). The working tree that travels must stay under 64 MiB, so the large
# files are xz-compressed and unpacked by scripts/device/run.sh on the machine.
#   scripts/device/pack.sh            # then: run(command='scripts/device/run.sh', carry=['.gpu', '.gl'])
set -euo pipefail
cd "$(dirname "$0")/../.."
G=.gpu
mkdir -p $G/cli $G/bench $G/fm $G/node_modules/webgpu/dist/linux-x64
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >> .git/info/exclude
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
echo '{"type":"module"}' > $G/package.json

# The bundles keep `webgpu` external (its dawn.node is loaded by path) and give ESM a `require`.
BANNER='import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);'
ESB="npx esbuild --bundle --platform=node --format=esm --target=node20 --external:webgpu --log-level=warning"
# The CLI bundle must be named cli/main.js: that is how main.ts knows it is the entry point.
# It finds kernels/*.wgsl by walking up from .gpu/cli/ to the repository root.
$ESB src/cli/main.ts --banner:js="$BANNER" --outfile=$G/cli/main.js
$ESB bench/run.ts --banner:js="$BANNER" --outfile=$G/bench/run.js
xz -f -T0 -6 $G/bench/run.js

# An unpacked dawn.node (left by trying run.sh here) would push .gpu past the 64 MiB carry limit.
rm -f $G/node_modules/webgpu/dist/linux-x64/dawn.node
cp node_modules/webgpu/package.json node_modules/webgpu/index.js $G/node_modules/webgpu/ 2>/dev/null || true
[ -f $G/dawn.node.xz ] || xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > $G/dawn.node.xz
[ -f $G/node.xz ] || xz -T0 -6 -c "$(command -v node)" > $G/node.xz

FM=${AUTOMIX_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ ! -f $G/fm/train-images.xz ]; then
  # The gzip of the training images is 26 MB; xz of the raw file is 23 MB.
  src=$FM/train-images-idx3-ubyte.gz
  [ -f "$src" ] || { echo "pack: $src missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
  gzip -dc "$src" | xz -T0 -9 > $G/fm/train-images.xz
fi
for f in t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz train-labels-idx1-ubyte.gz; do cp -n "$FM/$f" $G/fm/; done

cat > $G/probe.mjs <<'JS'
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const a = await create([]).requestAdapter();
if (!a) { console.log('NO ADAPTER'); process.exit(3); }
console.log('adapter', JSON.stringify({ vendor: a.info.vendor, architecture: a.info.architecture, device: a.info.device, description: a.info.description }), [...a.features].join(','));
process.exit(0);
JS

if ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh $G .gl
total=$(du -sbc $G .gl | tail -1 | cut -f1)
if [ "$total" -gt $((64 * 1024 * 1024)) ]; then
  echo "pack: .gpu and .gl hold $((total / 1048576)) MiB, over the device tool's 64 MiB carry limit (old runs in $G/runs?)" >&2
  exit 1
fi
