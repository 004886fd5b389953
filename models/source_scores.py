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
        (defaults: seed 0, condition clean; run from the directory `eval` ran in, since the
        scores file names clips as `eval` was given them)
Needs:  numpy, scikit-learn (through compare_classifiers, whose source lookup it shares).
"""
import collections
import csv
import math
import sys

from compare_classifiers import attach_sources


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    scores_path, manifest = sys.argv[1], sys.argv[2]
    seed = sys.argv[3] if len(sys.argv) > 3 else "0"
    condition = sys.argv[4] if len(sys.argv) > 4 else "clean"
    with open(scores_path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["seed"] == seed and r["condition"] == condition]
    attach_sources(rows, manifest)
    groups = collections.defaultdict(list)
    for row in rows:
        p = 1.0 / (1.0 + math.exp(-float(row["llr"])))
        if row["label"] == "spoof":
            key = "(all synthetic clips)"
        else:
            key = row["corpus"] or "(not in the manifest)"
        groups[key].append(p)
    if not groups:
        sys.exit(f"no scores for seed {seed}, condition {condition} in {scores_path}")
    print(f"{'source':48s} {'scores':>7s} {'mean':>6s}")
    for key, ps in sorted(groups.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
        print(f"{key:48s} {len(ps):7d} {sum(ps) / len(ps):6.3f}")


if __name__ == "__main__":
    main()
