#!/usr/bin/env python3
"""Other classifiers on voxguard's own statistics, under the protocol of `eval --cv family`.

`voxguard train --export-stats stats.csv` writes the pooled segment statistics the shipped model
is trained on (clean, telephone and degraded copies of every clip). This script trains
scikit-learn models on them with the same weighting as `train` (each class half the weight, each
generator an equal share of the synthetic half, each real source of the manifest's `corpus`
column a share of the real half growing with the square root of its size, each clip an equal
share of its generator's or source's) and
the same folds as `eval --cv family` (for each family and each of 5 folds of real speakers, a
model trained without both scores that family's clips and that fold's real clips; a clip's score
is the speech-weighted mean of its segments' log-odds). It prints the EER per held-out family
(mean over the 5 folds) for the clean clips and their telephone copies. `--hold-out-voices`
also trains each model without every clip in a voice of the held-out family's synthetic clips
and folds real speakers by voice (`models/voices.csv`), as `eval --hold-out-voices` does.

The logistic regression here is the shipped model's first part (L2 10 on standardised
statistics); `shipped-1.15` is 1.15.0's statistics model (the logistic regression plus twice the
Gaussian of the statistics without the spectral envelope), `shipped-1.15+deviation` adds 1.16.0's
deviation model, both without the frame model and the narrowband Gaussian. Figures differ from
`eval --cv family` by a point or two (solver, EER interpolation, the parts left out), so compare
the rows with each other, not with the model card.

Usage:  python3 models/compare_classifiers.py [--hold-out-voices] [--manifest M]
            [--family-exponent E] [--fold-salt S] STATS_CSV [FAMILIES_CSV] [MODEL ...]
        MODEL: logistic, oneclass, mlp, logistic+mlp, logistic+oneclass, deviation,
        shipped-1.15, shipped-1.15+deviation, and shipped-1.15+deviation/median,
        /narrowband-centre, /channel-centres (1.17.0's), /channel-centres-pooled-spread,
        /dead-zone (variants tried after 1.16.0), shipped-1.17 (the same as /channel-centres),
        shipped-1.21 (its logistic regression without the LFCC deviations; default: all)
        S: fold the real speakers by the hash of S + "/" + speaker instead of the speaker
        alone, for other folds than `eval --seed 0`'s (not the folds of `eval --seed N`)
        E: each training family's share of the synthetic half grows as (its generators)^E
        (default 1, `train`'s: every generator alike; 0 every family alike)
        M: the manifest the statistics were exported from, for the real sources (default
        ../shared/corpus/manifest.csv)
Needs:  pip install numpy scikit-learn
"""

import collections
import csv
import hashlib
import os
import sys

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

META = 7  # file,label,system,speaker,copy,segment,speech_s
TRAIN_COPIES = ("clean", "telephone", "degraded")
TEST_COPIES = ("clean", "telephone")
K = 5


def stat_names(path):
    """The statistics' names, in column order, from the header of an exported STATS_CSV."""
    with open(path, newline="") as f:
        return next(csv.reader(f))[META:]


def load(path):
    clips = collections.OrderedDict()
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for r in rows:
            c = clips.setdefault(r[0], {"file": r[0], "label": r[1], "system": r[2],
                                        "speaker": r[3], "copies": collections.defaultdict(list)})
            c["copies"][r[4]].append((float(r[6]), np.array(r[META:], dtype=float)))
    return list(clips.values())


FOLD_SALT = ""  # `--fold-salt S`: other folds of the real speakers (S + "/" + speaker hashed)


def speaker_fold(speaker):
    # voxguard's stable_hash: the first 8 bytes of SHA-256, little-endian.
    key = f"{FOLD_SALT}/{speaker}" if FOLD_SALT else speaker
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") % K


def attach_sources(clips, manifest):
    """Sets each clip's `corpus` (its recording source) from the manifest's `corpus` column."""
    root = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, newline="") as f:
        source = {os.path.normpath(os.path.join(root, r["file"])): r.get("corpus", "")
                  for r in csv.DictReader(f)}
    for c in clips:
        c["corpus"] = source.get(os.path.normpath(os.path.abspath(c["file"])), "")


FAMILY = {}  # set by main(): each generator's family
FAMILY_EXPONENT = 1.0  # `--family-exponent`: 1 is `train`'s weighting


