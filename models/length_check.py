#!/usr/bin/env python3
"""How much speech does a score need? (the model card's "Short recordings" figures)

Scores the middle D seconds of every clip, for several durations D, with models that never saw
the clip's generator family, its voices or its real speaker: for each generator family F in
models/families.csv and each of 5 folds of real voices, trains a model (`voxguard train`)
without F's generators, without any clip in a voice of F's synthetic clips (models/voices.csv,
as `eval --cv family --hold-out-voices` does) and without that fold of real voices, and scans
the crops of F's synthetic clips and of the fold's real clips with it. Scanning uses
`--min-speech 0 --min-segment-speech 0`, so every crop with two speech frames gets a score.

Prints per duration: the mean over families of the mean over folds of the EER (as `eval`
averages), the pooled EER, the speech `scan` found, the shares of crops with less speech than
scan's defaults need for a score (1 s in a segment, 1.5 s in a file), and the shares of real
crops scored >= 0.7 and of synthetic crops scored <= 0.3.

Usage:  python3 models/length_check.py VOXGUARD_BINARY [MANIFEST] [DURATIONS] [SCORES_CSV]
        (defaults: ../shared/corpus/manifest.csv, 0.75,1,1.5,2,3,full; SCORES_CSV, if given,
        gets every crop's family, fold, duration, label, score and speech seconds)
Needs:  numpy, soundfile. Takes about ten minutes on 2 cores (25 models).
"""

import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

from splice_check import RATE, corpus, eer, load, speaker_fold, train

FOLDS = 5


def crop(x, seconds):
    """The middle `seconds` of `x` (all of it if shorter, or if `seconds` is None)."""
    n = len(x) if seconds is None else min(len(x), int(round(seconds * RATE)))
    start = (len(x) - n) // 2
    return x[start:start + n]


def scan(binary, model, paths):
    """`scan` records of `paths` by file name, every crop with speech scored."""
    out = subprocess.run([binary, "scan", "-q", "--format", "jsonl", "--model", model,
                          "--min-speech", "0", "--min-segment-speech", "0", *paths],
                         capture_output=True, text=True, check=False).stdout
    return {json.loads(l)["file"]: json.loads(l) for l in out.splitlines()}


def main():
    binary = os.path.abspath(sys.argv[1])
    manifest = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "../shared/corpus/manifest.csv")
    spec = sys.argv[3] if len(sys.argv) > 3 else "0.75,1,1.5,2,3,full"
    durations = [None if d == "full" else float(d) for d in spec.split(",")]
    dump = csv.writer(open(sys.argv[4], "w", newline="")) if len(sys.argv) > 4 else None
    if dump:
        dump.writerow(["family", "fold", "crop_s", "label", "score", "speech_s"])
    rows, root, families, voice = corpus(manifest)
    # scores[(family, fold, duration)] = (real scores, synthetic scores); speech[duration] = [s]
    scores, speech, missing = {}, {d: [] for d in durations}, {d: [0, 0] for d in durations}
    with tempfile.TemporaryDirectory() as tmp:
        crops = {}  # (file, duration) -> path
        for i, r in enumerate(rows):
            x = load(os.path.join(root, r["file"]))
            for j, d in enumerate(durations):
                path = os.path.join(tmp, f"c{i}_{j}.wav")
                sf.write(path, crop(x, d), RATE, subtype="FLOAT")
                crops[(r["file"], d)] = path
        for family in sorted(set(families.values())):
            synth = [r for r in rows if r["label"] == "spoof" and families[r["system"]] == family]
            held_voices = {voice(r) for r in synth}
            for fold in range(FOLDS):
                real = [r for r in rows
                        if r["label"] == "bonafide" and speaker_fold(voice(r)) == fold]
                kept = [r for r in rows
                        if r not in real and r not in synth and voice(r) not in held_voices]
                model = os.path.join(tmp, "model.json")
                train(binary, rows, root, kept, model)
                tested = real + synth
                found = scan(binary, model, [crops[(r["file"], d)]
                                             for r in tested for d in durations])
                for d in durations:
                    got = {False: [], True: []}
                    for r in tested:
                        rec = found.get(crops[(r["file"], d)])
                        if rec is None:  # could not be read (reported on stderr)
                            continue
                        if rec["score"] is not None:
                            got[r["label"] == "spoof"].append(rec["score"])
                        if dump:
                            dump.writerow([family, fold, "full" if d is None else d, r["label"],
                                           rec["score"], rec["speech_s"]])
                        # Count each clip once: real clips with the first family's models,
                        # synthetic clips with their family's first fold model.
                        first = family == min(families.values())
                        if (r["label"] == "bonafide" and first) or (r["label"] == "spoof" and fold == 0):
                            speech[d].append(rec["speech_s"])
                            missing[d][0] += rec["speech_s"] < 1.0
                            missing[d][1] += rec["speech_s"] < 1.5
                    scores[(family, fold, d)] = (got[False], got[True])
                print(f"{family} fold {fold}: {len(real)} real, {len(synth)} synthetic, "
                      f"trained on {len(kept)}", file=sys.stderr)

    names = sorted(set(families.values()))
    print("crop (middle)  speech s (median)  <1 s  <1.5 s | EER mean over families (folds)"
          "  pooled | real >= 0.7  synth <= 0.3")
    for d in durations:
        per_family = [np.mean([eer(*scores[(f, k, d)]) for k in range(FOLDS)]) for f in names]
        real = [s for f in names for k in range(FOLDS) for s in scores[(f, k, d)][0]]
        synth = [s for f in names for k in range(FOLDS) for s in scores[(f, k, d)][1]]
        n = len(speech[d])
        label = "whole clip" if d is None else f"{d:g} s"
        print(f"{label:14s} {np.median(speech[d]):17.2f} {missing[d][0] / n:5.0%} "
              f"{missing[d][1] / n:7.0%} | {np.mean(per_family):31.1%} {eer(real, synth):7.1%}"
              f" | {np.mean(np.array(real) >= 0.7):11.1%} {np.mean(np.array(synth) <= 0.3):12.1%}")
        print("    per family: " + ", ".join(f"{f} {e:.1%}" for f, e in zip(names, per_family)))


if __name__ == "__main__":
    main()
