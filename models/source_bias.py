#!/usr/bin/env python3
"""Where the real clips of each recording source fall among unseen synthetic speech
(models/HISTORY.md, "Changes in 1.11.0" figures).

Re-implements the shipped model type with scikit-learn on voxguard's own statistics (`voxguard
train --export-stats stats.csv`): a logistic regression of all 88 statistics plus twice a
Ledoit-Wolf Gaussian of real speech on the 41 the shipped Gaussian reads, fitted with the
training weights, under the folds of `eval --cv family --hold-out-voices`. For every real clip it
takes the share of the held-out family's synthetic clips that score below it (0: it looks more
real than every synthetic clip; 0.5: it sits at their median), averages over the folds that test
it, and prints the mean per recording source (the manifest's `corpus` column) with the share of
the source's clips above the synthetic median, after the mean EER over the held-out families.

`--exponent E` sets how the real half of the weight is shared among sources: a source of n clips
gets a share proportional to n^E. E = 1 weighs every real clip alike (voxguard up to 1.10.0),
E = 0.5 is 1.11.0's square root, E = 0 gives every source the same share. With several values,
each is run in turn.

Usage:  python3 models/source_bias.py STATS_CSV [MANIFEST] [--exponent E ...]
        (default manifest ../shared/corpus/manifest.csv; default exponents 1 and 0.5)
Needs:  pip install numpy scikit-learn
"""

import collections
import os
import sys

import numpy as np
from sklearn.covariance import ledoit_wolf_shrinkage
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_classifiers as cc  # noqa: E402

GAUSSIAN_WEIGHT = 2.0


def one_class_columns(names):
    """The statistics of `segment::one_class_inputs` (41 until 1.14.0, 43 since): no envelope
    means, no LFCC deviations."""
    def kept(n):
        envelope_mean = (n.startswith("lfcc") or n.startswith("band")) and n.endswith("_mean")
        lfcc_std = n.startswith("lfcc") and n.endswith("_std")
        return not envelope_mean and not lfcc_std
    return np.array([i for i, n in enumerate(names) if kept(n)])


def weighted_gaussian(z, w, cols):
    """Log squared Mahalanobis distance from the weighted, Ledoit-Wolf-shrunk Gaussian of `z`."""
    zz, ww = z[:, cols], w / w.sum()
    mean = ww @ zz
    d = zz - mean
    cov = (d * ww[:, None]).T @ d
    shrink = ledoit_wolf_shrinkage(d * np.sqrt(ww[:, None] * len(ww)), assume_centered=True)
    cov = (1 - shrink) * cov + shrink * np.trace(cov) / len(cols) * np.eye(len(cols))
    precision = np.linalg.inv(cov)

    def score(q):
        e = q[:, cols] - mean
        return np.log(np.einsum("ij,jk,ik->i", e, precision, e))
    return score


def shipped_type(cols):
    def fit(x, y, w):
        z = cc.Standardised(x)
        lr = LogisticRegression(C=0.1, max_iter=5000).fit(z(x), y, sample_weight=w)
        gauss = weighted_gaussian(z(x)[y == 0], w[y == 0], cols)
        a, b = lr.decision_function(z(x)), gauss(z(x))
        sa, sb = a.std(), b.std()
        return lambda q: lr.decision_function(z(q)) / sa + GAUSSIAN_WEIGHT * gauss(z(q)) / sb
    return fit


def main():
    args, exponents = [], []
    it = iter(sys.argv[1:])
    for a in it:
        if a == "--exponent":
            exponents.append(float(next(it)))
        else:
            args.append(a)
    if not args:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    names = cc.stat_names(args[0])
    clips = cc.load(args[0])
    cc.attach_sources(clips, args[1] if len(args) > 1 else "../shared/corpus/manifest.csv")
    family = cc.read_pairs(os.path.join(here, "families.csv"), "system", "family")
    voice = cc.read_pairs(os.path.join(here, "voices.csv"), "speaker", "voice")
    for c in clips:
        c["speaker"] = voice.get(c["speaker"], c["speaker"])
    fit = shipped_type(one_class_columns(names))
    for exponent in exponents or [1.0, 0.5]:
        share_below = collections.defaultdict(list)
        eers = collections.defaultdict(lambda: {copy: [] for copy in cc.TEST_COPIES})
        for held, _, test, train in cc.family_folds(clips, family, True):
            model = fit(*cc.training_rows(clips, train, exponent))
            for copy in cc.TEST_COPIES:
                scores = {i: cc.clip_score(model, clips[i], copy) for i in test}
                bona = [s for i, s in scores.items()
                        if clips[i]["label"] == "bonafide" and s is not None]
                spoof = np.array([s for i, s in scores.items()
                                  if clips[i]["label"] == "spoof" and s is not None])
                eers[held][copy].append(cc.eer(bona, spoof))
                if copy != "clean":
                    continue
                for i, s in scores.items():
                    if clips[i]["label"] == "bonafide" and s is not None:
                        share_below[i].append(np.mean(spoof < s))
        means = [np.mean([np.mean(v[copy]) for v in eers.values()]) for copy in cc.TEST_COPIES]
        print(f"exponent {exponent}: mean EER over held-out families (voices held out), clean / "
              f"telephone {means[0]:.1f} / {means[1]:.1f} %")
        per_source = collections.defaultdict(list)
        for i, shares in share_below.items():
            per_source[clips[i]["corpus"]].append(np.mean(shares))
        print(f"exponent {exponent}: real clips among held-out synthetic scores (clean), per source")
        for name, v in sorted(per_source.items()):
            v = np.array(v)
            print(f"  {name or '(none)':50s} {len(v):4d} clips  mean {v.mean():.2f}  "
                  f"above the synthetic median {np.mean(v > 0.5):4.0%}", flush=True)


if __name__ == "__main__":
    main()
