#!/usr/bin/env python3
"""Generate the PyTorch golden fixtures used by the SPICE Swift tests.

Run from the repository root with a Python that has torch + torchvision:

    /work/torchenv/bin/python Tests/Fixtures/make_golden.py

Output goes to Tests/Fixtures/golden/. Each fixture is a pair:

    <name>.bin   every tensor concatenated, little-endian float32
                 (integer tensors such as labels are stored as exact float32)
    <name>.json  {"meta": {numeric scalars},
                  "tensors": [{"name", "shape", "offset"}, ...]}
                 offset counts float32 elements (not bytes) from the start of
                 the .bin; list order equals storage order.

Fixtures:
    resnet18_w4     torchvision ResNet18 (BasicBlock [2,2,2,2]) at base width 4,
                    3 input channels, 10 classes: init, forward, backward,
                    BN running stats, two SGD steps, eval forward.
    resnet18_w4_c1  same at 1 input channel, non-square input, 5 classes
                    (init, forward, backward, running stats after one step).
    avmodel_w2      the two-encoder audio-visual model of bench/avmodel.py at
                    base width 2 and 4 classes: same procedure as resnet18_w4.
    layers          single-layer references: conv, batchnorm, maxpool,
                    cross-entropy, linear, LR schedules.
    fusion_heads    the fusion heads (concat, sum, FiLM, gated, MLP) on 8-d
                    features, 5 classes, batch 4: weights, inputs, logits and
                    the gradients of (logits * dy).sum().

Regenerate a subset with --only, e.g. `make_golden.py --only fusion_heads`
(the other fixtures stay untouched; the size check covers all of golden/).

Everything is float32, single-threaded and seeded, so re-running with the same
torch version reproduces the files bit for bit.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet18
from torchvision.models.resnet import BasicBlock, ResNet

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)


# ------------------------------------------------------------- writing -----

class Fixture:
    """Collects named float32 tensors and numeric meta, then writes .json+.bin."""

    def __init__(self, name):
        self.name = name
        self.meta = {}
        self.entries = []          # (name, numpy float32 array), in storage order
        self.names = set()

    def add(self, name, t):
        assert name not in self.names, "duplicate tensor name " + name
        # Snapshot a copy: .numpy() would share memory with a live parameter or
        # buffer that later forward passes / optimizer steps update in place.
        if torch.is_tensor(t):
            t = t.detach().cpu().to(torch.float32).numpy()
        a = np.array(t, dtype="<f4", copy=True, order="C")
        if a.ndim == 0:            # scalars (losses) are stored with shape [1]
            a = a.reshape(1)
        self.names.add(name)
        self.entries.append((name, a))

    def write(self):
        os.makedirs(OUT_DIR, exist_ok=True)
        tensors, offset = [], 0
        with open(os.path.join(OUT_DIR, self.name + ".bin"), "wb") as f:
            for name, a in self.entries:
                tensors.append({"name": name, "shape": list(a.shape), "offset": offset})
                f.write(a.tobytes(order="C"))
                offset += a.size
        # Hand-formatted JSON: one meta key / one tensor per line (diff-friendly).
        meta = ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v))
                          for k, v in self.meta.items())
        ents = ",\n".join("  " + json.dumps(t) for t in tensors)
        with open(os.path.join(OUT_DIR, self.name + ".json"), "w") as f:
            f.write('{"meta": {\n%s\n},\n"tensors": [\n%s\n]}\n' % (meta, ents))


def load_fixture(name):
    """Read a fixture back: returns (meta, {tensor name: numpy array})."""
    with open(os.path.join(OUT_DIR, name + ".json")) as f:
        doc = json.load(f)
    flat = np.fromfile(os.path.join(OUT_DIR, name + ".bin"), dtype="<f4")
    out = {}
    for t in doc["tensors"]:
        n = int(np.prod(t["shape"])) if t["shape"] else 1
        out[t["name"]] = flat[t["offset"]:t["offset"] + n].reshape(t["shape"])
    return doc["meta"], out


# -------------------------------------------------------------- models -----

class ScaledResNet18(ResNet):
    """torchvision ResNet18 with base width `width` instead of 64.

    torchvision hard-codes planes 64/128/256/512, so we let ResNet.__init__
    build the standard network and then replace conv1, bn1, layer1..4 and fc by
    width-scaled modules built with torchvision's own _make_layer. Attribute
    replacement keeps each module's position in the module tree, so the
    state_dict keys are exactly torchvision's. The conv/BN initialisation of
    ResNet.__init__ is then re-applied to the new modules.
    """

    def __init__(self, width, in_channels, num_classes):
        super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
        self.inplanes = width
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2,
                               padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(BasicBlock, width, 2)
        self.layer2 = self._make_layer(BasicBlock, 2 * width, 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, 4 * width, 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, 8 * width, 2, stride=2)
        self.fc = nn.Linear(8 * width, num_classes)
        # Same init as torchvision's ResNet.__init__ (zero_init_residual=False).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


def check_torchvision_keys(model, in_channels, num_classes, width):
    """Assert the state_dict matches torchvision resnet18 key-for-key, with
    every channel dimension scaled by width/64."""
    ref = resnet18(weights=None, num_classes=num_classes)
    ref.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    rs, ms = ref.state_dict(), model.state_dict()
    assert list(rs.keys()) == list(ms.keys()), "state_dict keys differ from torchvision"
    for k in rs:
        exp = list(rs[k].shape)
        if k == "fc.weight":
            exp[1] = exp[1] * width // 64
        elif k != "fc.bias" and rs[k].dim() > 0:
            exp[0] = exp[0] * width // 64
            if rs[k].dim() == 4 and k != "conv1.weight":
                exp[1] = exp[1] * width // 64
        assert exp == list(ms[k].shape), (k, exp, list(ms[k].shape))


def perturb_bn(model):
    """Non-trivial BN affine params and running stats (in module order)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(1 + 0.1 * torch.randn(c))
                m.bias.copy_(0.1 * torch.randn(c))
                m.running_mean.copy_(0.1 * torch.randn(c))
                m.running_var.copy_(1 + 0.2 * torch.rand(c))


