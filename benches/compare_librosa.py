#!/usr/bin/env python3
"""Side-by-side timing of voxguard against the pipeline a user would write in Python.

The Python side does the same kind of work as `voxguard scan`: decode (librosa/soundfile),
resample to 16 kHz, STFT (25 ms Hann, 10 ms hop, 512-point FFT), 30 linear triangular filters,
log, DCT to 20 LFCC plus deltas, pooling of means and deviations over 4 s segments every 1 s
(as voxguard segments), and a logistic-regression score per segment. It computes fewer features
than voxguard (no pitch, harmonic phase or LTAS statistics), so the comparison favours Python.

By default both run on one core (OMP/MKL/OpenBLAS threads = 1, `voxguard -j 1`) on the same
files. voxguard decodes on a second thread even with `-j 1`, so pin the whole run to one core for
a fair figure. With `--defaults` each side runs as a user would start it, unpinned: voxguard on
all cores (its default `--jobs`), Python as one process with numpy's default threading.
Usage:  taskset -c 0 python3 benches/compare_librosa.py VOXGUARD_BINARY FILE_OR_DIR [...]
        python3 benches/compare_librosa.py --defaults VOXGUARD_BINARY FILE_OR_DIR [...]
Needs: pip install librosa soundfile scipy numpy
"""
import os
import sys
import time
import subprocess

DEFAULTS = "--defaults" in sys.argv[1:]
if not DEFAULTS:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np  # noqa: E402
import librosa  # noqa: E402
import scipy.fft  # noqa: E402

SR, N_FFT, WIN, HOP = 16_000, 512, 400, 160
N_FILT, N_CEPS = 30, 20
SEG, SEG_HOP = 400, 100  # frames: 4 s segments every 1 s


def linear_filterbank():
    edges = np.linspace(0, SR / 2, N_FILT + 2)
    freqs = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    fb = np.zeros((N_FILT, freqs.size))
    for i in range(N_FILT):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        fb[i] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return fb


FB = linear_filterbank()
RNG = np.random.default_rng(0)
W = RNG.normal(size=(N_CEPS - 1) + 2 * N_CEPS)


def score_file(path):
    y, _ = librosa.load(path, sr=SR, mono=True)
    spec = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, win_length=WIN, window="hann", center=False)) ** 2
    lfcc = scipy.fft.dct(np.log(FB @ spec + 1e-10), type=2, norm="ortho", axis=0)[:N_CEPS]
    delta = librosa.feature.delta(lfcc, width=5, mode="nearest") if lfcc.shape[1] >= 5 else np.zeros_like(lfcc)
    energy = 10 * np.log10(np.mean(librosa.util.frame(y, frame_length=WIN, hop_length=HOP) ** 2, axis=0) + 1e-12)
    n = min(lfcc.shape[1], energy.size)
    scores = []
    for start in range(0, max(n - SEG + SEG_HOP, 0) + 1, SEG_HOP):
        sl = slice(start, min(start + SEG, n))
        speech = energy[sl] > max(energy[sl].max() - 40, -55)
        if speech.sum() < 100:
            scores.append(None)
            continue
        c, d = lfcc[:, sl][:, speech], delta[:, sl][:, speech]
        stats = np.concatenate([c[1:].mean(1), c.std(1), d.std(1)])
        scores.append(1 / (1 + np.exp(-(W @ stats) / 100)))
    return scores


def expand(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                out += [os.path.join(root, f) for f in sorted(files) if f.endswith((".flac", ".wav"))]
        else:
            out.append(p)
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--defaults"]
    binary, paths = args[0], expand(args[1:])
    audio_s = sum(librosa.get_duration(path=p) for p in paths)
    score_file(paths[0])  # untimed: librosa's numba kernels compile on first use (once per install)
    t = time.perf_counter()
    for p in paths:
        score_file(p)
    py = time.perf_counter() - t
    t = time.perf_counter()
    jobs = [] if DEFAULTS else ["-j", "1"]
    subprocess.run([binary, "scan", "-q", *jobs, "--format", "jsonl", *paths], check=False,
                   stdout=subprocess.DEVNULL)
    rs = time.perf_counter() - t
    setting = f"default settings, {os.cpu_count()} cores" if DEFAULTS else "one core each"
    print(f"{len(paths)} files, {audio_s:.0f} s of audio, {setting}")
    print(f"python/librosa: {py:.2f} s ({audio_s / py:.0f}x real time)")
    print(f"voxguard:       {rs:.2f} s ({audio_s / rs:.0f}x real time)")
    print(f"voxguard is {py / rs:.1f}x faster")


if __name__ == "__main__":
    main()
