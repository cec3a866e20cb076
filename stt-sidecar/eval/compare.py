#!/usr/bin/env python3
"""Markdown table from `run_eval.py --json-out` summaries, one row per file. The WER is scored
again from the stored hypotheses with run_eval's current normalizer, so runs made before a
normalizer change stay comparable.

    python3 stt-sidecar/eval/compare.py results/*.json
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run_eval import edit_distance, normalize  # noqa: E402


def rescore(summary: dict) -> tuple[int, int]:
    rows = csv.DictReader(open(HERE / summary["utterances_file"], newline=""), delimiter="\t")
    errors = words = 0
    for row in rows:
        if row["id"] not in summary["hypotheses"]:
            continue
        ref = normalize(row["text"])
        errors += edit_distance(ref, normalize(summary["hypotheses"][row["id"]]))
        words += len(ref)
    return errors, words


def main() -> None:
    print("| run | set | WER | p50 ms | p90 ms | load avg | RSS peak MiB | CPU s/call | split |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        s = json.loads(Path(path).read_text())
        errors, words = rescore(s)
        name = Path(path).name.split(".")[0]
        print(
            f"| {name} | {s['utterances_file'].removesuffix('.tsv')} | {100 * errors / max(words, 1):.1f} % ({errors}/{words}) "
            f"| {s['p50_ms']:.0f} | {s['p90_ms']:.0f} | {s['load_start']:.1f}–{s['load_end']:.1f} "
            f"| {s.get('rss_peak_mib', float('nan')):.0f} | {s.get('cpu_s_per_call', float('nan')):.2f} | {len(s['split'])} |"
        )


if __name__ == "__main__":
    main()
