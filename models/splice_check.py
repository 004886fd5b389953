#!/usr/bin/env python3
"""Partly synthetic recordings: does voxguard find the synthetic part, and does the file score
notice it? (the model card's "Partly synthetic recordings" figures)

For each generator family F in models/families.csv, trains a model (`voxguard train`) without
F's generators, without one fifth of the real voices and without any clip in a voice of F's
synthetic clips (voices as in models/voices.csv, as `eval --hold-out-voices` does), then builds
test recordings from the held-out clips only, each two clips joined end to end at the same RMS
level:
  real+real      two real clips of held-out speakers,
  real+synth     one real clip and one synthetic clip of family F, in random order (the splice),
  synth+synth    two synthetic clips of family F,
scans them with that model and reports, pooled over the five folds:
  - file-level EER of real+real against real+synth and against synth+synth, for the file
    `score` (speech-weighted mean) and for `max_segment_score`;
  - segment-level EER inside the spliced files, segments lying wholly in the real part against
    those wholly in the synthetic part (how well the segment track localises);
  - how often the highest-scoring segment of a splice lies in its synthetic part;
  - the verdicts each kind of recording gets.

Usage:  python3 models/splice_check.py VOXGUARD_BINARY [MANIFEST] [PAIRS_PER_FOLD]
        (defaults: ../shared/corpus/manifest.csv, 30)
Needs:  numpy, soundfile. Takes about a minute on 2 cores.
"""

import csv
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 16_000


def eer(neg, pos):
    """Equal error rate of scores where higher means `pos` (synthetic)."""
    neg, pos = np.asarray(neg, float), np.asarray(pos, float)
    best = 1.0
    for t in np.unique(np.concatenate([neg, pos])):
        fa = np.mean(neg >= t)
        miss = np.mean(pos < t)
        best = min(best, max(fa, miss))
    return best


def speaker_fold(speaker, k=5):
    return int(hashlib.sha256(speaker.encode()).hexdigest(), 16) % k


def read_pairs(name, key, value):
    """The `key` -> `value` map of a two-column CSV beside this script (`#` lines are comments)."""
    with open(os.path.join(HERE, name)) as f:
        return {r[key]: r[value] for r in csv.DictReader(l for l in f if not l.startswith("#"))}


def load(path):
    x, sr = sf.read(path, dtype="float64", always_2d=True)
    assert sr == RATE, f"{path}: {sr} Hz"
    x = x.mean(axis=1)
    return x / max(np.sqrt(np.mean(x**2)), 1e-9) * 0.05  # -26 dBFS RMS


def corpus(manifest):
    """The manifest's rows and folder, each system's family and a row's voice (models/*.csv)."""
    families = read_pairs("families.csv", "system", "family")
    voices = read_pairs("voices.csv", "speaker", "voice")
    rows = list(csv.DictReader(open(manifest)))
    return rows, os.path.dirname(manifest), families, lambda r: voices.get(r["speaker"], r["speaker"])


