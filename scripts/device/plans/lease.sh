# One lease, both GPU issues, in about 8 minutes (a session's device time is 15 minutes in all,
# machine start included): the step's host cost (issue 15), the kernel bench against TF.js with
# tuning from a cold cache (issue 16), then the main job tuned from that cache (both issues).
#   1. bench --host: host ms per step eager vs replayed, the raw Dawn floors, wall ms per step in
#      the steady state and the GPU-time sum of one step (ResNet-18 ×0.25 b100, ViT-tiny b32).
#   2. bench --vs tfjs --quick --full with AUTOMIX_TUNE=full and an empty cache: every case's
#      chosen variant, the [tune] lines (winner vs static rule per shape) and tune.json.
#   3. the main job (AutoMix, Fashion-MNIST) with AUTOMIX_TUNE=cached for the rest: images/s
#      (2026-11-26: ≈ 850, eager steps, lavapipe-tuned kernels) and step 30's GPU time by kernel
#      (--profile-step; the bench's replayed cases print the same table), its checkpoint comes back
#      (run.sh) and continues with --resume on the next lease.
# Record device, date and figures in docs/performance.md and docs/kernels.md.
#   scripts/device/pack.sh
#   run(command='scripts/device/run.sh scripts/device/plans/lease.sh', carry=['.gpu', '.gl'], timeout_s=600)
export XDG_CACHE_HOME=/tmp/tune-cache
rm -rf "$XDG_CACHE_HOME"
BENCH_S=${HOST_S:-100} bench --host --json /tmp/res/step-host.json
cp /tmp/res/bench.log /tmp/res/step-host.log
BENCH_S=${TUNE_S:-270} AUTOMIX_TUNE=full bench --vs tfjs --quick --full --json /tmp/res/bench-tune-cold.json --md /tmp/res/bench-tune-cold.md
cp /tmp/res/bench.log /tmp/res/bench-tune-cold.log
cp "$XDG_CACHE_HOME/automix-webgpu/tune.json" /tmp/res/tune.json 2>/dev/null || echo "no tuning cache was written"
TRAIN_S=${TRAIN_S:-150} AUTOMIX_TUNE=cached train fmnist-automix --data fashion-mnist --model resnet18 --width 0.25 --method automix --profile-step 30