def bn_buffer_keys(model):
    return [k for k in model.state_dict()
            if k.endswith("running_mean") or k.endswith("running_var")]


def add_state(fx, prefix, model, keys=None):
    sd = model.state_dict()
    for k in (keys if keys is not None else sd.keys()):
        if not k.endswith("num_batches_tracked"):
            fx.add(prefix + k, sd[k])


class AVModel(nn.Module):
    """bench/avmodel.py's two-encoder model with a configurable base width."""

    def __init__(self, width, classes):
        super().__init__()
        self.audio = ScaledResNet18(width, 1, classes)
        self.audio.fc = nn.Identity()
        self.visual = ScaledResNet18(width, 3, classes)
        self.visual.fc = nn.Identity()
        feat = 8 * width
        self.head_fusion = nn.Linear(2 * feat, classes)
        self.head_audio = nn.Linear(feat, classes)
        self.head_visual = nn.Linear(feat, classes)
        for h in (self.head_fusion, self.head_audio, self.head_visual):
            nn.init.xavier_normal_(h.weight)
            nn.init.zeros_(h.bias)

    def forward(self, audio, visual):
        # audio: (B, 1, Ha, Wa); visual: (B, T, 3, Hv, Wv)
        b, t = visual.shape[0], visual.shape[1]
        fa = self.audio(audio)
        fv = self.visual(visual.reshape(b * t, *visual.shape[2:]))
        fv = fv.view(b, t, -1).mean(dim=1)
        return (self.head_fusion(torch.cat([fa, fv], dim=1)),
                self.head_audio(fa), self.head_visual(fv))


