# Issue #5's run: plain training of ResNet-18 ×0.25 on all of Fashion-MNIST, one process.
train fmnist-none --method none --epochs ${EPOCHS:-15} --batch-size 100 --seed 0
