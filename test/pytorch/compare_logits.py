#!/usr/bin/env python3
"""Loads an automix-webgpu checkpoint into the equivalent PyTorch module and
compares its logits with the engine's.

    automix train --method none --out runs/r18 ...            # writes runs/r18/model.safetensors
    automix eval --checkpoint runs/r18/model.safetensors --dump-logits runs/r18/logits.safetensors
    python3 test/pytorch/compare_logits.py runs/r18/model.safetensors runs/r18/logits.safetensors

An AutoMix run's model.safetensors is its momentum network (the one the run
reports); model-online.safetensors is the online network. Either file works
here (dump the logits from the same file); the file's metadata says which.

Needs only PyTorch (Debian: apt-get install python3-torch): the safetensors
files are read with json + struct + torch.frombuffer, not the pip
`safetensors` package. CI does not run it.

The module below is the CIFAR ResNet-18 / ResNeXt-50 of src/models/resnet.ts
(3x3 stem, stride 1, no max-pool; width multiplier), with PyTorch's own names,
so `load_state_dict` takes the file as it is (only `num_batches_tracked`,
which the engine does not keep, is missing).
"""
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """(tensors by name, metadata) of a .safetensors file: an 8-byte little-endian header
    length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then
    the tensors' bytes (offsets relative to the end of the header)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        sys.exit(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    data = memoryview(raw)[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] not in DTYPES:
            sys.exit(f"{path}: tensor {name} has dtype {t['dtype']}, which this reader does not know")
        start, end = t["data_offsets"]
        dtype = DTYPES[t["dtype"]]
        count = math.prod(t["shape"])
        if end - start != count * torch.empty((), dtype=dtype).element_size():
            sys.exit(f"{path}: tensor {name} has {end - start} bytes for shape {t['shape']}")
        # bytearray: a writable copy, so torch.frombuffer does not warn or alias the file's bytes.
        buf = bytearray(data[start:end])
        flat = torch.frombuffer(buf, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(t["shape"])
    return tensors, metadata


def scaled(c: int, width: float) -> int:
    # JavaScript's Math.round (half up), not Python's banker's rounding.
    return max(1, int(math.floor(c * width + 0.5)))


class BasicBlock(nn.Module):
    def __init__(self, in_c, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_c != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_c, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        self.out_c = planes

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(h + (self.downsample(x) if self.downsample is not None else x))


class Bottleneck(nn.Module):
    def __init__(self, in_c, planes, stride, groups=32, base_width=4):
        super().__init__()
        width = max(1, (planes * base_width) // 64) * groups
        out = planes * 4
        self.conv1 = nn.Conv2d(in_c, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or in_c != out:
            self.downsample = nn.Sequential(nn.Conv2d(in_c, out, 1, stride, bias=False), nn.BatchNorm2d(out))
        self.out_c = out

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return F.relu(h + (self.downsample(x) if self.downsample is not None else x))


class ResNetCifar(nn.Module):
    def __init__(self, kind, in_channels, width, num_classes, head):
        super().__init__()
        stem = scaled(64, width)
        self.conv1 = nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        depths = [2, 2, 2, 2] if kind == "resnet18" else [3, 4, 6, 3]
        in_c = stem
        for s, depth in enumerate(depths):
            planes = scaled(64 * 2**s, width)
            blocks = []
            for i in range(depth):
                stride = 2 if i == 0 and s > 0 else 1
                blk = BasicBlock(in_c, planes, stride) if kind == "resnet18" else Bottleneck(in_c, planes, stride)
                blocks.append(blk)
                in_c = blk.out_c
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.head_name = head
        fc = nn.Linear(in_c, num_classes)
        if head == "fc":
            self.fc = fc
        else:  # AutoMix heads are named head_mix.fc / head_one.fc
            setattr(self, head, nn.Module())
            getattr(self, head).fc = fc

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        for s in range(4):
            h = getattr(self, f"layer{s + 1}")(h)
        h = h.mean(dim=(2, 3))
        fc = self.fc if self.head_name == "fc" else getattr(self, self.head_name).fc
        return fc(h)


def main(model_file, logits_file):
    state, meta = read_safetensors(model_file)
    if "automix_model" not in meta:
        sys.exit(f"{model_file}: no automix_model in its metadata (expected a model.safetensors written by automix train)")
    spec = json.loads(meta["automix_model"])
    if spec["model"] not in ("resnet18", "resnext50"):
        sys.exit(f"this script covers the ResNets; {spec['model']} is not one")
    ref, ref_meta = read_safetensors(logits_file)
    head = ref_meta["head"]
    if "model" in ref_meta and json.loads(ref_meta["model"]) != spec:
        sys.exit(f"{logits_file} was dumped from another model than {model_file}")
    network = meta.get("automix_network", "unnamed")
    if ref_meta.get("network", network) != network:
        sys.exit(f"{logits_file} holds the {ref_meta['network']} network's logits, {model_file} the {network} network")
    print(f"{model_file}: {spec['model']} ×{spec['width']}, {network} network, head {head}")
    net = ResNetCifar(spec["model"], spec["inChannels"], spec["width"], spec["numClasses"], head)
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    # Heads other than the one compared may be in the file (AutoMix has two).
    unexpected = [k for k in unexpected if not (k.startswith("head_") and not k.startswith(head))]
    if missing or unexpected:
        sys.exit(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    net.eval()
    with torch.no_grad():
        out = net(ref["images"])
    diff = (out - ref["logits"]).abs().max().item()
    print(f"max |torch - engine| over {out.shape[0]}x{out.shape[1]} logits: {diff:.3e} (largest |logit| {ref['logits'].abs().max().item():.3g})")
    if diff > 1e-3 * max(1.0, ref["logits"].abs().max().item()):
        sys.exit("logits differ")
    print("same logits")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
