#!/usr/bin/env python3
"""Recipe changes tried after 1.11.0 (models/HISTORY.md, "Tried after 1.11.0" and "Tried after
1.12.0"); none was kept but `channel-gaussians shared`, which `train` fits since 1.13.0.

Each trial re-implements the shipped model type in scikit-learn (`source_bias.shipped_type`:
logistic regression of the 88 statistics plus twice the Gaussian of the 41) on statistics from
`voxguard train --export-stats`, under the folds of `eval --cv family --hold-out-voices`
(`compare_classifiers.family_folds`), and prints the mean EER over the held-out families, clean
/ telephone, with the per-family figures. `baseline` is the shipped recipe (26.6 / 34.0 % on the
statistics of 1.11.0's `train --seed 0`).

Trials:
  baseline
  nap channel|source|both K [both|gaussian]
        project out the K directions along which a clip moves between its training copies
        (channel) or along which the real sources' means differ (source), from the inputs of
        both parts or of the Gaussian alone
  knn K [instead]
        add twice the log mean distance to the K nearest real training rows (whitened 41
        statistics), or put it in the Gaussian's place
  family-weights equal|sqrt
        share the synthetic half among families (equally, or by the square root of their
        generator counts) instead of among generators
  self-vocoded GENERATOR[,GENERATOR]
        with statistics exported from the manifest `selfvocode` writes: train also on the
        named self-vocoded generators, a real speaker's copies only when that speaker's real
        clips train, none when the vocoder-resynthesis family is held out
  channel-gaussians [shared]
        one Gaussian of real speech per channel instead of one for all: narrowband rows
        (nothing above 4 kHz: the sub-bands 5-7 below -75 dB) and full-band rows each scored
        by the Gaussian of the real rows of their kind; with `shared`, full-band rows keep the
        Gaussian of all real rows
  selfvocode OUT_DIR
        write vocoded copies of the corpus's real clips (mel Griffin-Lim, harmonic-plus-noise)
        and OUT_DIR/manifest.csv (the corpus manifest plus the copies, as spoof generators
        `selfvoc-mel-gl` and `selfvoc-hnm`); then `voxguard train --manifest
        OUT_DIR/manifest.csv --out m.json --export-stats stats.csv`

Usage:  python3 models/recipe_trials.py STATS_CSV TRIAL [ARGS]   (from the repository root)
        python3 models/recipe_trials.py selfvocode OUT_DIR [CORPUS_DIR]
        The manifest for the real sources is ../shared/corpus/manifest.csv, or $MANIFEST.
Needs:  pip install numpy scipy scikit-learn soundfile
"""

import collections
import csv
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_classifiers as cc  # noqa: E402
import source_bias as sb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SELF = "selfvoc-"
SR = 16000


def load(stats_path, keep_self=()):
    names = cc.stat_names(stats_path)
    clips = [c for c in cc.load(stats_path)
             if not c["system"].startswith(SELF) or c["system"] in keep_self]
    cc.attach_sources(clips, os.environ.get("MANIFEST", "../shared/corpus/manifest.csv"))
    voice = cc.read_pairs(os.path.join(HERE, "voices.csv"), "speaker", "voice")
    for c in clips:
        c["speaker"] = voice.get(c["speaker"], c["speaker"])
    return names, clips


def run(clips, family, fit, rows=None, extra_train=None):
    """Mean EER over held-out families (voices held out) for `fit(x, y, w, train)`; `rows`
    replaces `cc.training_rows`, `extra_train(held, fold)` adds training clips."""
    rows = rows or (lambda idx: cc.training_rows(clips, idx))
    corpus = [c for c in clips if not c["system"].startswith(SELF)]
    eers = collections.defaultdict(lambda: {copy: [] for copy in cc.TEST_COPIES})
    index = {id(c): i for i, c in enumerate(clips)}
    for held, fold, test, train in cc.family_folds(corpus, family, True):
        test = [index[id(corpus[i])] for i in test]
        train = [index[id(corpus[i])] for i in train] + (extra_train(held, fold) if extra_train
                                                        else [])
        model = fit(*rows(train), train)
        for copy in cc.TEST_COPIES:
            scored = [(clips[i]["label"], cc.clip_score(model, clips[i], copy)) for i in test]
            bona = [s for lab, s in scored if lab == "bonafide" and s is not None]
            spoof = [s for lab, s in scored if lab == "spoof" and s is not None]
            eers[held][copy].append(cc.eer(bona, spoof))
    means = [np.mean([np.mean(v[c]) for v in eers.values()]) for c in cc.TEST_COPIES]
    cells = "  ".join(f"{f} {np.mean(v['clean']):.1f}/{np.mean(v['telephone']):.1f}"
                      for f, v in eers.items())
    return f"mean {means[0]:.1f} / {means[1]:.1f}   {cells}"


