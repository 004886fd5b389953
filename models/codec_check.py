#!/usr/bin/env python3
"""How lossy coding, echoes, microphone colour and level processing move the shipped model's
scores (the model card's "Lossy coding" figures).

Takes N real and N synthetic clips spread evenly over the corpus manifest, codes each with ffmpeg
at nine telephone and low-bitrate settings and passes it through six of ffmpeg's filters (echoes,
a bright and a dull microphone, a compressor, an automatic gain control, clipping), scans the
originals and the copies with voxguard (which decodes them all, GSM 06.10 included), and prints
per setting and class the score shift against the original and the shares scored < 0.3 (`human`)
and >= 0.7 (`synthetic`). The clips are training clips of the shipped model, so this measures
invariance to the codec, not generalisation.

Usage:  python3 models/codec_check.py VOXGUARD_BINARY [MANIFEST] [N] [MODEL]
        (defaults: ../shared/corpus/manifest.csv, 40, the binary's built-in model)
Needs:  ffmpeg with libmp3lame, aac, libvorbis, libopus and libgsm.
"""

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

SETTINGS = {
    "mp3 32 kbit/s, 8 kHz": ("mp3", ["-ar", "8000", "-b:a", "32k"]),
    "gsm 13 kbit/s, 8 kHz": ("wav", ["-ar", "8000", "-c:a", "libgsm_ms"]),
    "g.711 mu-law, 8 kHz": ("wav", ["-ar", "8000", "-c:a", "pcm_mulaw"]),
    "g.711 a-law, 8 kHz": ("wav", ["-ar", "8000", "-c:a", "pcm_alaw"]),
    "mp3 64 kbit/s": ("mp3", ["-b:a", "64k"]),
    "aac 32 kbit/s": ("m4a", ["-c:a", "aac", "-b:a", "32k"]),
    "vorbis q0": ("ogg", ["-c:a", "libvorbis", "-q:a", "0"]),
    "opus 16 kbit/s": ("opus", ["-c:a", "libopus", "-b:a", "16k"]),
    "opus 32 kbit/s": ("opus", ["-c:a", "libopus", "-b:a", "32k"]),
    # Not codecs: rooms and microphones unlike the corpus's, made by ffmpeg's filters rather than
    # by the simulated room of the training copies.
    "echoes (aecho)": ("flac", ["-af", "aecho=0.8:0.8:11|23|37|53:0.5|0.4|0.3|0.2"]),
    # A bright microphone (+8 dB at 3 kHz, high-pass at 200 Hz) and a dull one (-8 dB shelf
    # above 3 kHz).
    "bright mic": ("flac", ["-af", "highpass=f=200,equalizer=f=3000:t=o:w=1:g=8"]),
    "dull mic": ("flac", ["-af", "treble=g=-8:f=3000"]),
    # What call recorders and phones do to the level: a compressor (4:1 above -30 dB), an
    # automatic gain control that evens out the level over about half a second, and clipping
    # (12 dB of gain into 16-bit samples).
    "compressor": ("flac", ["-af", "acompressor=threshold=-30dB:ratio=4:attack=5:release=100"]),
    "agc (dynaudnorm)": ("flac", ["-af", "dynaudnorm=f=100:g=5"]),
    "clipped (+12 dB)": ("wav", ["-af", "volume=12dB", "-c:a", "pcm_s16le"]),
}


def spread(rows, n):
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def scan(binary, files, model=None):
    extra = ["--model", model] if model else []
    out = subprocess.run(
        [binary, "scan", "-q", "--format", "jsonl", *extra, *files],
        capture_output=True, text=True, check=False,
    ).stdout
    scores = {}
    for line in out.splitlines():
        r = json.loads(line)
        scores[os.path.splitext(os.path.basename(r["file"]))[0]] = r.get("score")
    return scores


def main():
    binary = sys.argv[1]
    manifest = sys.argv[2] if len(sys.argv) > 2 else "../shared/corpus/manifest.csv"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    model = sys.argv[4] if len(sys.argv) > 4 else None
    root = os.path.dirname(os.path.abspath(manifest))
    rows = list(csv.DictReader(open(manifest)))
    picked = spread([r for r in rows if r["label"] == "bonafide"], n) + spread(
        [r for r in rows if r["label"] == "spoof"], n)
    label = {os.path.splitext(os.path.basename(r["file"]))[0]: r["label"] for r in picked}
    originals = [os.path.join(root, r["file"]) for r in picked]
    base = scan(binary, originals, model)
    print(f"{len(picked)} clips ({n} real, {n} synthetic from "
          f"{len({r['system'] for r in picked if r['label'] == 'spoof'})} generators)")
    print(f"{'setting':22s} {'class':9s} {'mean shift':>10s} {'min':>7s} {'max':>7s} "
          f"{'< 0.3':>6s} {'>= 0.7':>6s}")

    def report(name, scores):
        for cls in ("bonafide", "spoof"):
            keys = [k for k in base if label.get(k) == cls
                    and base[k] is not None and scores.get(k) is not None]
            shift = [scores[k] - base[k] for k in keys]
            human = sum(scores[k] < 0.3 for k in keys) / len(keys)
            flagged = sum(scores[k] >= 0.7 for k in keys) / len(keys)
            print(f"{name:22s} {cls:9s} {statistics.mean(shift):+10.3f} {min(shift):+7.3f} "
                  f"{max(shift):+7.3f} {human:6.0%} {flagged:6.0%}")

    report("original", base)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (ext, args) in SETTINGS.items():
            coded = []
            for src in originals:
                stem = os.path.splitext(os.path.basename(src))[0]
                dst = os.path.join(tmp, f"{stem}.{ext}")
                subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", src,
                                "-ac", "1", *args, dst], check=True)
                coded.append(dst)
            report(name, scan(binary, coded, model))
            for f in coded:
                os.remove(f)


if __name__ == "__main__":
    main()
