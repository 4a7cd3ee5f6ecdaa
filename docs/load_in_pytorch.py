#!/usr/bin/env python3
"""Load weights written by `spice export` into PyTorch: one torchvision resnet18 per modality
(fc removed), the unimodal heads and the fusion head, with load_state_dict(strict=True).

    python3 docs/load_in_pytorch.py model.safetensors

Needs torch and torchvision; reads the safetensors file with json + numpy only. Supports the
concat and sum fusions (FiLM / gated / MLP parameter names are documented in docs/pytorch.md).
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, ResNet


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        arr = np.frombuffer(body[a:b], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


def resnet18(in_channels, width):
    """torchvision's ResNet18 with base width `width` (64 = standard) and no classifier."""
    net = ResNet(BasicBlock, [2, 2, 2, 2])
    net.inplanes = width
    net.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3, bias=False)
    net.bn1 = nn.BatchNorm2d(width)
    net.layer1 = net._make_layer(BasicBlock, width, 2)
    net.layer2 = net._make_layer(BasicBlock, 2 * width, 2, stride=2)
    net.layer3 = net._make_layer(BasicBlock, 4 * width, 2, stride=2)
    net.layer4 = net._make_layer(BasicBlock, 8 * width, 2, stride=2)
    net.fc = nn.Identity()
    return net


class SpiceModel(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        d, c = 8 * arch["width"], arch["classes"]
        for m in arch["modalities"]:
            setattr(self, m["name"], resnet18(m["channels"], arch["width"]))
            setattr(self, "head_" + m["name"], nn.Linear(d, c))
        k = len(arch["modalities"])
        if arch["fusion"] == "concat":
            self.head_fusion = nn.Linear(k * d, c)
        elif arch["fusion"] == "sum":
            self.head_fusion = nn.Module()
            names = ["fc_x", "fc_y"] + ["fc_%d" % i for i in range(2, k)]
            for nm in names[:k]:
                setattr(self.head_fusion, nm, nn.Linear(d, c))
        else:
            raise SystemExit("this loader covers concat and sum fusion; see docs/pytorch.md")

    def forward(self, inputs):
        """inputs[name]: (B, T, C, H, W) or (B, C, H, W). Returns (fused, per-modality logits)."""
        feats = []
        for m in self.arch["modalities"]:
            x = inputs[m["name"]]
            if x.dim() == 5:
                b, t = x.shape[:2]
                f = getattr(self, m["name"])(x.reshape(b * t, *x.shape[2:])).view(b, t, -1).mean(1)
            else:
                f = getattr(self, m["name"])(x)
            feats.append(f)
        if self.arch["fusion"] == "concat":
            fused = self.head_fusion(torch.cat(feats, 1))
        else:
            heads = [getattr(self.head_fusion, n) for n in ["fc_x", "fc_y"] + ["fc_%d" % i for i in range(2, len(feats))]]
            fused = sum(h(f) for h, f in zip(heads, feats))
        uni = [getattr(self, "head_" + m["name"])(f) for m, f in zip(self.arch["modalities"], feats)]
        return fused, uni


def main():
    tensors, meta = read_safetensors(sys.argv[1])
    arch = json.loads(meta["spice_architecture"])
    model = SpiceModel(arch)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    inputs = {m["name"]: torch.zeros(2, m["frames"], m["channels"], 32, 32) for m in arch["modalities"]}
    with torch.no_grad():
        fused, uni = model(inputs)
    print("loaded %d tensors strictly; fused logits shape %s; prediction = argmax(fused + sum of unimodal)"
          % (len(tensors), tuple(fused.shape)))


if __name__ == "__main__":
    main()
