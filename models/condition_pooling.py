#!/usr/bin/env python3
"""Do scores keep one scale across channels? Reads the scores file of `voxguard eval --scores`.

For each table row (`group`: the held-out family or generator) and each fold model of the first
seed, it computes the EER of the clean clips, of their copy (`--copy`: telephone, GSM, MP3,
noisy), and of both pooled into one set, as a mixed archive would hold them (scores of one
fold model only: different models are calibrated on different data). Pooling costs nothing when
the copy moves real and synthetic scores alike and no further than the clean classes lie apart;
it costs points when the channel moves them differently. Also printed: the mean shift of each
class's calibrated log-odds from clean to copy. Rows are means over a row's fold models; the
last line is the mean over rows (as `eval` reports).

EER as `voxguard eval` computes it (the threshold sweep of `eval::metrics::eer`, interpolated).

Usage:  voxguard eval --manifest M --cv family --hold-out-voices --copy telephone --scores s.csv
        python3 models/condition_pooling.py s.csv
Needs: numpy
"""
import collections
import csv
import sys

import numpy as np


def eer(bonafide, spoof):
    """Equal error rate, the same sweep and interpolation as voxguard's `eval::metrics::eer`."""
    scores = sorted([(s, False) for s in bonafide] + [(s, True) for s in spoof])
    nb, ns = len(bonafide), len(spoof)
    flagged, passed = nb, 0
    rates = [(1.0, 0.0)]
    for i, (score, is_spoof) in enumerate(scores):
        if is_spoof:
            passed += 1
        else:
            flagged -= 1
        if i + 1 == len(scores) or scores[i + 1][0] > score:
            rates.append((flagged / nb, passed / ns))
    for (f0, r0), (far, frr) in zip(rates, rates[1:]):
        if frr >= far:
            denom = (frr - r0) - (far - f0)
            a = 0.0 if abs(denom) < 1e-15 else (f0 - r0) / denom
            return f0 + a * (far - f0)
    return 0.0


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    seed = rows[0]["seed"]
    models = collections.defaultdict(lambda: collections.defaultdict(list))
    group = {}
    for r in rows:
        if r["seed"] != seed:
            continue
        models[r["model"]][(r["condition"], r["label"])].append(float(r["llr"]))
        if r["label"] == "spoof":
            group[r["model"]] = r["group"]
    copy = next(c for m in models.values() for (c, _) in m if c != "clean")
    per_row = collections.defaultdict(lambda: collections.defaultdict(list))
    for model, s in models.items():
        bona = {c: s[(c, "bonafide")] for c in ("clean", copy)}
        spoof = {c: s[(c, "spoof")] for c in ("clean", copy)}
        out = per_row[group[model]]
        out["clean"].append(eer(bona["clean"], spoof["clean"]))
        out[copy].append(eer(bona[copy], spoof[copy]))
        out["pooled"].append(eer(bona["clean"] + bona[copy], spoof["clean"] + spoof[copy]))
        out["real shift"].append(np.mean(bona[copy]) - np.mean(bona["clean"]))
        out["synthetic shift"].append(np.mean(spoof[copy]) - np.mean(spoof["clean"]))
    cols = ["clean", copy, "pooled", "real shift", "synthetic shift"]
    print(f"seed {seed}: EER % of the clean clips, their {copy} copy and both pooled; "
          f"mean shift of the calibrated log-odds from clean to {copy}")
    print(f"{'row':<26}" + "".join(f"{c:>17}" for c in cols))
    means = collections.defaultdict(list)

    def line(name, values):
        cells = [f"{100 * v:16.1f}%" if i < 3 else f"{v:+17.3f}" for i, v in enumerate(values)]
        print(f"{name:<26}" + "".join(cells))

    for name in sorted(per_row):
        values = [float(np.mean(per_row[name][c])) for c in cols]
        for c, v in zip(cols, values):
            means[c].append(v)
        line(name, values)
    line("mean over rows", [float(np.mean(means[c])) for c in cols])


if __name__ == "__main__":
    main()