def shipped(names, project=None, extra=None, instead=False):
    """`source_bias.shipped_type`, with an optional projection `project(train, z)` of the
    standardised inputs (a matrix for each part) and an optional score `extra(z, x, y, cols)`
    added with weight 2 in units of its spread, beside the Gaussian or `instead` of it."""
    cols = sb.one_class_columns(names)
    plain = sb.shipped_type(cols)

    def fit(x, y, w, train):
        if project is None and extra is None:
            return plain(x, y, w)
        z = cc.Standardised(x)
        p_lr, p_g = project(train, z) if project else (np.eye(x.shape[1]),) * 2
        lr = LogisticRegression(C=0.1, max_iter=5000).fit(z(x) @ p_lr, y, sample_weight=w)
        gauss = sb.weighted_gaussian((z(x) @ p_g)[y == 0], w[y == 0], cols)
        parts = [lambda q: lr.decision_function(z(q) @ p_lr), lambda q: gauss(z(q) @ p_g)]
        weights = [1.0, sb.GAUSSIAN_WEIGHT]
        if instead:
            parts, weights = parts[:1], weights[:1]
        if extra:
            parts.append(extra(z, x, y, cols))
            weights.append(sb.GAUSSIAN_WEIGHT)
        spread = [p(x).std() for p in parts]
        return lambda q: sum(wt * p(q) / s for wt, p, s in zip(weights, parts, spread))
    return fit


def nap(clips, kind, k, where):
    """Projections (logistic part, Gaussian) that remove the top `k` directions of nuisance
    scatter among the training clips: between a clip's copies, or between real sources' means."""
    def project(train, z):
        d = []
        if kind in ("channel", "both"):
            for i in train:
                means = [z(np.stack([s for _, s in clips[i]["copies"][cp]])).mean(0)
                         for cp in cc.TRAIN_COPIES if clips[i]["copies"].get(cp)]
                if len(means) > 1:
                    d += [m - np.mean(means, 0) for m in means]
        if kind in ("source", "both"):
            per = collections.defaultdict(list)
            for i in train:
                c = clips[i]
                if c["label"] == "bonafide" and c["copies"].get("clean"):
                    per[c["corpus"]].append(
                        z(np.stack([s for _, s in c["copies"]["clean"]])).mean(0))
            means = {s: np.mean(v, 0) for s, v in per.items()}
            grand = np.mean(list(means.values()), 0)
            d += [np.sqrt(len(per[s])) * (m - grand) for s, m in means.items()]
        u = np.linalg.svd(np.array(d), full_matrices=False)[2][:k]
        p = np.eye(u.shape[1]) - u.T @ u
        return (np.eye(u.shape[1]) if where == "gaussian" else p), p
    return project


def knn(k):
    """Log mean distance to the `k` nearest real training rows, in the Gaussian's statistics
    whitened by their (lightly regularised) covariance: a one-class score without one Gaussian's
    shape."""
    def extra(z, x, y, cols):
        real = z(x)[y == 0][:, cols]
        white = np.linalg.cholesky(np.linalg.inv(np.cov(real.T) + 0.05 * np.eye(len(cols))))
        nn = NearestNeighbors(n_neighbors=k).fit(real @ white)
        return lambda q: np.log(nn.kneighbors(z(q)[:, cols] @ white)[0].mean(1) + 1e-9)
    return extra


def channel_gaussians(names, shared=False):
    """The shipped type with one Gaussian of real speech per channel (full band, narrowband;
    `shared`: full band keeps the Gaussian of all real rows)."""
    cols = sb.one_class_columns(names)
    high = [names.index(f"band{i}_rel_db_mean") for i in (5, 6, 7)]

    def narrow(x):
        return (x[:, high] < -75.0).all(1)

    def fit(x, y, w, train):
        z = cc.Standardised(x)
        nb = narrow(x)

        lr = LogisticRegression(C=0.1, max_iter=5000).fit(z(x), y, sample_weight=w)
        gauss = {f: sb.weighted_gaussian(z(x)[(y == 0) & (nb == f)], w[(y == 0) & (nb == f)],
                                         cols) for f in (False, True)}
        if shared:
            gauss[False] = sb.weighted_gaussian(z(x)[y == 0], w[y == 0], cols)

        def one_class(q):
            out, m = np.empty(len(q)), narrow(q)
            for f in (False, True):
                if (m == f).any():
                    out[m == f] = gauss[f](z(q[m == f]))
            return out
        sa, sg = lr.decision_function(z(x)).std(), one_class(x).std()
        return lambda q: lr.decision_function(z(q)) / sa + sb.GAUSSIAN_WEIGHT * one_class(q) / sg
    return fit