def training_rows(clips, idx, exponent=0.5):
    """`train`'s rows and weights: each class half the weight, each generator an equal share of
    the spoof half (with `FAMILY_EXPONENT` e other than 1, each family a share proportional to
    m^e for its m generators, split equally over them; tried after 1.16.0), each real source
    (`corpus`, from `attach_sources`; one source without it) a share of the real half
    proportional to n^exponent for its n clips (0.5 as `train` since 1.11.0; 1 weighs every real
    clip alike, as up to 1.10.0), each clip an equal share of its generator's or source's, split
    over its copies and segments."""
    per_system = collections.Counter(clips[i]["system"] for i in idx if clips[i]["label"] == "spoof")
    per_source = collections.Counter(clips[i].get("corpus", "") for i in idx
                                     if clips[i]["label"] == "bonafide")
    total = sum(n ** exponent for n in per_source.values())
    per_family = collections.Counter(FAMILY.get(s, s) for s in per_system)
    family_total = sum(m ** FAMILY_EXPONENT for m in per_family.values())
    x, y, w = [], [], []
    for i in idx:
        c = clips[i]
        spoof = c["label"] == "spoof"
        if spoof:
            m = per_family[FAMILY.get(c["system"], c["system"])]
            class_w = 0.5 * m ** FAMILY_EXPONENT / family_total / m / per_system[c["system"]]
        else:
            n = per_source[c.get("corpus", "")]
            class_w = 0.5 * n ** exponent / total / n
        for copy in TRAIN_COPIES:
            segs = c["copies"].get(copy, [])
            for _, stats in segs:
                x.append(stats)
                y.append(1.0 if spoof else 0.0)
                w.append(class_w / len(segs) / len(TRAIN_COPIES))
    w = np.array(w)
    return np.array(x), np.array(y), w * len(w) / w.sum()


class Standardised:
    def __init__(self, x):
        self.mean, self.scale = x.mean(0), x.std(0)
        self.scale[self.scale < 1e-9] = 1.0

    def __call__(self, x):
        return (x - self.mean) / self.scale


def logistic(x, y, w):
    z = Standardised(x)
    m = LogisticRegression(C=0.1, max_iter=5000).fit(z(x), y, sample_weight=w)
    return lambda q: m.decision_function(z(q))


def oneclass(x, y, w):
    """Distance from the real speech alone (Ledoit-Wolf Gaussian): knows no generator."""
    z = Standardised(x)
    g = LedoitWolf().fit(z(x)[y == 0])
    return lambda q: np.log(g.mahalanobis(z(q)))