def sgd(model, lr):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, dampening=0,
                           weight_decay=1e-4, nesterov=False)


# ------------------------------------------------------------ fixtures -----

def make_resnet(name, seed, in_channels, classes, input_shape, two_steps):
    torch.manual_seed(seed)
    width, lr = 4, 0.1
    model = ScaledResNet18(width, in_channels, classes)
    check_torchvision_keys(model, in_channels, classes, width)
    perturb_bn(model)
    x = torch.randn(*input_shape)
    labels = torch.randint(0, classes, (input_shape[0],))

    fx = Fixture(name)
    fx.meta = {"width": width, "in_channels": in_channels, "classes": classes,
               "batch": input_shape[0], "lr": lr, "momentum": 0.9,
               "weight_decay": 1e-4, "bn_momentum": 0.1, "eps": 1e-5}
    add_state(fx, "init/", model)
    fx.add("input", x)
    fx.add("labels", labels)

    # First train-mode forward/backward.
    model.train()
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    fx.add("train/logits", logits)
    fx.add("train/loss", loss)
    for k, p in model.named_parameters():
        fx.add("grad/" + k, p.grad)
    fx.add("grad/input", xg.grad)
    add_state(fx, "after1/", model, bn_buffer_keys(model))

    if two_steps:
        opt = sgd(model, lr)
        opt.step()                               # step 1: grads above
        # Step-2 gradients: tiny-width nets flip ReLU/maxpool decisions under 1e-5 parameter
        # changes, so the Swift test takes step 1 with PyTorch's gradients and then compares
        # its own step-2 gradients with these (see README).
        opt.zero_grad()
        loss2 = F.cross_entropy(model(x), labels)
        loss2.backward()
        for k, p in model.named_parameters():
            fx.add("grad2/" + k, p.grad)
        opt.step()                               # step 2
        for k, p in model.named_parameters():
            fx.add("after2/" + k, p)
        add_state(fx, "after2/", model, bn_buffer_keys(model))
        fx.add("train2/loss", loss2)
        model.eval()
        with torch.no_grad():
            fx.add("eval/logits", model(x))
    return fx


def make_avmodel():
    torch.manual_seed(3)
    width, classes, lr = 2, 4, 0.05
    model = AVModel(width, classes)
    perturb_bn(model)
    with torch.no_grad():
        for h in (model.head_fusion, model.head_audio, model.head_visual):
            h.bias.copy_(0.1 * torch.randn(classes))
    audio = torch.randn(3, 1, 48, 40)   # layer4 keeps a 2x2 plane: BN over 1x1 x 3 samples is ill-conditioned
    visual = torch.randn(3, 2, 3, 32, 32)
    labels = torch.randint(0, classes, (3,))

    fx = Fixture("avmodel_w2")
    fx.meta = {"width": width, "classes": classes, "batch": 3, "frames": 2,
               "feature_dim": 8 * width, "lr": lr, "momentum": 0.9,
               "weight_decay": 1e-4, "bn_momentum": 0.1, "eps": 1e-5}
    add_state(fx, "init/", model)
    fx.add("input/audio", audio)
    fx.add("input/visual", visual)
    fx.add("labels", labels)

    def loss_of(outs):
        return sum(F.cross_entropy(o, labels) for o in outs)

    model.train()
    outs = model(audio, visual)
    loss = loss_of(outs)
    loss.backward()
    for tag, o in zip(("fusion", "audio", "visual"), outs):
        fx.add("train/out_" + tag, o)
    fx.add("train/loss", loss)
    for k, p in model.named_parameters():
        fx.add("grad/" + k, p.grad)
    add_state(fx, "after1/", model, bn_buffer_keys(model))

    opt = sgd(model, lr)
    opt.step()
    opt.zero_grad()
    loss2 = loss_of(model(audio, visual))
    loss2.backward()
    for k, p in model.named_parameters():
        fx.add("grad2/" + k, p.grad)
    opt.step()
    for k, p in model.named_parameters():
        fx.add("after2/" + k, p)
    add_state(fx, "after2/", model, bn_buffer_keys(model))
    fx.add("train2/loss", loss2)
    model.eval()
    with torch.no_grad():
        for tag, o in zip(("fusion", "audio", "visual"), model(audio, visual)):
            fx.add("eval/out_" + tag, o)
    return fx


