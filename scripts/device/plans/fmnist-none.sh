# Issue #5's run: plain training of ResNet-18 ×0.25 on all of Fashion-MNIST with the CLI's
# defaults (10 epochs, batch 100, LR 0.1 cosine per epoch, seed 0), one process. A run started
# elsewhere continues when its directory is in .gpu/runs/fmnist-none (same flags, --resume).
# Run as `TRAIN_S=520 scripts/device/run.sh scripts/device/plans/fmnist-none.sh` (H100: ≈ 2 100 images/s, ≈ 30 s an epoch, 5 min in all on 2026-11-26).
train fmnist-none --data fashion-mnist --model resnet18 --width 0.25 --method none
