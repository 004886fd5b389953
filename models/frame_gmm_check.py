#!/usr/bin/env python3
"""A GMM pair on frame LFCCs (the classic ASVspoof baseline), under `eval --cv family --hold-out-voices`.

For every corpus clip and its telephone copy (ffmpeg: 300-3,400 Hz band-pass, 8 kHz, G.711
mu-law), `voxguard features` writes frame LFCCs (20 linear filters over 0-FMAX Hz, c1-c19 with
deltas and delta-deltas; c0, the level, is dropped) and the frame RMS; frames more than 30 dB
below the clip's loudest or below -60 dBFS are dropped (silence). For each held-out family and
each of 5 folds of real voices (the folds of `compare_classifiers.py --hold-out-voices`), two
32-component diagonal GMMs are fitted, one on real and one on synthetic frames (40,000 of each,
every generator an equal share, clean and telephone frames together), without the held-out
family's clips, voices and that fold's real clips; a clip scores the mean frame log-likelihood
ratio. It prints the EER per held-out family (mean over folds), clean / telephone, and the same for
the real GMM alone (a one-class model: a clip scores minus the mean frame log-likelihood under
real speech). With --dynamic both GMMs read only the deltas and delta-deltas (40 of the 59
columns), not the cepstra themselves, which describe the voice and the channel. With
--clean-only the GMMs are fitted on clean frames alone, so no telephone frame is ever trained
on (the telephone test copies go through the channel the training frames otherwise include).
--extra-copy NAME MANIFEST2 STATS2 adds a test copy that nothing trains on: MANIFEST2 lists the
same clips in the same order as other files (e.g. MP3 versions made with ffmpeg), STATS2 is
`voxguard train --manifest MANIFEST2 ... --export-stats STATS2`; its EER is printed third.
With --joined-deltas the deltas and delta-deltas are taken over the kept frames joined
(Savitzky-Golay over 9 frames, as librosa's delta), not over all frames, so no delta spans a
dropped pause: what `voxguard train` can compute over a segment's speech frames. --n-filters N
and --win-length SAMPLES change the LFCC geometry (default 20 and 320; the shipped model's
frame features use 30 and 400).

With STATS_CSV (`voxguard train ... --export-stats STATS_CSV`) it also scores the same folds with
a statistics model re-implemented in scikit-learn and prints the fusions `statistics + W x GMM
pair` and `statistics + W x real GMM`, each score divided by its spread on 120 training clips, for
a few weights W. The statistics model is 1.8.0's type (logistic regression + one-class Gaussian
of all statistics, every real clip alike, as `compare_classifiers.py`), or with --recipe 1.11 the
shipped type (`source_bias.shipped_type`, real sources weighed as `train` does).

Usage:  python3 models/frame_gmm_check.py VOXGUARD_BINARY [MANIFEST] [--fmax HZ] [--stats STATS_CSV]
            [--recipe 1.8|1.11] [--dynamic] [--clean-only] [--extra-copy NAME MANIFEST2 STATS2]
            [--joined-deltas] [--n-filters N] [--win-length SAMPLES]
        (defaults: ../shared/corpus/manifest.csv, FMAX 7000 like the shipped features, recipe 1.8)
Needs:  ffmpeg, pip install numpy scipy scikit-learn; about 8 minutes on 2 cores (15 with --stats).
"""

import collections
import csv
import os
import subprocess
import sys
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.signal import savgol_filter
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_classifiers as cc  # noqa: E402  (folds, EER, the statistics models)
import source_bias as sb  # noqa: E402  (the shipped type)

COPIES = ("clean", "telephone")
FRAMES_PER_CLASS = 40_000
COMPONENTS = 32
DYNAMIC = slice(19, None)  # after c1-c19: the deltas and delta-deltas
WEIGHTS = (0.5, 1, 2, 4)