def make_layers():
    fx = Fixture("layers")

    # Convolutions (no bias): y = conv(x, w); dx, dw = grads of (y*dy).sum().
    conv_cases = [  # cin, cout, k, stride, pad, H, W, N
        (3, 5, 3, 1, 1, 7, 9, 2),
        (1, 4, 7, 2, 3, 11, 10, 2),
        (4, 6, 1, 2, 0, 8, 7, 3),
        (2, 3, 3, 2, 1, 9, 8, 2),
        (5, 4, 5, 3, 2, 13, 12, 1),
    ]
    for i, (cin, cout, k, s, p, h, w, n) in enumerate(conv_cases):
        torch.manual_seed(100 + i)
        x = torch.randn(n, cin, h, w, requires_grad=True)
        wt = torch.randn(cout, cin, k, k, requires_grad=True)
        y = F.conv2d(x, wt, stride=s, padding=p)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        for key, v in (("x", x), ("w", wt), ("y", y), ("dy", dy),
                       ("dx", x.grad), ("dw", wt.grad)):
            fx.add("conv%d/%s" % (i, key), v)
        fx.meta.update({"conv%d_cin" % i: cin, "conv%d_cout" % i: cout,
                        "conv%d_k" % i: k, "conv%d_stride" % i: s,
                        "conv%d_pad" % i: p})
    fx.meta["conv_count"] = len(conv_cases)

    # BatchNorm2d(3): one train forward/backward, then eval with updated stats.
    torch.manual_seed(200)
    bn = nn.BatchNorm2d(3, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.3 * torch.randn(3))
        bn.bias.copy_(0.3 * torch.randn(3))
        bn.running_mean.copy_(0.5 * torch.randn(3))
        bn.running_var.copy_(0.5 + torch.rand(3))
    x = torch.randn(4, 3, 5, 6) * 1.5 + 0.7
    fx.add("bn/x", x)
    fx.add("bn/weight", bn.weight)
    fx.add("bn/bias", bn.bias)
    fx.add("bn/running_mean", bn.running_mean)
    fx.add("bn/running_var", bn.running_var)
    bn.train()
    xg = x.clone().requires_grad_(True)
    y = bn(xg)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    fx.add("bn/y_train", y)
    fx.add("bn/dy", dy)
    fx.add("bn/dx", xg.grad)
    fx.add("bn/dweight", bn.weight.grad)
    fx.add("bn/dbias", bn.bias.grad)
    fx.add("bn/running_mean_after", bn.running_mean)
    fx.add("bn/running_var_after", bn.running_var)
    bn.eval()
    with torch.no_grad():
        fx.add("bn/y_eval", bn(x))
    fx.meta.update({"bn_momentum": 0.1, "bn_eps": 1e-5})

    # MaxPool 3x3 / stride 2 / pad 1.
    torch.manual_seed(300)
    x = torch.randn(2, 3, 9, 8, requires_grad=True)
    y = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    for key, v in (("x", x), ("y", y), ("dy", dy), ("dx", x.grad)):
        fx.add("maxpool/" + key, v)
    fx.meta.update({"maxpool_k": 3, "maxpool_stride": 2, "maxpool_pad": 1})

    # Cross-entropy, mean reduction.
    torch.manual_seed(400)
    logits = (2 * torch.randn(5, 7)).requires_grad_(True)
    labels = torch.randint(0, 7, (5,))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    fx.add("ce/logits", logits)
    fx.add("ce/labels", labels)
    fx.add("ce/loss", loss)
    fx.add("ce/dlogits", logits.grad)

    # Linear: y = x w^T + b.
    torch.manual_seed(500)
    x = torch.randn(3, 6, requires_grad=True)
    w = torch.randn(4, 6, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    y = F.linear(x, w, b)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    for key, v in (("x", x), ("w", w), ("b", b), ("y", y), ("dy", dy),
                   ("dx", x.grad), ("dw", w.grad), ("db", b.grad)):
        fx.add("linear/" + key, v)

    # LR schedules: lr in effect during epochs 0..11 (read before each step()).
    def schedule(make):
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        lrs = []
        for _ in range(12):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()                 # no grad: a no-op, keeps the order check quiet
            sched.step()
        # float64 python floats -> float32 storage
        return torch.tensor(lrs, dtype=torch.float64)

    fx.add("sched/cosine", schedule(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=7, eta_min=0.001)))
    fx.add("sched/step", schedule(lambda o: torch.optim.lr_scheduler.StepLR(
        o, step_size=3, gamma=0.5)))
    fx.meta.update({"sched_base_lr": 0.1, "cosine_T_max": 7, "cosine_eta_min": 0.001,
                    "step_size": 3, "step_gamma": 0.5, "sched_epochs": 12})
    return fx


