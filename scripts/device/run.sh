#!/bin/bash
# One prepared run on a lent GPU machine (see scripts/device/pack.sh, which makes .gpu/).
#   run(command='scripts/device/run.sh scripts/device/plans/table.sh', carry=['.gpu', '.gl'], timeout_s=...)
# The plan file calls `bench ARGS...` (foreground) and `train NAME ARGS...` (background, one
# automix process each); everything under /tmp/res — JSON, logs, bench tables, and each run's
# last checkpoint, so a run can be continued with --resume on the next lease — is packed into
# $OUT/results.tgz every 15 s, so a command stopped at its limit still returns what it made.
set -u
cd "$(dirname "$0")/../.."
PLAN=${1:?usage: run.sh PLAN_FILE}
G=$PWD/.gpu
T0=$(date +%s)
since() { echo $(( $(date +%s) - T0 )); }
[ -n "${SKIP_DPKG:-}" ] || { for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; }
xz -T0 -dc $G/node.xz > /tmp/node && chmod +x /tmp/node
mkdir -p $G/node_modules/webgpu/dist/linux-x64 && xz -T0 -dc $G/dawn.node.xz > $G/node_modules/webgpu/dist/linux-x64/dawn.node
xz -dc $G/bench/run.js.xz > $G/bench/run.js
mkdir -p /tmp/fm && xz -T0 -dc $G/fm/train-images.xz > /tmp/fm/train-images-idx3-ubyte && cp $G/fm/*.gz /tmp/fm/
export AUTOMIX_FASHION_MNIST_DIR=/tmp/fm XDG_RUNTIME_DIR=/tmp
mkdir -p /tmp/res /tmp/runs
nvidia-smi -L > /tmp/res/nvidia-smi.txt 2>&1
if ! (cd $G && /tmp/node probe.mjs) > /tmp/res/probe.txt 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  (cd $G && /tmp/node probe.mjs) >> /tmp/res/probe.txt 2>&1
fi
cat /tmp/res/probe.txt
echo "setup $(since) s"

# Runs carried back from an earlier lease (results.tgz unpacked into .gpu/runs) continue with --resume.
[ -d $G/runs ] && cp -r $G/runs/. /tmp/runs/

pack() {
  # Only the newest checkpoint of each run travels back (with its state.json and model.safetensors).
  rm -rf /tmp/pack && mkdir -p /tmp/pack/runs && cp -r /tmp/res /tmp/pack/
  for d in /tmp/runs/*/; do
    [ -f "$d/state.json" ] || continue
    n=$(basename "$d"); mkdir -p /tmp/pack/runs/$n
    ck=$(sed -n 's/.*"checkpoint": *"\([^"]*\)".*/\1/p' "$d/state.json")
    cp "$d/state.json" /tmp/pack/runs/$n/ && [ -n "$ck" ] && cp "$d/$ck" /tmp/pack/runs/$n/
    [ -f "$d/model.safetensors" ] && cp "$d/model.safetensors" /tmp/pack/runs/$n/
  done
  tar czf $OUT/results.tmp.tgz -C /tmp/pack . && mv $OUT/results.tmp.tgz $OUT/results.tgz
}
( while true; do sleep 15; pack; done ) &
PACKER=$!

bench() {
  echo "bench $* (at $(since) s)"
  (cd $G && timeout ${BENCH_S:-120} /tmp/node bench/run.js "$@") > /tmp/res/bench.log 2>&1
  echo "bench rc=$? at $(since) s"
}
train() {
  local name=$1; shift
  local resume=(); [ -f /tmp/runs/$name/state.json ] && resume=(--resume)
  echo "train $name $* ${resume[*]} (at $(since) s)"
  (cd $G && timeout ${TRAIN_S:-420} /tmp/node cli/main.js train "$@" "${resume[@]}" --out /tmp/runs/$name \
     --json /tmp/res/$name.json --checkpoint-every ${CHECKPOINT_EVERY:-100} --keep-checkpoints 1 >> /tmp/res/$name.log 2>&1; \
   echo "$name rc=$? at $(since) s") &
}
visualize() {
  (cd $G && timeout 30 /tmp/node cli/main.js visualize --checkpoint /tmp/runs/$1 --out /tmp/res/masks-$1.png > /tmp/res/visualize-$1.log 2>&1)
}
source "$PLAN"
for j in $(jobs -p); do [ "$j" != "$PACKER" ] && wait "$j"; done
echo "plan done at $(since) s"
[ "$(type -t after)" = function ] && after
kill $PACKER; pack
for f in /tmp/res/*.log; do echo "== $f"; tail -n 2 "$f"; done
