# The AutoMix results table (issue #6): none / mixup / cutmix / automix, seeds 0 and 1,
# one automix process each on one GPU. Sized by EPOCHS and LIMIT (training images).
EPOCHS=${EPOCHS:-10}
LIMIT=${LIMIT:-12000}
for s in 0 1; do for m in none mixup cutmix automix; do
  train $m-$s --method $m --seed $s --epochs $EPOCHS --limit-train $LIMIT --batch-size 100 ${EXTRA:-}
done; done
after() { for s in 0 1; do visualize automix-$s; done; }