# ------------------------------------------------------- fusion heads -----
#
# The OGM-GE fusion heads (GeWu-Lab/OGM-GE_CVPR2022, models/fusion_modules.py),
# written out here with the same module names, plus SPICE's extensions: with more
# than two inputs, Sum adds one Linear per input (fc_2, fc_3, ...), FiLM and Gated
# take x = input 0 and y = mean of inputs 1.. ; MLP = Linear -> ReLU -> Linear
# on the concatenation; Concat is a bare Linear (keys "weight", "bias").

def _others_mean(feats):
    return feats[1] if len(feats) == 2 else torch.stack(feats[1:]).mean(dim=0)


class ConcatHead(nn.Linear):
    def __init__(self, dim, m, classes):
        super().__init__(m * dim, classes)

    def forward(self, feats):
        return super().forward(torch.cat(feats, dim=1))


class SumHead(nn.Module):
    def __init__(self, dim, m, classes):
        super().__init__()
        self.names = ["fc_x", "fc_y"][:m] + ["fc_%d" % i for i in range(2, m)]
        for n in self.names:
            setattr(self, n, nn.Linear(dim, classes))

    def forward(self, feats):
        out = None
        for n, f in zip(self.names, feats):
            z = getattr(self, n)(f)
            out = z if out is None else out + z
        return out


class FiLMHead(nn.Module):
    def __init__(self, dim, m, classes, x_film=True):
        super().__init__()
        self.dim, self.x_film = dim, x_film
        self.fc = nn.Linear(dim, 2 * dim)
        self.fc_out = nn.Linear(dim, classes)

    def forward(self, feats):
        x, y = feats[0], _others_mean(feats)
        source, target = (x, y) if self.x_film else (y, x)
        gamma, beta = torch.split(self.fc(source), self.dim, dim=1)
        return self.fc_out(gamma * target + beta)


class GatedHead(nn.Module):
    def __init__(self, dim, m, classes, x_gate=True):
        super().__init__()
        self.x_gate = x_gate
        self.fc_x = nn.Linear(dim, dim)
        self.fc_y = nn.Linear(dim, dim)
        self.fc_out = nn.Linear(dim, classes)

    def forward(self, feats):
        out_x, out_y = self.fc_x(feats[0]), self.fc_y(_others_mean(feats))
        if self.x_gate:
            return self.fc_out(torch.sigmoid(out_x) * out_y)
        return self.fc_out(out_x * torch.sigmoid(out_y))


class MLPHead(nn.Module):
    def __init__(self, dim, m, classes, hidden):
        super().__init__()
        self.fc_hidden = nn.Linear(m * dim, hidden)
        self.fc_out = nn.Linear(hidden, classes)

    def forward(self, feats):
        return self.fc_out(F.relu(self.fc_hidden(torch.cat(feats, dim=1))))


