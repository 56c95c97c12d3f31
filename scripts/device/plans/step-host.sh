# Issue 15 on a GPU: the training step's host cost, eager vs replayed (captured once, replayed),
# with the raw Dawn floors, wall ms per step in the steady state and the GPU-time sum of one step
# (bench --host, ResNet-18 ×0.25 at batch 100 on 28×28, ViT-tiny at batch 32), then the main job
# (AutoMix on all of Fashion-MNIST) for the rest of the lease: its images/s is the figure to
# compare with the 850 images/s of 2026-11-26 (eager steps). Record device, date and figures in
# docs/performance.md ("The training step's host cost").
#   scripts/device/pack.sh
#   run(command='BENCH_S=200 TRAIN_S=300 scripts/device/run.sh scripts/device/plans/step-host.sh', carry=['.gpu', '.gl'], timeout_s=600)
bench --host --json /tmp/res/step-host.json
train fmnist-automix --data fashion-mnist --model resnet18 --width 0.25 --method automix
