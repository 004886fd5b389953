#!/usr/bin/env python3
"""How held-out real speech of each recording source scores (the model card's "Known limits",
real speech from sources unlike the corpus's).

Reads the scores file of `voxguard eval --scores` and the manifest it was run on, and prints, for
one seed and one condition, the mean calibrated probability of "synthetic" (the logistic of each
clip score's log-odds) of the real clips of each value of the manifest's `corpus` column, and of
all synthetic clips. Every clip score counts once: a clip scored by several fold models (as real
clips are under `--cv family`) counts once per model.

Usage:  voxguard eval --manifest M --cv family --hold-out-voices --scores s.csv
        python3 models/source_scores.py s.csv M [SEED] [CONDITION]
        (defaults: seed 0, condition clean)
"""
import collections
import csv
import math
import os
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    scores_path, manifest = sys.argv[1], sys.argv[2]
    seed = sys.argv[3] if len(sys.argv) > 3 else "0"
    condition = sys.argv[4] if len(sys.argv) > 4 else "clean"
    root = os.path.dirname(manifest)
    source = {}
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f):
            source[os.path.normpath(os.path.join(root, row["file"]))] = row["corpus"]
    groups = collections.defaultdict(list)
    with open(scores_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["seed"] != seed or row["condition"] != condition:
                continue
            p = 1.0 / (1.0 + math.exp(-float(row["llr"])))
            if row["label"] == "spoof":
                key = "(all synthetic clips)"
            else:
                key = source.get(os.path.normpath(row["file"]), "(not in the manifest)")
            groups[key].append(p)
    if not groups:
        sys.exit(f"no scores for seed {seed}, condition {condition} in {scores_path}")
    print(f"{'source':48s} {'scores':>7s} {'mean':>6s}")
    for key, ps in sorted(groups.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
        print(f"{key:48s} {len(ps):7d} {sum(ps) / len(ps):6.3f}")


if __name__ == "__main__":
    main()
