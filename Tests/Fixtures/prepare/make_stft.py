#!/usr/bin/env python3
"""Reference log-magnitude spectrograms for the Swift STFT and audio-profile tests.

    /work/torchenv/bin/python Tests/Fixtures/prepare/make_stft.py [/work/shared/data]

Writes stft.json + stft.bin next to this script (the golden-fixture format of Tests/Fixtures/README.md:
float32 tensors concatenated in stft.bin, names/shapes/offsets in stft.json).

The reference STFT is written out in numpy (float64 from float32 inputs), independently of the
Swift code: periodic Hann window (0.5 - 0.5 cos(2 pi n / N)), centre padding by N/2 with numpy's
"reflect" (or "constant") mode, frames every hop samples, np.fft.rfft, log(|X| + 1e-7).
When torch is importable it is cross-checked against torch.stft(center=True, pad_mode="reflect",
window=torch.hann_window(N)), which must agree to 1e-6 in the log domain.

Signals (all float32; the Swift test regenerates the synthetic ones from the same formulas and
checks their sums stored in `meta`):
  sine      5000 samples @ 22050 Hz: 0.5 sin(2 pi 440 n / 22050)
  chirp     5000 samples @ 22050 Hz: 0.3 sin(2 pi (200 t + 2000 t^2)), t = n / 22050
  noise     4000 samples: 0.8 (2 u - 1), u = (s >> 40) / 2^24, s <- s * 6364136223846793005 + 1442695040888963407 mod 2^64, s0 = 42
  decay     300 samples: exp(-n / 40) cos(0.3 n)   (shorter than n_fft: padding-dominated frames)
  tiny      200 samples: the first 200 of decay     (shorter than the pad: repeated reflection)
  chirp_constant: chirp with constant (zero) padding
  fsdd      a real FSDD clip (0_george_30.wav, 3286 samples @ 8 kHz, int16 / 32768), STFT at 8 kHz
  fsdd_profile: the ogm-ge profile at the clip's own rate (no resampling): tile to 3 s = 24000
            samples, clip to [-1, 1], STFT -> 257 x 68
"""
import json
import os
import sys

import numpy as np

N_FFT, HOP, EPS = 512, 353, 1e-7
HERE = os.path.dirname(os.path.abspath(__file__))


def log_stft(x, n_fft=N_FFT, hop=HOP, pad_mode="reflect"):
    x = np.asarray(x, dtype=np.float32).astype(np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    padded = np.pad(x, n_fft // 2, mode=pad_mode)
    frames = 1 + len(x) // hop
    cols = []
    for f in range(frames):
        seg = padded[f * hop: f * hop + n_fft]
        cols.append(np.abs(np.fft.rfft(seg * window)))
    mag = np.stack(cols, axis=1)  # [bins, frames]
    return np.log(mag + EPS)


def lcg_noise(n, seed=42):
    s = seed
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out[i] = 0.8 * (2 * ((s >> 40) / float(1 << 24)) - 1)
    return out.astype(np.float32)


def main():
    data_root = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
    sr = 22050
    n = np.arange(5000, dtype=np.float64)
    sig = {
        "sine": (0.5 * np.sin(2 * np.pi * 440 * n / sr)).astype(np.float32),
        "chirp": (0.3 * np.sin(2 * np.pi * (200 * (n / sr) + 2000 * (n / sr) ** 2))).astype(np.float32),
        "noise": lcg_noise(4000),
    }
    m = np.arange(300, dtype=np.float64)
    sig["decay"] = (np.exp(-m / 40) * np.cos(0.3 * m)).astype(np.float32)
    sig["tiny"] = sig["decay"][:200].copy()

    samples = np.load(os.path.join(data_root, "fsdd/samples_int16.npy"), mmap_mode="r")
    offsets = np.load(os.path.join(data_root, "fsdd/offsets_int64.npy"))
    clip_index = 30  # 0_george_30.wav
    clip_int16 = np.array(samples[offsets[clip_index]:offsets[clip_index + 1]], dtype=np.int16)
    assert len(clip_int16) == 3286
    clip = (clip_int16.astype(np.float32) / np.float32(32768)).astype(np.float32)

    tensors, blobs, offset = [], [], 0

    def add(name, arr):
        nonlocal offset
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        tensors.append({"name": name, "shape": list(arr.shape), "offset": offset})
        blobs.append(arr.tobytes())
        offset += arr.size

    meta = {"n_fft": N_FFT, "hop": HOP, "eps": EPS}
    for name in ["sine", "chirp", "noise", "decay", "tiny"]:
        x = sig[name]
        meta[name + "_sum"] = float(np.sum(x.astype(np.float64)))
        meta[name + "_sumsq"] = float(np.sum(x.astype(np.float64) ** 2))
        add(name, log_stft(x))
    add("chirp_constant", log_stft(sig["chirp"], pad_mode="constant"))

    add("fsdd_clip", clip_int16.astype(np.float32))  # int16 values, exact in float32
    add("fsdd", log_stft(clip))
    reps = -(-24000 // len(clip))
    tiled = np.clip(np.tile(clip, reps)[:24000], -1, 1)
    prof = log_stft(tiled)
    assert prof.shape == (257, 68), prof.shape
    add("fsdd_profile", prof)

    # Independent cross-check against torch.stft (reflect padding) when available.
    try:
        import torch
        for name in ["sine", "chirp", "noise", "decay"]:
            x = torch.from_numpy(sig[name].astype(np.float64))
            X = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT, dtype=torch.float64), center=True,
                           pad_mode="reflect", return_complex=True)
            ref = np.log(X.abs().numpy() + EPS)
            diff = np.max(np.abs(ref - log_stft(sig[name])))
            assert diff < 1e-6, (name, diff)  # float64 FFT round-off at near-zero bins
        meta["torch_checked"] = 1
        print("torch.stft agrees (reflect padding), torch", torch.__version__)
    except ImportError:
        meta["torch_checked"] = 0

    with open(os.path.join(HERE, "stft.bin"), "wb") as f:
        for b in blobs:
            f.write(b)
    with open(os.path.join(HERE, "stft.json"), "w") as f:
        json.dump({"meta": meta, "tensors": tensors}, f, indent=1)
    print("wrote", len(tensors), "tensors,", offset * 4, "bytes")


if __name__ == "__main__":
    main()
