#!/usr/bin/env python3
"""Calls stored at 16 kHz and recordings stored quietly: what `scan` makes of them (README,
pipeline step 8 and "Known limits"; the model card's "Calls stored at 16 kHz as 16-bit files"
and models/HISTORY.md, "Tried after 1.13.0").

Takes N clips spread evenly over the corpus manifest (both classes) and makes copies of each
with ffmpeg and sox, as a call recorder or an archive would store them:

- calls: carried at 8 kHz (telephone band and mu-law, GSM 06.10, 16 kbit/s MP3, narrowband
  Opus) and stored as 16-bit 16 kHz WAV (Opus decodes at 48 kHz), at the clip's level or 20 dB
  down, or stored by sox with dither 10 dB down, or as 32-bit float WAV;
- full-band copies that are not calls: G.722 (7 kHz), 24 kbit/s wideband Opus;
- full-band copies stored 20 dB down (16-bit) and 30 dB down (16-bit and float).

Part 1 scans every copy with `--human-below 1 --synthetic-above 1`, so that every scored file
would be `human` unless a rule withholds it, and prints the share of scored files whose note
says "nothing above 5 kHz" (the stored-call rule). Part 2 prints how far scores move from one
copy to a quieter one: mean shift, largest shift, share moved by more than 0.05, files scored,
median share of the speech kept. The clips are training clips of the shipped model, so this
measures invariance, not generalisation.

Usage:  python3 models/level_check.py VOXGUARD_BINARY [MANIFEST] [N]
        (defaults: ../shared/corpus/manifest.csv, 150; about a minute per 100 clips on 2 cores)
Needs:  ffmpeg with libgsm, libmp3lame, libopus and g722; sox.
"""

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from codec_check import spread

PHONE = ["-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000"]
STORE16 = ["-ar", "16000", "-c:a", "pcm_s16le"]

# name: steps. A step is ("ffmpeg", arguments, output extension) or ("sox", arguments, effects);
# each reads the previous step's output, the first the clip.
MULAW = ("ffmpeg", PHONE + ["-c:a", "pcm_mulaw"], "wav")
COPIES = {
    "original (16-bit 16 kHz)": [("ffmpeg", STORE16, "wav")],
    "telephone, stored 16-bit": [MULAW, ("ffmpeg", STORE16, "wav")],
    "telephone, stored 16-bit 20 dB down": [MULAW,
                                            ("ffmpeg", ["-af", "volume=-20dB"] + STORE16, "wav")],
    "telephone, stored by sox 10 dB down": [MULAW,
                                            ("sox", ["-r", "16000", "-b", "16"], ["vol", "0.316"])],
    "telephone, stored float": [MULAW, ("ffmpeg", ["-ar", "16000", "-c:a", "pcm_f32le"], "wav")],
    "telephone, stored float 20 dB down": [MULAW, ("ffmpeg", ["-af", "volume=-20dB", "-ar", "16000",
                                                              "-c:a", "pcm_f32le"], "wav")],
    "gsm, stored 16-bit": [("ffmpeg", ["-ar", "8000", "-c:a", "libgsm_ms"], "wav"),
                           ("ffmpeg", STORE16, "wav")],
    "mp3 16 kbit/s at 8 kHz, stored 16-bit": [("ffmpeg", ["-ar", "8000", "-c:a", "libmp3lame",
                                                          "-b:a", "16k"], "mp3"),
                                              ("ffmpeg", STORE16, "wav")],
    "opus narrowband 12 kbit/s": [("ffmpeg", ["-c:a", "libopus", "-b:a", "12k", "-cutoff", "4000"],
                                   "opus")],
    "g.722": [("ffmpeg", ["-c:a", "g722"], "wav"), ("ffmpeg", STORE16, "wav")],
    "opus wideband 24 kbit/s": [("ffmpeg", ["-c:a", "libopus", "-b:a", "24k"], "opus")],
    "full band, 16-bit 20 dB down": [("ffmpeg", ["-af", "volume=-20dB"] + STORE16, "wav")],
    "full band, 16-bit 30 dB down": [("ffmpeg", ["-af", "volume=-30dB"] + STORE16, "wav")],
    "full band, float 30 dB down": [("ffmpeg", ["-af", "volume=-30dB", "-c:a", "pcm_f32le"],
                                     "wav")],
}

