# The AutoMix results table (issue #6): none / mixup / cutmix / automix, seeds 0 and 1,
# one automix process each on one GPU. Sized by EPOCHS and LIMIT (training images) to fit one
# 15-minute lease: eight processes sharing an H100 ran at ≈ 160 (vanilla) and ≈ 67 (AutoMix)
# images/s each (2026-11-26), so 3 000 images × 10 epochs is ≈ 450 s for an AutoMix run.
EPOCHS=${EPOCHS:-10}
LIMIT=${LIMIT:-3000}
for s in 0 1; do for m in none mixup cutmix automix; do
  train $m-$s --method $m --seed $s --epochs $EPOCHS --limit-train $LIMIT --batch-size 100 ${EXTRA:-}
done; done
after() { for s in 0 1; do visualize automix-$s; done; }