def make_fusion_heads():
    dim, classes, batch, hidden = 8, 5, 4, 6
    fx = Fixture("fusion_heads")
    cases = [  # case name, module factory, modalities
        ("concat2", lambda m: ConcatHead(dim, m, classes), 2),
        ("sum2", lambda m: SumHead(dim, m, classes), 2),
        ("sum3", lambda m: SumHead(dim, m, classes), 3),
        ("film2", lambda m: FiLMHead(dim, m, classes), 2),
        ("film2_yfilm", lambda m: FiLMHead(dim, m, classes, x_film=False), 2),
        ("film3", lambda m: FiLMHead(dim, m, classes), 3),
        ("gated2", lambda m: GatedHead(dim, m, classes), 2),
        ("gated2_ygate", lambda m: GatedHead(dim, m, classes, x_gate=False), 2),
        ("gated3", lambda m: GatedHead(dim, m, classes), 3),
        ("mlp2", lambda m: MLPHead(dim, m, classes, hidden), 2),
    ]
    fx.meta = {"dim": dim, "classes": classes, "batch": batch, "hidden": hidden,
               "cases": len(cases)}
    for i, (case, make, m) in enumerate(cases):
        torch.manual_seed(600 + i)
        head = make(m)
        with torch.no_grad():   # random (not xavier/zero) so every bias matters
            for p in head.parameters():
                p.copy_(0.5 * torch.randn_like(p))
        feats = [torch.randn(batch, dim, requires_grad=True) for _ in range(m)]
        out = head(feats)
        dy = torch.randn_like(out)
        (out * dy).sum().backward()
        fx.meta["%s_modalities" % case] = m
        add_state(fx, case + "/init/", head)
        for k, f in enumerate(feats):
            fx.add("%s/x%d" % (case, k), f)
        fx.add(case + "/out", out)
        fx.add(case + "/dy", dy)
        for k, p in head.named_parameters():
            fx.add(case + "/grad/" + k, p.grad)
        for k, f in enumerate(feats):
            fx.add("%s/dx%d" % (case, k), f.grad)
    return fx


# ---------------------------------------------------------------- main -----

BUILDERS = {
    "resnet18_w4": lambda: make_resnet("resnet18_w4", seed=1, in_channels=3, classes=10,
                                       input_shape=(4, 3, 32, 32), two_steps=True),
    "resnet18_w4_c1": lambda: make_resnet("resnet18_w4_c1", seed=2, in_channels=1, classes=5,
                                          input_shape=(2, 1, 40, 24), two_steps=False),
    "avmodel_w2": make_avmodel,
    "layers": make_layers,
    "fusion_heads": make_fusion_heads,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=sorted(BUILDERS), metavar="NAME",
                    help="write only these fixtures (default: all): " + ", ".join(BUILDERS))
    args = ap.parse_args()
    for fx in (BUILDERS[n]() for n in (args.only or BUILDERS)):
        fx.write()
        # Round-trip check: every tensor reads back bit-identical.
        _, back = load_fixture(fx.name)
        assert list(back.keys()) == [n for n, _ in fx.entries]
        for n, a in fx.entries:
            assert np.array_equal(back[n], a), (fx.name, n)
        for ext in (".json", ".bin"):
            size = os.path.getsize(os.path.join(OUT_DIR, fx.name + ext))
            print("%-26s %9d bytes" % (fx.name + ext, size))
    # Every fixture on disk counts, including those not regenerated by --only.
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR)
                if f.endswith((".json", ".bin")))
    print("total %d bytes in golden/ (torch %s)" % (total, torch.__version__))
    if total >= 1_990_000:   # the issue allows < 2 MB in all
        sys.exit("fixtures too large")


if __name__ == "__main__":
    main()