def family_rows(clips, family, mode):
    """`cc.training_rows` with the synthetic half shared among families (`equal`, or by the
    square root of their generator counts: `sqrt`), generators equally within a family."""
    def rows(idx):
        x, y, w = cc.training_rows(clips, idx)
        gens = collections.defaultdict(set)
        for i in idx:
            if clips[i]["label"] == "spoof":
                gens[family[clips[i]["system"]]].add(clips[i]["system"])
        n_gen = sum(len(v) for v in gens.values())
        size = {f: 1.0 if mode == "equal" else np.sqrt(len(v)) for f, v in gens.items()}
        share = {f: s / sum(size.values()) for f, s in size.items()}
        factor = [share[family[clips[i]["system"]]] / (len(gens[family[clips[i]["system"]]])
                                                       / n_gen)
                  if clips[i]["label"] == "spoof" else 1.0
                  for i in idx for copy in cc.TRAIN_COPIES
                  for _ in clips[i]["copies"].get(copy, [])]
        w = w * np.array(factor)
        w[y == 1] *= w[y == 0].sum() / w[y == 1].sum()
        return x, y, w * len(w) / w.sum()
    return rows


def self_vocoded_training(clips, family):
    """The self-vocoded clips a fold trains on: not in a voice of the held-out family, not of a
    real speaker the fold tests, none when vocoder resynthesis is held out."""
    def extra(held, fold):
        if held == "vocoder-resynthesis":
            return []
        held_voices = {c["speaker"] for c in clips
                       if c["label"] == "spoof" and family.get(c["system"]) == held}
        return [i for i, c in enumerate(clips) if c["system"].startswith(SELF)
                and c["speaker"] not in held_voices and cc.speaker_fold(c["speaker"]) != fold]
    return extra


# --- self-vocoded copies -------------------------------------------------------------------