PAIRS = [
    ("original (16-bit 16 kHz)", "full band, 16-bit 20 dB down"),
    ("original (16-bit 16 kHz)", "full band, 16-bit 30 dB down"),
    ("original (16-bit 16 kHz)", "full band, float 30 dB down"),
    ("telephone, stored 16-bit", "telephone, stored 16-bit 20 dB down"),
    ("telephone, stored float", "telephone, stored float 20 dB down"),
]


def make(src, dst_dir, key, steps):
    """Runs the steps on `src`, leaving `dst_dir/key.EXT`; returns the path."""
    prev = src
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if step[0] == "ffmpeg":
            _, args, ext = step
            out = os.path.join(dst_dir, f"{key}.{ext}" if last else f"{key}.step{i}.{ext}")
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", prev, *args, out],
                           check=True)
        else:
            _, args, effects = step
            out = os.path.join(dst_dir, f"{key}.wav")
            subprocess.run(["sox", "-q", prev, *args, out, *effects], check=True)
        prev = out
    return prev


def scan(binary, files, extra):
    out = subprocess.run([binary, "scan", "-q", "--format", "jsonl", *extra, *files],
                         capture_output=True, text=True, check=False).stdout
    records = {}
    for line in out.splitlines():
        r = json.loads(line)
        records[os.path.basename(r["file"]).split(".")[0]] = r
    return records


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    manifest = sys.argv[2] if len(sys.argv) > 2 else "../shared/corpus/manifest.csv"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    root = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, newline="") as f:
        rows = spread(list(csv.DictReader(f)), n)
    print(f"{len(rows)} clips of {manifest}")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(os.cpu_count()) as pool:
        files = {}
        for name, steps in COPIES.items():
            d = os.path.join(tmp, str(len(files)))
            os.mkdir(d)
            jobs = [pool.submit(make, os.path.join(root, r["file"]), d, f"c{i}", steps)
                    for i, r in enumerate(rows)]
            files[name] = [j.result() for j in jobs]
        loose = ["--human-below", "1", "--synthetic-above", "1"]
        scans = {name: scan(binary, paths, loose) for name, paths in files.items()}

    print("\nPart 1: files with a score that the stored-call rule recognises")
    for name, recs in scans.items():
        scored = [r for r in recs.values() if r.get("score") is not None]
        caught = [r for r in scored if "nothing above 5 kHz" in (r.get("note") or "")]
        print(f"  {name:42} {len(caught):4} of {len(scored):4} scored ({len(recs)} files)")

    print("\nPart 2: score moves from one copy to a quieter one (files scored in both)")
    for a, b in PAIRS:
        ra, rb = scans[a], scans[b]
        keys = [k for k in ra if ra[k].get("score") is not None
                and k in rb and rb[k].get("score") is not None]
        d = [rb[k]["score"] - ra[k]["score"] for k in keys]
        kept = [rb[k]["speech_s"] / ra[k]["speech_s"] for k in keys]
        scored_b = sum(1 for r in rb.values() if r.get("score") is not None)
        scored_a = sum(1 for r in ra.values() if r.get("score") is not None)
        print(f"  {b:38} mean {statistics.mean(d):+.3f}, largest {max(map(abs, d)):.3f}, "
              f"{100 * sum(abs(x) > 0.05 for x in d) / len(d):.0f} % over 0.05; scored "
              f"{scored_b} against {scored_a}; speech kept (median) "
              f"{100 * statistics.median(kept):.0f} %")


if __name__ == "__main__":
    main()
