#!/usr/bin/env python3
"""Feature-extraction throughput: `voxguard features` against librosa on the same file.

For each kind, both sides decode the file, compute the matrix with the same parameters
(16 kHz, n_fft 512, hop 160, Hann; 64 mel filters, 20 MFCC with Δ and ΔΔ; spectral statistics;
YIN F0) and save it as .npy. One core each (OMP/MKL/OpenBLAS/Numba threads = 1; voxguard's
feature extraction is single-threaded). Each side runs `--repeat` times; the best time counts.

Usage:  python3 benches/compare_features.py VOXGUARD_BINARY AUDIO [--repeat 3]
AUDIO is a file, or a directory of 16 kHz FLAC clips that are concatenated (in sorted order) into
a 10-minute temporary FLAC first. Needs: pip install librosa soundfile numpy
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

SR, N_FFT, HOP = 16000, 512, 160
STFT = dict(n_fft=N_FFT, hop_length=HOP, center=True, pad_mode="constant")


def ten_minutes(directory: Path, out: Path) -> Path:
    parts, total = [], 0
    for clip in sorted(directory.rglob("*.flac")):
        y, sr = sf.read(clip, dtype="float32")
        if sr != SR or y.ndim != 1:
            continue
        parts.append(y)
        total += len(y)
        if total >= 600 * SR:
            break
    sf.write(out, np.concatenate(parts)[: 600 * SR], SR, subtype="PCM_16")
    return out


def librosa_kind(kind: str, path: Path, out: Path):
    y, _ = librosa.load(path, sr=SR)
    if kind == "mel":
        m = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, n_mels=64, **STFT))
    elif kind == "mfcc":
        c = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20, n_mels=64, **STFT)
        m = np.concatenate([c, librosa.feature.delta(c), librosa.feature.delta(c, order=2)])
    elif kind == "spectral":
        mag = np.abs(librosa.stft(y, **STFT))
        flux = np.concatenate([[0.0], np.sqrt((np.diff(mag, axis=1) ** 2).sum(axis=0))])
        m = np.stack([
            librosa.feature.spectral_centroid(S=mag, sr=SR)[0],
            librosa.feature.spectral_bandwidth(S=mag, sr=SR)[0],
            librosa.feature.spectral_rolloff(S=mag, sr=SR)[0],
            librosa.feature.spectral_flatness(S=mag)[0],
            flux,
            librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP)[0],
            librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0],
        ])
    elif kind == "f0":
        m = librosa.yin(y, fmin=60, fmax=500, sr=SR, frame_length=1024, hop_length=HOP)[None]
    np.save(out, np.ascontiguousarray(m.T, dtype=np.float32))


def voxguard_kind(binary: str, kind: str, path: Path, out: Path):
    deltas = ["--deltas", "2"] if kind == "mfcc" else []
    subprocess.run([binary, "features", str(path), "--kind", kind, "--n-filters", "64",
                    *deltas, "-o", str(out)], check=True, stderr=subprocess.DEVNULL)


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("audio", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = ten_minutes(args.audio, tmp / "long.wav") if args.audio.is_dir() else args.audio
        duration = sf.info(path).duration
        print(f"{path.name}: {duration:.0f} s of audio, best of {args.repeat}, one core each")
        print(f"{'kind':<10} {'librosa s':>10} {'voxguard s':>11} {'ratio':>7}")
        librosa_kind("mel", path, tmp / "warm.npy")  # numba compiles on first use
        for kind in ("mel", "mfcc", "spectral", "f0"):
            t_py = best_of(args.repeat, lambda: librosa_kind(kind, path, tmp / "py.npy"))
            t_vg = best_of(args.repeat, lambda: voxguard_kind(args.binary, kind, path,
                                                               tmp / "vg.npy"))
            py, vg = np.load(tmp / "py.npy"), np.load(tmp / "vg.npy")
            same = "" if py.shape == vg.shape else f"  (shapes differ: {py.shape} {vg.shape})"
            print(f"{kind:<10} {t_py:>10.2f} {t_vg:>11.2f} {t_py / t_vg:>6.1f}x{same}")


if __name__ == "__main__":
    sys.exit(main())