def features(binary, audio, out, feat):
    """Frames of `audio` kept as speech: c1-c19, then the deltas and delta-deltas of c0-c19."""
    common = ["--win-length", str(feat["win_length"]), "--out"]
    subprocess.run([binary, "features", "--kind", "lfcc", "--deltas",
                    "0" if feat["joined"] else "2", "--n-filters", str(feat["n_filters"]),
                    "--n-coeffs", "20", "--top-db", "0", "--fmax", str(feat["fmax"]), *common,
                    out + ".lfcc.npy", audio], check=True, capture_output=True)
    subprocess.run([binary, "features", "--kind", "spectral", *common, out + ".spec.npy", audio],
                   check=True, capture_output=True)
    x, rms = np.load(out + ".lfcc.npy"), np.load(out + ".spec.npy")[:, 6]
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    keep = (db > db.max() - 30) & (db > -60)
    if not feat["joined"]:
        return np.delete(x[keep], 0, axis=1).astype(np.float32)
    # The kept frames joined, then differentiated as librosa's delta (width 9) does, so no
    # delta spans a dropped frame.
    k = x[keep]
    if len(k) < 9:
        return np.zeros((0, 3 * k.shape[1] - 1), np.float32)
    d1, d2 = (savgol_filter(k, 9, 2, deriv=n, axis=0, mode="interp") for n in (1, 2))
    return np.concatenate([k[:, 1:], d1, d2], axis=1).astype(np.float32)


def clip_frames(binary, path, tmp, feat):
    stem = os.path.join(tmp, str(abs(hash(path))))
    tel = stem + ".tel.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", path, "-af",
                    "highpass=f=300,lowpass=f=3400", "-ar", "8000", "-c:a", "pcm_mulaw", tel],
                   check=True)
    return {"clean": features(binary, path, stem + ".c", feat),
            "telephone": features(binary, tel, stem + ".t", feat)}


