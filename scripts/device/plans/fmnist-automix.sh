# The main job: AutoMix training of ResNet-18 ×0.25 on all of Fashion-MNIST with the CLI's
# defaults (10 epochs, batch 100, LR 0.1 cosine, seed 0), one process. A lease too short for all
# ten epochs brings back the last checkpoint; put it in .gpu/runs/fmnist-automix and run the plan
# again to continue it with --resume.
#   TRAIN_S=300 scripts/device/run.sh scripts/device/plans/fmnist-automix.sh
train fmnist-automix --data fashion-mnist --model resnet18 --width 0.25 --method automix