def mel_filterbank(n_fft, n_mels):
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = hz(np.linspace(0, mel(SR / 2), n_mels + 2))
    freqs = np.linspace(0, SR / 2, n_fft // 2 + 1)
    return np.array([np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
                     for lo, c, hi in zip(edges, edges[1:], edges[2:])])


def mel_griffin_lim(x, rng, n_fft=1024, hop=256, n_mels=80, iters=32):
    from scipy.signal import istft, stft
    spec = lambda s: stft(s, SR, nperseg=n_fft, noverlap=n_fft - hop)[2]  # noqa: E731
    fb = mel_filterbank(n_fft, n_mels)
    mag = np.clip(np.linalg.pinv(fb) @ (fb @ np.abs(spec(x))), 0, None)
    phase = np.exp(2j * np.pi * rng.random(mag.shape))
    for _ in range(iters + 1):
        y = istft(mag * phase, SR, nperseg=n_fft, noverlap=n_fft - hop)[1][:len(x)]
        s = spec(y)[:, :mag.shape[1]]
        s = np.pad(s, ((0, 0), (0, mag.shape[1] - s.shape[1])))
        phase = np.exp(1j * np.angle(s + 1e-12))
    return y


def f0_track(x, win=640, hop=160):
    from scipy.signal import medfilt
    lo, hi = SR // 400, SR // 70
    f0 = np.zeros(1 + max(0, (len(x) - win) // hop))
    for i in range(len(f0)):
        ac = np.fft.irfft(np.abs(np.fft.rfft(x[i * hop:i * hop + win] * np.hanning(win),
                                             2 * win)) ** 2)[:win]
        if ac[0] > 1e-9:
            lag = lo + np.argmax(ac[lo:hi] / ac[0])
            f0[i] = SR / lag if ac[lag] / ac[0] > 0.45 else 0.0
    return medfilt(f0, 5)


def harmonic_plus_noise(x, rng, n_fft=512, hop=160):
    """Harmonics up to 4 kHz at the tracked F0, amplitudes from a 30-coefficient cepstral
    envelope, phases integrated from F0 (made up); envelope-shaped noise, weaker below 4 kHz in
    voiced frames."""
    from scipy.signal import stft
    f0 = f0_track(x, hop=hop)
    freqs, _, spec = stft(x, SR, nperseg=n_fft, noverlap=n_fft - hop)
    cep = np.fft.irfft(np.log(np.abs(spec) + 1e-7), axis=0)
    cep[30:-30] = 0
    env = np.exp(np.fft.rfft(cep, axis=0).real)[:spec.shape[0]]
    norm = 2 / np.hanning(n_fft).sum()
    y, phase, window = np.zeros(len(x) + n_fft), 0.0, np.hanning(2 * hop)
    t = np.arange(2 * hop)
    for i in range(min(env.shape[1], len(f0))):
        frame = np.zeros(2 * hop)
        if f0[i] > 0:
            k = np.arange(1, int(4000 / f0[i]) + 1)
            bins = np.clip((k * f0[i] * n_fft / SR).astype(int), 0, env.shape[0] - 1)
            frame += (env[bins, i, None] * norm * np.cos(
                2 * np.pi * k[:, None] * f0[i] * t / SR + phase * k[:, None])).sum(0)
            phase = (phase + 2 * np.pi * f0[i] * hop / SR) % (2 * np.pi)
        noise = env[:, i] * np.exp(2j * np.pi * rng.random(env.shape[0]))
        if f0[i] > 0:
            noise[freqs < 4000] *= 0.1
        frame += np.fft.irfft(noise, n_fft)[:2 * hop] * np.sqrt(n_fft) * norm
        start = i * hop + n_fft // 2 - hop
        if start >= 0:
            y[start:start + 2 * hop] += frame * window
    return y[:len(x)]


def selfvocode(out_dir, corpus):
    import soundfile as sf
    os.makedirs(os.path.join(out_dir, "audio"), exist_ok=True)
    rows = list(csv.DictReader(open(os.path.join(corpus, "manifest.csv"))))
    rng = np.random.default_rng(0)
    with open(os.path.join(out_dir, "manifest.csv"), "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        for r in rows:
            out.writerow({**r, "file": os.path.abspath(os.path.join(corpus, r["file"]))})
        for r in rows:
            if r["label"] != "bonafide":
                continue
            x, rate = sf.read(os.path.join(corpus, r["file"]))
            assert rate == SR, r["file"]
            stem = os.path.splitext(os.path.basename(r["file"]))[0]
            for name, vocode in (("mel-gl", mel_griffin_lim), ("hnm", harmonic_plus_noise)):
                y = vocode(x, rng)
                y *= np.abs(x).max() / max(1e-9, np.abs(y).max())
                path = os.path.abspath(os.path.join(out_dir, "audio", f"{SELF}{name}_{stem}.flac"))
                sf.write(path, y, SR)
                out.writerow({**r, "file": path, "label": "spoof", "system": SELF + name})


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "selfvocode":
        return selfvocode(args[1], args[2] if len(args) > 2 else "../shared/corpus")
    if len(args) < 2:
        sys.exit(__doc__)
    stats, trial, rest = args[0], args[1], args[2:]
    family = cc.read_pairs(os.path.join(HERE, "families.csv"), "system", "family")
    keep = tuple(rest[0].split(",")) if trial == "self-vocoded" else ()
    names, clips = load(stats, keep)
    if trial == "baseline":
        line = run(clips, family, shipped(names))
    elif trial == "nap":
        where = rest[2] if len(rest) > 2 else "both"
        line = run(clips, family, shipped(names, project=nap(clips, rest[0], int(rest[1]), where)))
    elif trial == "knn":
        line = run(clips, family, shipped(names, extra=knn(int(rest[0])),
                                           instead=rest[1:] == ["instead"]))
    elif trial == "family-weights":
        line = run(clips, family, shipped(names), rows=family_rows(clips, family, rest[0]))
    elif trial == "channel-gaussians":
        line = run(clips, family, channel_gaussians(names, rest[:1] == ["shared"]))
    elif trial == "self-vocoded":
        line = run(clips, family, shipped(names), extra_train=self_vocoded_training(clips, family))
    else:
        sys.exit(__doc__)
    print(f"{trial} {' '.join(rest)}: {line}", flush=True)


if __name__ == "__main__":
    main()