def train(binary, rows, root, keep, model):
    """Trains `model` (a path) on the rows in `keep`, through a manifest of absolute paths."""
    sub = model + ".csv"
    with open(sub, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for r in keep:
            w.writerow({**r, "file": os.path.join(root, r["file"])})
    subprocess.run([binary, "train", "-q", "--manifest", sub, "--out", model],
                   check=True, stdout=subprocess.DEVNULL)


def write_pair(path, a, b):
    sf.write(path, np.concatenate([a, b]), RATE, subtype="FLOAT")
    return len(a) / RATE


def main():
    binary = os.path.abspath(sys.argv[1])
    manifest = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "../shared/corpus/manifest.csv")
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    rows, root, families, voice = corpus(manifest)
    rng = random.Random(7)
    records = []  # (fold, kind, boundary_s, real_first, scan record)
    with tempfile.TemporaryDirectory() as tmp:
        for fold, family in enumerate(sorted(set(families.values()))):
            real = [r for r in rows if r["label"] == "bonafide" and speaker_fold(voice(r)) == fold]
            synth = [r for r in rows if r["label"] == "spoof" and families[r["system"]] == family]
            held_voices = {voice(r) for r in synth}
            kept = [r for r in rows
                    if r not in real and r not in synth and voice(r) not in held_voices]
            model = os.path.join(tmp, f"model{fold}.json")
            train(binary, rows, root, kept, model)
            audio = lambda r: load(os.path.join(root, r["file"]))
            made = []  # (path, kind, boundary, real_first)
            for i in range(pairs):
                r1, r2 = rng.sample(real, 2)
                s1, s2 = rng.sample(synth, 2)
                p = os.path.join(tmp, f"f{fold}_{i}_rr.wav")
                made.append((p, "real+real", write_pair(p, audio(r1), audio(r2)), None))
                p = os.path.join(tmp, f"f{fold}_{i}_ss.wav")
                made.append((p, "synth+synth", write_pair(p, audio(s1), audio(s2)), None))
                real_first = rng.random() < 0.5
                a, b = (audio(r1), audio(s1)) if real_first else (audio(s1), audio(r1))
                p = os.path.join(tmp, f"f{fold}_{i}_rs.wav")
                made.append((p, "real+synth", write_pair(p, a, b), real_first))
            out = subprocess.run([binary, "scan", "-q", "--format", "jsonl", "--model", model,
                                  *[m[0] for m in made]],
                                 capture_output=True, text=True, check=False).stdout
            by_file = {json.loads(l)["file"]: json.loads(l) for l in out.splitlines()}
            for path, kind, boundary, real_first in made:
                records.append((family, kind, boundary, real_first, by_file[path]))
            print(f"fold {fold}: {family}: {len(real)} real, {len(synth)} synthetic held out, "
                  f"trained on {len(kept)}", file=sys.stderr)

    def scores(kind, field):
        return [r[field] for _, k, _, _, r in records if k == kind and r.get(field) is not None]

    print(f"{len(records)} recordings, {pairs} of each kind per held-out family, 5 families")
    print(f"{'file-level EER':34s} {'score (mean)':>13s} {'max segment':>12s}")
    for pos in ("real+synth", "synth+synth"):
        row = [eer(scores("real+real", f), scores(pos, f)) for f in ("score", "max_segment_score")]
        print(f"  real+real vs {pos:20s} {row[0]:13.1%} {row[1]:12.1%}")

    seg_real, seg_synth, top_in_synth, spliced = [], [], 0, 0
    for _, kind, boundary, real_first, rec in records:
        if kind != "real+synth":
            continue
        segs = [s for s in rec["segments"] if s["score"] is not None]
        if not segs:
            continue
        spliced += 1
        in_real = lambda s: (s["end_s"] <= boundary + 0.1) if real_first else (s["start_s"] >= boundary - 0.1)
        in_synth = lambda s: (s["start_s"] >= boundary - 0.1) if real_first else (s["end_s"] <= boundary + 0.1)
        seg_real += [s["score"] for s in segs if in_real(s)]
        seg_synth += [s["score"] for s in segs if in_synth(s)]
        top = max(segs, key=lambda s: s["score"])
        mid = (top["start_s"] + top["end_s"]) / 2
        top_in_synth += (mid > boundary) == real_first
    print(f"segment-level EER inside splices (wholly real {len(seg_real)} vs wholly synthetic "
          f"{len(seg_synth)} segments): {eer(seg_real, seg_synth):.1%}")
    print(f"highest segment lies in the synthetic part: {top_in_synth}/{spliced} "
          f"({top_in_synth / max(spliced, 1):.0%})")
    print("verdicts (human / inconclusive / synthetic):")
    for kind in ("real+real", "real+synth", "synth+synth"):
        v = [r["verdict"] for _, k, _, _, r in records if k == kind]
        share = lambda name: v.count(name) / len(v)
        print(f"  {kind:12s} {share('human'):6.0%} {share('inconclusive'):6.0%} "
              f"{share('synthetic'):6.0%}")
    print("per held-out family, file-level EER real+real vs real+synth (mean / max segment):")
    for family in sorted(set(families.values())):
        sel = lambda kind, f: [r[f] for fam, k, _, _, r in records
                               if fam == family and k == kind and r.get(f) is not None]
        print(f"  {family:24s} "
              + " / ".join(f"{eer(sel('real+real', f), sel('real+synth', f)):.1%}"
                           for f in ("score", "max_segment_score")))


if __name__ == "__main__":
    main()
