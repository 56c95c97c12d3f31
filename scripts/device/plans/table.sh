# The AutoMix results table (issue #6): none / mixup / cutmix / automix, seeds 0 and 1,
# one automix process at a time (eight sharing an H100 did only ≈ 0.6× the work of one alone,
# docs/performance.md). Sized by EPOCHS and LIMIT (training images) to fit one lease: alone, an
# H100 trains ≈ 2 100 (vanilla) and ≈ 850 (AutoMix) Fashion-MNIST images/s (2026-11-26), so
# 3 000 images × 10 epochs is ≈ 35 s of AutoMix training; with start-up and ten test passes of
# 10 000 images per run, ≈ 7 min for all eight.
EPOCHS=${EPOCHS:-10}
LIMIT=${LIMIT:-3000}
for s in 0 1; do for m in none mixup cutmix automix; do
  train $m-$s --method $m --seed $s --epochs $EPOCHS --limit-train $LIMIT --batch-size 100 ${EXTRA:-}
  wait $!
done; done
after() { for s in 0 1; do visualize automix-$s; done; }
