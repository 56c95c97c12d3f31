# Issue 16: the kernel benchmark against TF.js on the same adapter with kernel autotuning from a
# cold cache (AUTOMIX_TUNE=full, an empty XDG_CACHE_HOME: every matmul, conv2d and Mix Block
# attention shape the bench and its training steps use is measured on its first use, src/tune/:
# the GPU variants — tiled matmul, implicit-GEMM conv, tiled fused attention — compete with the
# static rules there), then the same bench again reading the cache the first run wrote
# (AUTOMIX_TUNE=cached: the second run starts tuned). The bench prints each case's chosen
# variant (every tuned family) and a "kernel tuning" line (shapes, configs timed,
# seconds); the [tune] lines (winner, static rule, times) are in the logs, the cache itself in
# tune.json. Record the figures, device and date in docs/performance.md and docs/kernels/matmul.md.
#   scripts/device/pack.sh
#   run(command='BENCH_S=240 scripts/device/run.sh scripts/device/plans/bench-tune.sh', carry=['.gpu', '.gl'], timeout_s=600)
# MAIN=1 also starts the main job afterwards (AutoMix on Fashion-MNIST, tuned from the cache).
export XDG_CACHE_HOME=/tmp/tune-cache
rm -rf "$XDG_CACHE_HOME"
AUTOMIX_TUNE=full bench --vs tfjs --quick --full --json /tmp/res/bench-tune-cold.json --md /tmp/res/bench-tune-cold.md
cp /tmp/res/bench.log /tmp/res/bench-tune-cold.log
cp "$XDG_CACHE_HOME/automix-webgpu/tune.json" /tmp/res/tune.json 2>/dev/null || echo "no tuning cache was written"
AUTOMIX_TUNE=cached bench --vs tfjs --quick --full --json /tmp/res/bench-tune-cached.json --md /tmp/res/bench-tune-cached.md
cp /tmp/res/bench.log /tmp/res/bench-tune-cached.log
if [ -n "${MAIN:-}" ]; then
  AUTOMIX_TUNE=cached train fmnist-automix --data fashion-mnist --model resnet18 --width 0.25 --method automix
fi
