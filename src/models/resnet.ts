/**
 * CIFAR-style ResNet-18 and ResNeXt-50 (32×4d): 3×3 stem, stride 1, no
 * max-pool (spec §5), with a width multiplier on every stage's channels so a
 * narrow network trains on a CPU adapter. Parameter names follow PyTorch
 * (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, ...).
 *
 * Every BN → ReLU is one fused op, and so is a block's end, relu(bn(h) +
 * shortcut): the same arithmetic as the separate ops, in fewer dispatches
 * (ops/batchnorm.ts).
 */
import { globalAvgPool } from '../ops/pool.js';
import type { Builder } from '../nn/builder.js';
import { BatchNorm2d, Conv2d } from '../nn/layers.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Backbone, ForwardOptions } from './network.js';

interface Block {
  forward(x: Tensor): Tensor;
  layers: (Conv2d | BatchNorm2d)[];
}

class BasicBlock implements Block {
  static expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  down: [Conv2d, BatchNorm2d] | null = null;
  layers: (Conv2d | BatchNorm2d)[];
  constructor(b: Builder, name: string, inC: number, planes: number, stride: number) {
    this.conv1 = new Conv2d(b, `${name}.conv1`, inC, planes, 3, { stride, padding: 1 });
    this.bn1 = new BatchNorm2d(b, `${name}.bn1`, planes);
    this.conv2 = new Conv2d(b, `${name}.conv2`, planes, planes, 3, { padding: 1 });
    this.bn2 = new BatchNorm2d(b, `${name}.bn2`, planes, true); // zero_init_residual
    if (stride !== 1 || inC !== planes) {
      this.down = [new Conv2d(b, `${name}.downsample.0`, inC, planes, 1, { stride }), new BatchNorm2d(b, `${name}.downsample.1`, planes)];
    }
    this.layers = [this.conv1, this.bn1, this.conv2, this.bn2, ...(this.down ?? [])];
  }
  forward(x: Tensor): Tensor {
    const h = this.conv2.forward(this.bn1.forward(this.conv1.forward(x), { relu: true }));
    const s = this.down ? this.down[1].forward(this.down[0].forward(x)) : x;
    // relu(bn2(h) + s)
    return this.bn2.forward(h, { relu: true, residual: s });
  }
}

class Bottleneck implements Block {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  down: [Conv2d, BatchNorm2d] | null = null;
  layers: (Conv2d | BatchNorm2d)[];
  constructor(b: Builder, name: string, inC: number, planes: number, stride: number, groups: number, baseWidth: number) {
    // At small width multipliers keep at least one channel per group.
    const width = Math.max(1, Math.floor((planes * baseWidth) / 64)) * groups;
    const out = planes * 4;
    this.conv1 = new Conv2d(b, `${name}.conv1`, inC, width, 1);
    this.bn1 = new BatchNorm2d(b, `${name}.bn1`, width);
    this.conv2 = new Conv2d(b, `${name}.conv2`, width, width, 3, { stride, padding: 1, groups });
    this.bn2 = new BatchNorm2d(b, `${name}.bn2`, width);
    this.conv3 = new Conv2d(b, `${name}.conv3`, width, out, 1);
    this.bn3 = new BatchNorm2d(b, `${name}.bn3`, out, true);
    if (stride !== 1 || inC !== out) {
      this.down = [new Conv2d(b, `${name}.downsample.0`, inC, out, 1, { stride }), new BatchNorm2d(b, `${name}.downsample.1`, out)];
    }
    this.layers = [this.conv1, this.bn1, this.conv2, this.bn2, this.conv3, this.bn3, ...(this.down ?? [])];
  }
  forward(x: Tensor): Tensor {
    let h = this.bn1.forward(this.conv1.forward(x), { relu: true });
    h = this.bn2.forward(this.conv2.forward(h), { relu: true });
    h = this.conv3.forward(h);
    const s = this.down ? this.down[1].forward(this.down[0].forward(x)) : x;
    // relu(bn3(h) + s)
    return this.bn3.forward(h, { relu: true, residual: s });
  }
}

export class ResNetCifar implements Backbone {
  readonly numStages = 4;
  readonly stageChannels: number[];
  readonly featureDim: number;
  readonly stem: [Conv2d, BatchNorm2d];
  readonly stages: Block[][] = [];

  constructor(b: Builder, kind: 'resnet18' | 'resnext50', inChannels: number, width: number) {
    const w = (c: number) => Math.max(1, Math.round(c * width));
    const stemC = w(64);
    this.stem = [new Conv2d(b, 'conv1', inChannels, stemC, 3, { padding: 1 }), new BatchNorm2d(b, 'bn1', stemC)];
    let inC = stemC;
    const depths = kind === 'resnet18' ? [2, 2, 2, 2] : [3, 4, 6, 3];
    this.stageChannels = [];
    depths.forEach((depth, s) => {
      const planes = w(64 * 2 ** s);
      const blocks: Block[] = [];
      for (let i = 0; i < depth; i++) {
        const stride = i === 0 && s > 0 ? 2 : 1;
        const name = `layer${s + 1}.${i}`;
        if (kind === 'resnet18') {
          blocks.push(new BasicBlock(b, name, inC, planes, stride));
          inC = planes;
        } else {
          blocks.push(new Bottleneck(b, name, inC, planes, stride, 32, 4));
          inC = planes * 4;
        }
      }
      this.stages.push(blocks);
      this.stageChannels.push(inC);
    });
    this.featureDim = inC;
  }

  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    let h = o.mixAt?.after === 0 ? o.mixAt.fn(x) : x;
    h = this.stem[1].forward(this.stem[0].forward(h), { relu: true });
    for (let s = 0; s < this.numStages; s++) {
      for (const blk of this.stages[s]!) h = blk.forward(h);
      if (o.mixAt?.after === s + 1) h = o.mixAt.fn(h);
      if (o.stopAfter === s + 1) return h;
    }
    return globalAvgPool(h);
  }

  setTraining(on: boolean): void {
    this.stem[1].training = on;
    for (const st of this.stages) for (const blk of st) for (const l of blk.layers) l.training = on;
  }
}