def sample(rng, clips, idx, n, copies):
    per = max(1, n // max(1, len(idx)))
    out = []
    for i in idx:
        x = np.concatenate([clips[i]["frames"][c] for c in copies])
        if len(x):
            out.append(x[rng.choice(len(x), min(per, len(x)), replace=False)])
    return np.concatenate(out)


def fit_gmm_pair(clips, train, rng, columns=slice(None), copies=COPIES):
    """Real and synthetic GMMs on `columns` of the frames of `copies`; returns the scorers of the
    pair (log-likelihood ratio) and of the real GMM alone (minus its log-likelihood)."""
    bona = [i for i in train if clips[i]["label"] == "bonafide"]
    systems = collections.defaultdict(list)
    for i in train:
        if clips[i]["label"] == "spoof":
            systems[clips[i]["system"]].append(i)
    xb = sample(rng, clips, bona, FRAMES_PER_CLASS, copies)[:, columns]
    xs = np.concatenate([sample(rng, clips, v, FRAMES_PER_CLASS // len(systems), copies)
                         for v in systems.values()])[:, columns]
    mu, sd = xb.mean(0), np.concatenate([xb, xs]).std(0) + 1e-6

    def gmm(x):
        return GaussianMixture(COMPONENTS, covariance_type="diag", max_iter=50, random_state=0,
                               reg_covar=1e-3).fit((x - mu) / sd)
    gb, gs = gmm(xb), gmm(xs)
    real = lambda x: gb.score_samples((x[:, columns] - mu) / sd)  # noqa: E731
    return (lambda x: float(np.mean(gs.score_samples((x[:, columns] - mu) / sd) - real(x))),
            lambda x: float(-np.mean(real(x))))


def main():
    # 50 EM iterations do not always meet scikit-learn's tolerance; the figures are what they are.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    args = sys.argv[1:]
    opts = {}
    dynamic, clean_only = "--dynamic" in args, "--clean-only" in args
    joined = "--joined-deltas" in args
    args = [a for a in args if a not in ("--dynamic", "--clean-only", "--joined-deltas")]
    extra = None
    if "--extra-copy" in args:
        i = args.index("--extra-copy")
        extra = args[i + 1:i + 4]
        del args[i:i + 4]
    test_copies = COPIES + ((extra[0],) if extra else ())
    for flag in ("--fmax", "--stats", "--recipe", "--n-filters", "--win-length"):
        if flag in args:
            i = args.index(flag)
            opts[flag] = args[i + 1]
            del args[i:i + 2]
    if not args:
        sys.exit(__doc__)
    binary = os.path.abspath(args[0])
    manifest = args[1] if len(args) > 1 else "../shared/corpus/manifest.csv"
    fmax = int(opts.get("--fmax", 7000))
    feat = {"fmax": fmax, "n_filters": int(opts.get("--n-filters", 20)),
            "win_length": int(opts.get("--win-length", 320)), "joined": joined}
    here = os.path.dirname(os.path.abspath(__file__))
    family = cc.read_pairs(os.path.join(here, "families.csv"), "system", "family")
    voice = cc.read_pairs(os.path.join(here, "voices.csv"), "speaker", "voice")
    root = os.path.dirname(os.path.abspath(manifest))
    rows = list(csv.DictReader(open(manifest)))
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(os.cpu_count()) as pool:
        frames = list(pool.map(lambda r: clip_frames(binary, os.path.join(root, r["file"]), tmp,
                                                     feat), rows))
    clips = [{"label": r["label"], "system": r["system"],
              "speaker": voice.get(r["speaker"], r["speaker"]), "frames": f,
              "path": os.path.abspath(os.path.join(root, r["file"]))}
             for r, f in zip(rows, frames)]
    if extra:
        root2 = os.path.dirname(os.path.abspath(extra[1]))
        rows2 = list(csv.DictReader(open(extra[1])))
        assert [(r["label"], r["system"]) for r in rows2] == \
            [(r["label"], r["system"]) for r in rows], "MANIFEST2 must list the same clips"
        paths2 = [os.path.abspath(os.path.join(root2, r["file"])) for r in rows2]
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(os.cpu_count()) as pool:
            frames2 = list(pool.map(lambda ip: features(binary, ip[1], os.path.join(
                tmp, str(ip[0])), feat), enumerate(paths2)))
        for c, f, p2 in zip(clips, frames2, paths2):
            c["frames"][extra[0]], c["path2"] = f, p2
    stats = None
    if "--stats" in opts:
        loaded = cc.load(opts["--stats"])
        fit_stats = cc.logistic_oneclass
        if opts.get("--recipe", "1.8") == "1.11":
            cc.attach_sources(loaded, manifest)
            names = cc.stat_names(opts["--stats"])
            fit_stats = sb.shipped_type(sb.one_class_columns(names))
        by_file = {os.path.abspath(c["file"]): c for c in loaded}
        stats = [by_file[c["path"]] for c in clips]
        if extra:
            by_file2 = {os.path.abspath(c["file"]): c for c in cc.load(extra[2])}
            for st, c in zip(stats, clips):  # a clip with too little speech has no row
                st["copies"][extra[0]] = by_file2.get(c["path2"], {"copies": {}})["copies"].get(
                    "clean", [])
    rng = np.random.default_rng(0)
    scores = collections.defaultdict(list)  # (family, fold, copy) -> [(label, stats, gmm)]
    families = cc.families_of(clips, family)
    for held, fold, test, train in cc.family_folds(clips, family, hold_out_voices=True):
        gmms = fit_gmm_pair(clips, train, rng, DYNAMIC if dynamic else slice(None),
                            ("clean",) if clean_only else COPIES)
        seg, spread = None, (1.0, 1.0, 1.0)
        if stats:
            seg = fit_stats(*cc.training_rows(stats, train))
            sub = rng.choice(train, 120, replace=False)
            spread = (np.std([cc.clip_score(seg, stats[i], "clean") for i in sub]),
                      *[np.std([g(clips[i]["frames"]["clean"]) for i in sub]) for g in gmms])
        for copy in test_copies:
            for i in test:
                s = cc.clip_score(seg, stats[i], copy) if seg else 0.0
                if s is None or not len(clips[i]["frames"][copy]):
                    continue
                g = [f(clips[i]["frames"][copy]) / sd for f, sd in zip(gmms, spread[1:])]
                scores[(held, fold, copy)].append((clips[i]["label"], s / spread[0], g))
        print(f"  {held}, fold {fold} done", file=sys.stderr, flush=True)

    def table(name, combine):
        per = {(h, c): np.mean([cc.eer(*[[combine(s, g) for lab, s, g in scores[(h, k, c)]
                                          if lab == want] for want in ("bonafide", "spoof")])
                                for k in range(cc.K)])
               for h in families for c in test_copies}
        means = " / ".join(f"{np.mean([per[(h, c)] for h in families]):.1f}" for c in test_copies)
        cells = "  ".join(f"{h} " + "/".join(f"{per[(h, c)]:.1f}" for c in test_copies)
                          for h in families)
        print(f"{name:22s} mean {means}   {cells}", flush=True)

    print(f"{len(clips)} clips, LFCC over 0-{fmax} Hz{', deltas only' if dynamic else ''}; "
          f"EER % on held-out families (their voices held out too), {' / '.join(test_copies)}")
    table("GMM pair", lambda s, g: g[0])
    table("real GMM", lambda s, g: g[1])
    if stats:
        table(f"statistics ({opts.get('--recipe', '1.8')} type)", lambda s, g: s)
        for w in WEIGHTS:
            table(f"statistics + {w} x GMM", lambda s, g, w=w: s + w * g[0])
        for w in WEIGHTS:
            table(f"statistics + {w} x real GMM", lambda s, g, w=w: s + w * g[1])


if __name__ == "__main__":
    main()
