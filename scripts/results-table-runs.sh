#!/usr/bin/env bash
# The runs behind docs/automix.md's results table, one after another on this machine's adapter
# (lavapipe here): none / mixup / cutmix / automix × seeds 0 and 1, same model, epochs, data.
#   scripts/results-table-runs.sh [OUT_DIR]      (default runs/table)
# Each run writes OUT_DIR/NAME.json and checkpoints in OUT_DIR/NAME/; a finished run (its JSON
# exists) is skipped and an interrupted one continues with --resume, so the script can be
# stopped (Ctrl-C checkpoints first) and started again. Sizes come from the environment:
# EPOCHS (12), LIMIT (training images, 1000), TEST (test images, 1000), WIDTH (0.125),
# BATCH (50), EMA (AutoMix's --ema-momentum; unset: the CLI's default, auto), SEEDS ("0 1"),
# METHODS ("none mixup cutmix automix").
# Then: node scripts/results-table.mjs OUT_DIR/*.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/table}
EPOCHS=${EPOCHS:-12} LIMIT=${LIMIT:-1000} TEST=${TEST:-1000} WIDTH=${WIDTH:-0.125} BATCH=${BATCH:-50}
mkdir -p "$out"
for s in ${SEEDS:-0 1}; do
  for m in ${METHODS:-none mixup cutmix automix}; do
    name=$m-$s
    [ -f "$out/$name.json" ] && { echo "$name: done ($out/$name.json)"; continue; }
    args=(train --method "$m" --seed "$s" --epochs "$EPOCHS" --limit-train "$LIMIT" --limit-test "$TEST"
          --width "$WIDTH" --batch-size "$BATCH" --checkpoint-every 20 --keep-checkpoints 1
          --out "$out/$name" --json "$out/$name.json.part")
    [ "$m" = automix ] && [ -n "${EMA:-}" ] && args+=(--ema-momentum "$EMA")
    [ -f "$out/$name/state.json" ] && args+=(--resume)
    echo "$name: automix ${args[*]}"
    node bin/automix.js "${args[@]}" 2>&1 | tee -a "$out/$name.log" | grep -E '^epoch [0-9]+:|^final|rror'
    mv "$out/$name.json.part" "$out/$name.json"
  done
done
for s in ${SEEDS:-0 1}; do
  [ -d "$out/automix-$s" ] && node bin/automix.js visualize --checkpoint "$out/automix-$s" \
    --out "$out/masks-automix-$s.png" 2>&1 | tail -1
done
