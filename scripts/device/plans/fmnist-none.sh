# Issue #5's run: plain training of ResNet-18 ×0.25 on all of Fashion-MNIST with the CLI's
# defaults (10 epochs, batch 100, LR 0.1 cosine per epoch, seed 0), one process. A run started
# elsewhere continues when its directory is in .gpu/runs/fmnist-none (same flags, --resume).
# Run as `TRAIN_S=520 scripts/device/run.sh scripts/device/plans/fmnist-none.sh` (H100 alone: ≈ 830 images/s, ≈ 80 s an epoch).
train fmnist-none --data fashion-mnist --model resnet18 --width 0.25 --method none