def mlp(x, y, w):
    z = Standardised(x)
    m = MLPClassifier(hidden_layer_sizes=(16,), activation="tanh", alpha=1.0, max_iter=300,
                      random_state=0).fit(z(x), y, sample_weight=w)

    def logit(q):
        p = m.predict_proba(z(q))[:, 1].clip(1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    return logit


def logistic_mlp(x, y, w):
    a, b = logistic(x, y, w), mlp(x, y, w)
    return lambda q: 0.5 * (a(q) + b(q))


def logistic_oneclass(x, y, w):
    """Sum of the two scores, each scaled to unit deviation on the training rows."""
    a, b = logistic(x, y, w), oneclass(x, y, w)
    sa, sb = a(x).std(), b(x).std()
    return lambda q: a(q) / sa + b(q) / sb


ENVELOPE = None  # set by main(): True for the statistics the shipped Gaussians leave out
LFCC_STD = None  # set by main(): True for the LFCC deviations (left out of 1.21.0's logistic)


def logistic_without_lfcc_std(x, y, w):
    """1.21.0's logistic regression: every statistic but the LFCC deviations."""
    keep = ~LFCC_STD
    fitted = logistic(x[:, keep], y, w)
    return lambda q: fitted(q[:, keep])


def gaussian_of_motion(x, y, w):
    """The shipped one-class part: a Gaussian of real speech without the spectral envelope."""
    keep = ~ENVELOPE
    z = Standardised(x)
    g = LedoitWolf().fit(z(x)[y == 0][:, keep])
    return lambda q: np.log(g.mahalanobis(z(q)[:, keep]))


NARROWBAND = None  # set by main(): the columns of the bands from 4 kHz up


def narrowband(x):
    """`train`'s narrowband test: every band from 4 kHz up below -75 dB (telephone, GSM)."""
    return (x[:, NARROWBAND] < -75.0).all(axis=1)


def weighted_centre(x, w):
    v = w / w.sum()
    centre = (x * v[:, None]).sum(0)
    return centre, np.sqrt(((x - centre) ** 2 * v[:, None]).sum(0))


def median_centre(x, _w):
    centre = np.median(x, axis=0)
    return centre, 1.4826 * np.median(np.abs(x - centre), axis=0)


def deviation_model(centre_of=weighted_centre, split=False, channels=False, pooled_spread=False,
                    dead_zone=0.0):
    """Logistic regression of the capped distances |x - real centre| / real spread of the
    statistics the Gaussian reads: 1.16.0's deviation model by default. `split`: narrowband rows
    against a centre and spread of real narrowband rows; with `channels` too, full-band rows
    against real full-band rows' (1.17.0's deviation model), else against every real row's;
    `pooled_spread`: with `split`, every row's distance in the spread of all real rows. Tried
    after 1.16.0 (model card): the median and MAD as centre and spread (`centre_of`), and
    distances counted only beyond `dead_zone` spreads."""
    def fit(x, y, w):
        keep, real = ~ENVELOPE, y == 0
        narrow = narrowband(x)
        full_rows = real & ~narrow if channels else real
        parts = {False: centre_of(x[full_rows], w[full_rows])}
        if split:
            parts[True] = centre_of(x[real & narrow], w[real & narrow])
        if pooled_spread:
            spread = centre_of(x[real], w[real])[1]
            parts = {side: (centre, spread) for side, (centre, _) in parts.items()}
        for _, spread in parts.values():
            spread[spread < 1e-9] = 1.0

        def distances(q):
            side = narrowband(q)[:, None] if split else False
            centre = np.where(side, parts[split][0], parts[False][0])
            spread = np.where(side, parts[split][1], parts[False][1])
            d = np.minimum(np.abs(q - centre) / spread, 6.0) - dead_zone
            return np.maximum(d, 0.0)[:, keep]
        d = distances(x)
        z = Standardised(d)
        m = LogisticRegression(C=0.1, max_iter=5000).fit(z(d), y, sample_weight=w)
        return lambda q: m.decision_function(z(distances(q)))
    return fit


deviation = deviation_model()


def weighted_sum(*parts):
    """Sum of the parts' scores, each scaled to the given spread on the training rows."""
    def fit(x, y, w):
        fitted = [(part(x, y, w), weight) for part, weight in parts]
        spreads = [f(x).std() for f, _ in fitted]
        return lambda q: sum(k * f(q) / s for (f, k), s in zip(fitted, spreads))
    return fit


MODELS = {"logistic": logistic, "oneclass": oneclass, "mlp": mlp, "logistic+mlp": logistic_mlp,
          "logistic+oneclass": logistic_oneclass, "deviation": deviation,
          # 1.15.0's statistics model without its frame model and narrowband Gaussian, alone
          # and with 1.16.0's deviation model beside it.
          "shipped-1.15": weighted_sum((logistic, 1), (gaussian_of_motion, 2)),
          "shipped-1.15+deviation": weighted_sum((logistic, 1), (gaussian_of_motion, 2),
                                                 (deviation, 1)),
          # 1.17.0's statistics model (as 1.20.0's) and 1.21.0's, whose logistic regression
          # leaves out the LFCC deviations; both without frame model and narrowband Gaussian.
          "shipped-1.17": weighted_sum((logistic, 1), (gaussian_of_motion, 2),
                                       (deviation_model(split=True, channels=True), 1)),
          "shipped-1.21": weighted_sum((logistic_without_lfcc_std, 1), (gaussian_of_motion, 2),
                                       (deviation_model(split=True, channels=True), 1))}
# The deviation variants tried after 1.16.0, in the place of its deviation model
# (channel-centres is 1.17.0's).
for _name, _part in (("median", deviation_model(centre_of=median_centre)),
                     ("narrowband-centre", deviation_model(split=True)),
                     ("channel-centres", deviation_model(split=True, channels=True)),
                     ("channel-centres-pooled-spread",
                      deviation_model(split=True, channels=True, pooled_spread=True)),
                     ("dead-zone", deviation_model(dead_zone=1.0))):
    MODELS[f"shipped-1.15+deviation/{_name}"] = weighted_sum(
        (logistic, 1), (gaussian_of_motion, 2), (_part, 1))


def eer(bona, spoof):
    bona, spoof = np.asarray(bona), np.asarray(spoof)
    best = (2.0, 0.0)
    for t in np.unique(np.concatenate([bona, spoof])):
        miss, fa = (spoof < t).mean(), (bona >= t).mean()
        best = min(best, (abs(miss - fa), (miss + fa) / 2))
    return 100 * best[1]


def clip_score(model, clip, copy):
    segs = clip["copies"].get(copy, [])
    if not segs:
        return None
    speech = np.array([s for s, _ in segs])
    return float(speech @ model(np.stack([x for _, x in segs])) / speech.sum())


def families_of(clips, family):
    """The generator families of the synthetic clips, sorted."""
    return sorted({family[c["system"]] for c in clips if c["label"] == "spoof"})


def family_folds(clips, family, hold_out_voices):
    """The folds of `eval --cv family`: (held-out family, fold, test indices, training indices).

    For each family and each of K folds of real speakers, the test set is that family's clips
    and that fold's real clips; training is everything else. With voices held out (as `eval
    --hold-out-voices`), training also loses every clip in a voice of the held-out family's
    synthetic clips."""
    for held in families_of(clips, family):
        held_voices = {c["speaker"] for c in clips if hold_out_voices
                       and c["label"] == "spoof" and family[c["system"]] == held}
        for fold in range(K):
            test = [i for i, c in enumerate(clips)
                    if (c["label"] == "bonafide" and speaker_fold(c["speaker"]) == fold)
                    or (c["label"] == "spoof" and family[c["system"]] == held)]
            held_out = set(test)
            train = [i for i in range(len(clips))
                     if i not in held_out and clips[i]["speaker"] not in held_voices]
            yield held, fold, test, train


def family_cv(clips, family, fit, hold_out_voices):
    per_copy = collections.defaultdict(lambda: {copy: [] for copy in TEST_COPIES})
    for held, _, test, train in family_folds(clips, family, hold_out_voices):
        model = fit(*training_rows(clips, train))
        for copy in TEST_COPIES:
            scored = [(clips[i]["label"], clip_score(model, clips[i], copy)) for i in test]
            bona = [s for lab, s in scored if lab == "bonafide" and s is not None]
            spoof = [s for lab, s in scored if lab == "spoof" and s is not None]
            if bona and spoof:
                per_copy[held][copy].append(eer(bona, spoof))
    return {held: {copy: np.mean(v) for copy, v in copies.items()}
            for held, copies in per_copy.items()}


def read_pairs(path, key, value):
    with open(path) as f:
        return {r[key]: r[value] for r in csv.DictReader(
            line for line in f if line.strip() and not line.startswith("#"))}


def main():
    global ENVELOPE, LFCC_STD, NARROWBAND, FAMILY, FAMILY_EXPONENT, FOLD_SALT
    args = [a for a in sys.argv[1:] if a != "--hold-out-voices"]
    hold_out_voices = len(args) < len(sys.argv) - 1
    if "--family-exponent" in args:
        at = args.index("--family-exponent")
        FAMILY_EXPONENT = float(args[at + 1])
        del args[at:at + 2]
    if "--fold-salt" in args:
        at = args.index("--fold-salt")
        FOLD_SALT = args[at + 1]
        del args[at:at + 2]
    manifest = "../shared/corpus/manifest.csv"
    if "--manifest" in args:
        at = args.index("--manifest")
        manifest = args[at + 1]
        del args[at:at + 2]
    if not args:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    stats = args[0]
    fam_path = args[1] if len(args) > 1 and args[1].endswith(".csv") else \
        os.path.join(here, "families.csv")
    names = [a for a in args[1:] if not a.endswith(".csv")] or list(MODELS)
    family = FAMILY = read_pairs(fam_path, "system", "family")
    clips = load(stats)
    attach_sources(clips, manifest)
    LFCC_STD = np.array([n.startswith("lfcc") and n.endswith("_std") for n in stat_names(stats)])
    ENVELOPE = LFCC_STD | np.array([n.startswith(("lfcc", "band")) and n.endswith("_mean")
                                    for n in stat_names(stats)])
    # The shipped features split 0-7 kHz into 8 bands of 875 Hz: bands 5-7 start above 4 kHz.
    NARROWBAND = [stat_names(stats).index(f"band{b}_rel_db_mean") for b in (5, 6, 7)]
    if hold_out_voices:
        # Real speakers are folded by voice too, as `eval --hold-out-voices` does.
        voice = read_pairs(os.path.join(here, "voices.csv"), "speaker", "voice")
        for c in clips:
            c["speaker"] = voice.get(c["speaker"], c["speaker"])
    print(f"{len(clips)} clips; EER % on held-out families"
          f"{' (their voices held out too)' if hold_out_voices else ''}, clean / telephone")
    for name in names:
        table = family_cv(clips, family, MODELS[name], hold_out_voices)
        cells = "  ".join(f"{fam} {v['clean']:.1f}/{v['telephone']:.1f}" for fam, v in table.items())
        means = [np.mean([v[c] for v in table.values()]) for c in TEST_COPIES]
        print(f"{name:17s} mean {means[0]:.1f} / {means[1]:.1f}   {cells}", flush=True)


if __name__ == "__main__":
    main()
