#!/usr/bin/env python3
"""End-to-end evaluation of the offline STT sidecar, the way a phone call uses it.

For every line of utterances.tsv (id, text): synthesize speech (flite or espeak-ng, Debian
packages), band-limit it to the telephone band (300-3400 Hz), resample to 8 kHz and encode to
G.711 μ-law; then stream it to the sidecar over the Deepgram protocol exactly like
`DeepgramStt` does (same query, `Authorization: Token`, 160-byte / 20 ms binary frames paced in
real time, then silence, then `{"type":"CloseStream"}`) and collect the final transcript.

Prints a per-utterance table, the WER (case, punctuation and number spelling normalized: "415",
"four one five" and "four hundred fifteen" all become the digits 4 1 5) and the latency from the
last voiced frame sent to the (last) final `Results` (this includes the sidecar's endpointing
silence), and how many finals each utterance came back in (more than one: it was split).
`[700ms]` in a line's `say` (or `text`) column is a pause: utterances_pauses.tsv reads phone and
account numbers in groups the way callers do; utterances_callers.tsv (48 lines) reads phone
numbers, dates, times, names (plain and spelled), addresses, zip, account and member numbers
the way callers say them ("oh" for zero, "double five", "March the fourteenth", "N, G, U, Y, E, N").
The normalizer scores "oh"/"o" beside digits as 0, "double X"/"triple X" as X X (X X X), and a
spelled-out run of letters as the word ("P-A-T-E-L" = "Patel"); the older sets score as before.

When it starts its own sidecar it also reports that process's resident set (now and peak,
VmHWM) and the CPU seconds (utime+stime) it used while the calls streamed, per call.
`--sidecar-arg=--model=DIR` (and `--compute-type=...`) evaluates another CTranslate2 Whisper
model; `--json-out FILE` keeps the summary and every hypothesis.

    .venv/bin/python stt-sidecar/eval/run_eval.py                 # starts its own sidecar
    .venv/bin/python stt-sidecar/eval/run_eval.py --url ws://127.0.0.1:PORT/v1/listen
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIDECAR = HERE.parent / "switchboard_stt.py"
RATE = 8000
FRAME = 160  # 20 ms at 8 kHz
MULAW_SILENCE = 0xFF


# ---------------------------------------------------------------------------------------------
# Audio


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit WAV, want 16-bit")
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return x, rate


def telephone_band(x: np.ndarray, rate_in: int, rate_out: int = RATE, lo: float = 300.0, hi: float = 3400.0) -> np.ndarray:
    """FFT band-pass to 300-3400 Hz and resample to 8 kHz."""
    n_out = int(round(len(x) * rate_out / rate_in))
    spec = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate_in)
    # Gentle 100 Hz cosine skirts, like a real channel filter rather than a brick wall.
    gain = np.clip((freqs - (lo - 100)) / 100.0, 0, 1) * np.clip(((hi + 100) - freqs) / 100.0, 0, 1)
    spec = spec * (0.5 - 0.5 * np.cos(np.pi * gain))
    n_bins = n_out // 2 + 1
    spec = spec[:n_bins] if n_bins <= len(spec) else np.concatenate([spec, np.zeros(n_bins - len(spec))])
    return np.fft.irfft(spec, n_out) * (rate_out / rate_in)


def mulaw_encode(x: np.ndarray) -> bytes:
    """G.711 μ-law, float [-1, 1) -> bytes."""
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int32)
    sign = np.where(pcm < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(pcm), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


PAUSE = re.compile(r"\[(\d+)\s*ms\]")


FLITE_STRETCH = 1.0


def synthesize(text: str, tts: str, workdir: Path, name: str) -> np.ndarray:
    """TTS -> telephone-band float audio at 8 kHz, peak-normalized to -6 dBFS. `[700ms]` in the
    text is a pause of that length (the parts around it are synthesized separately), like a
    caller reading a phone number in groups."""
    parts = PAUSE.split(text)  # text, ms, text, ms, ...
    chunks, rate = [], None
    for k, part in enumerate(parts):
        if k % 2:
            chunks.append(np.zeros(int((rate or 16000) * int(part) / 1000)))
            continue
        if not part.strip():
            continue
        wav = workdir / f"{name}.{k}.wav"
        if tts == "flite":
            cmd = ["flite", "-voice", "slt", "--setf", f"duration_stretch={FLITE_STRETCH}",
                   "-t", part.strip(), "-o", str(wav)]
        else:
            cmd = ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), part.strip()]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        x, rate = read_wav(wav)
        if len(parts) > 1:
            x = trim_silence(x, rate)  # flite pads each clip; the pause is the marker's only
        chunks.append(x)
    x = np.concatenate(chunks)
    y = telephone_band(x, rate)
    peak = float(np.max(np.abs(y))) or 1.0
    return y * (0.5 / peak)


def trim_silence(x: np.ndarray, rate: int, margin_ms: int = 20) -> np.ndarray:
    """Cut leading and trailing silence (10 ms frames more than 40 dB below the peak frame)."""
    n = rate // 100
    levels = np.array([np.sqrt(np.mean(x[i : i + n] ** 2)) + 1e-9 for i in range(0, len(x) - n + 1, n)])
    if not len(levels):
        return x
    voiced = np.nonzero(20 * np.log10(levels) > 20 * np.log10(levels.max()) - 40)[0]
    margin = rate * margin_ms // 1000
    return x[max(0, voiced[0] * n - margin) : min(len(x), (voiced[-1] + 1) * n + margin)]


def last_voiced_frame(x: np.ndarray) -> int:
    levels = np.array([np.sqrt(np.mean(x[i : i + FRAME] ** 2)) + 1e-9 for i in range(0, len(x) - FRAME + 1, FRAME)])
    db = 20 * np.log10(levels)
    voiced = np.nonzero(db > db.max() - 35)[0]
    return int(voiced[-1]) if len(voiced) else len(levels) - 1


# ---------------------------------------------------------------------------------------------
# Text normalization for WER

UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
            "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
            "twentieth": 20, "thirtieth": 30}
WORD_VALUE = {w: i for i, w in enumerate(UNITS)} | {w: 10 * i for i, w in enumerate(TENS) if w != "_"} | {"oh": 0, "o": 0}
REPEATS = {"double": 2, "triple": 3}
LETTER_WORDS = set("abcdefghijklmnopqrstuvwxyz")
ABBREV = {"dr": "doctor", "mr": "mister", "mrs": "missus", "st": "street", "p.m.": "pm", "a.m.": "am",
          "ok": "okay", "o'clock": "", "alright": "all right"}


def _number_run(words: list[str]) -> str:
    """A run of number words -> digits. Units after units are separate digits (phone numbers)."""
    out, current, last = [], None, None
    for w in words:
        if w == "hundred":
            current = (current or 1) * 100
            last = "hundred"
            continue
        if w == "thousand":
            current = (current or 1) * 1000
            last = "thousand"
            continue
        v = ORDINALS.get(w, WORD_VALUE.get(w))
        if w == "oh" and current is None and not out:
            pass
        is_tens = w in TENS
        if current is None:
            current, last = v, ("tens" if is_tens else "unit")
        elif last == "tens" and v < 10 and not is_tens:
            current += v
            last = "unit"
        elif last in ("hundred", "thousand") and (current % 100 == 0 or last == "thousand"):
            current += v
            last = "tens" if is_tens else "unit"
        else:
            out.append(str(current))
            current, last = v, ("tens" if is_tens else "unit")
    if current is not None:
        out.append(str(current))
    return "".join(out)


def _join_spelled(words: list[str]) -> list[str]:
    """A run of two or more single letters is a spelled word: "n g u y e n" -> "nguyen", so a
    name spelled out scores the same written "N-G-U-Y-E-N", "N. G. U. Y. E. N." or "NGUYEN".
    A run of nothing but "o" stays apart: "5 o o 1" is zeros."""
    out, run = [], []

    def flush():
        if len(run) >= 2 and set(run) != {"o"}:
            out.append("".join(run))
        else:
            out.extend(run)
        run.clear()

    for w in words:
        if w in LETTER_WORDS:
            run.append(w)
        else:
            flush()
            out.append(w)
    flush()
    return out


def _expand_repeats(words: list[str]) -> list[str]:
    """"double five" -> "five five", "triple oh" -> "oh oh oh", "double 5" -> "5 5": how callers
    read repeated digits, against a transcript that writes them out ("55"). A transcript's
    "double 711" repeats the first digit: "7 711"."""
    out, i = [], 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if w in REPEATS and nxt is not None and nxt in WORD_VALUE and WORD_VALUE[nxt] < 10:
            out.extend([nxt] * REPEATS[w])
            i += 2
            continue
        if w in REPEATS and nxt is not None and nxt.isdigit():
            out.extend([nxt[0]] * (REPEATS[w] - 1) + [nxt])
            i += 2
            continue
        out.append(w)
        i += 1
    return out


def normalize(text: str) -> list[str]:
    t = text.lower().replace("’", "'")
    t = re.sub(r"(\d)[:\-/.,](?=\d)", r"\1 ", t)  # 10:30, 415-555, 3/14, 1,000 -> separate groups
    t = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", t)  # 14th -> 14
    t = re.sub(r"\b([ap])\.?m\b\.?", r"\1m", t)  # p.m. -> pm
    t = re.sub(r"(\d)([ap]m)\b", r"\1 \2", t)  # 3pm -> 3 pm
    t = t.replace("-", " ")
    t = re.sub(r"[^a-z0-9' ]+", " ", t)
    t = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", t)  # 3b -> 3 b, ab4572 -> ab 4572
    words = []
    for w in t.split():
        w = w.strip("'")
        w = ABBREV.get(w, w)
        if w:
            words.extend(w.split())
    words = _join_spelled(words)  # "p a t e l", "P-A-T-E-L", "P. A. T. E. L." -> patel
    words = _expand_repeats(words)  # "double five" -> "five five", "triple 0" -> "0 0 0"
    # number words -> digits
    out, run = [], []
    number_words = set(WORD_VALUE) | set(ORDINALS) | {"hundred", "thousand"}

    def flush_run(next_word: str | None):
        if run:
            if run in (["oh"], ["o"]):
                # A lone "oh" next to digits is a zero ("415 555 oh 100"); elsewhere a word.
                beside_digits = bool(out and out[-1].isdigit()) or bool(next_word and next_word.isdigit())
                out.append("0" if beside_digits else "oh")
            else:
                out.append(_number_run(run))
            run.clear()

    for w in words:
        if w in number_words:
            run.append(w)
        else:
            flush_run(w)
            out.append(w)
    flush_run(None)
    # every digit a token, so "415 555 0100" == "4155550100" == "four one five ..."
    final = []
    for w in out:
        if w.isdigit():
            final.extend(list(w))
        else:
            final.append(w)
    return final


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
            prev, d[j] = d[j], cur
    return d[len(hyp)]


# ---------------------------------------------------------------------------------------------
# Streaming, like DeepgramStt


QUERY = ("encoding=mulaw&sample_rate=8000&channels=1&model=nova-3&interim_results=true&vad_events=true"
         "&endpointing=300&utterance_end_ms=1000&smart_format=true&language=en-US")


async def stream_one(url: str, audio: bytes, last_voiced: int, lead_ms: int, tail_ms: int, speed: float, noise: np.ndarray | None) -> dict:
    from websockets.asyncio.client import connect

    lead = bytes([MULAW_SILENCE]) * (RATE * lead_ms // 1000)
    tail = bytes([MULAW_SILENCE]) * (RATE * tail_ms // 1000)
    payload = lead + audio + tail
    if noise is not None:  # line noise under everything, not just the speech
        x = decode_mulaw(payload) + noise[: len(payload)]
        payload = mulaw_encode(x)
    last_voiced_index = (len(lead) // FRAME) + last_voiced
    result = {"text": "", "speech_started": None, "final_at": None, "messages": [], "last_voiced_at": None, "finals": 0}
    sep = "&" if "?" in url else "?"
    async with connect(f"{url}{sep}{QUERY}", additional_headers={"Authorization": "Token offline"}, max_size=1 << 20) as ws:
        async def reader():
            async for message in ws:
                now = time.monotonic()
                m = json.loads(message)
                result["messages"].append(m.get("type"))
                if m.get("type") == "SpeechStarted" and result["speech_started"] is None:
                    result["speech_started"] = now
                elif m.get("type") == "Results" and m.get("is_final"):
                    text = m["channel"]["alternatives"][0]["transcript"].strip()
                    if text:
                        result["text"] = (result["text"] + " " + text).strip()
                        result["finals"] += 1
                        result["final_at"] = now  # the last one: a split utterance is not done early

        read_task = asyncio.create_task(reader())
        t0 = time.monotonic()
        for k, i in enumerate(range(0, len(payload), FRAME)):
            due = t0 + k * 0.020 / speed
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(payload[i : i + FRAME])
            if k == last_voiced_index:
                result["last_voiced_at"] = time.monotonic()
        await ws.send(json.dumps({"type": "CloseStream"}))
        await asyncio.wait_for(read_task, 30)
    return result


def decode_mulaw(b: bytes) -> np.ndarray:
    u = ~np.frombuffer(b, dtype=np.uint8)
    sign, exponent, mantissa = u & 0x80, (u >> 4) & 7, u & 0x0F
    mag = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent.astype(np.int32)
    return np.where(sign != 0, 0x84 - mag, mag - 0x84) / 32768.0


def start_sidecar(python: str, extra: list[str], script: Path = SIDECAR) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([python, str(script), "--port", "0", *extra], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        proc.kill()
        raise SystemExit(f"sidecar did not start: {line!r}")
    return proc, f"ws://127.0.0.1:{line.split()[1]}/v1/listen"


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """VmRSS (now) or VmHWM (peak resident set) of a process, in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


async def amain(args) -> int:
    rows = list(csv.DictReader(open(args.utterances, newline=""), delimiter="\t"))
    if args.limit:
        rows = rows[: args.limit]
    tts = args.tts
    if shutil.which("flite" if tts == "flite" else "espeak-ng") is None:
        raise SystemExit(f"{tts} is not installed: apt-get install -y {tts}")
    proc = None
    url = args.url
    if url is None:
        proc, url = start_sidecar(args.python or sys.executable, args.sidecar_arg or [], Path(args.sidecar_script))
    rng = np.random.default_rng(1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clips = []
            for row in rows:
                x = synthesize(row.get("say") or row["text"], tts, Path(tmp), row["id"])
                clips.append((row, mulaw_encode(x), last_voiced_frame(x)))
                if args.save_dir:
                    Path(args.save_dir).mkdir(parents=True, exist_ok=True)
                    (Path(args.save_dir) / f"{row['id']}.ul").write_bytes(clips[-1][1])
            sem = asyncio.Semaphore(args.concurrency)

            async def run(clip):
                row, audio, last = clip
                noise = None
                if args.noise_db is not None:
                    noise = rng.standard_normal(len(audio) + RATE * 4) * 10 ** (args.noise_db / 20)
                async with sem:
                    return row, await stream_one(url, audio, last, args.lead_ms, args.tail_ms, args.speed, noise)

            # The sidecar's CPU time while the calls stream (model load and warm-up excluded).
            cpu_start = cpu_seconds(proc.pid) if proc is not None else math.nan
            load_start = os.getloadavg()[0]
            t_start = time.monotonic()
            results = await asyncio.gather(*(run(c) for c in clips))
            wall = time.monotonic() - t_start
            load_end = os.getloadavg()[0]
            cpu_calls = (cpu_seconds(proc.pid) - cpu_start) if proc is not None else math.nan
        errors = words = 0
        latencies = []
        split = []
        print(f"{'id':<18} {'err':>3}/{'n':<3} {'lat ms':>7} fin  hypothesis")
        for row, r in results:
            ref, hyp = normalize(row["text"]), normalize(r["text"])
            e = edit_distance(ref, hyp)
            errors += e
            words += len(ref)
            lat = None
            if r["final_at"] and r["last_voiced_at"]:
                lat = (r["final_at"] - r["last_voiced_at"]) * 1000
                latencies.append(lat)
            lat_s = f"{lat:7.0f}" if lat is not None else "      -"
            if r["finals"] > 1:
                split.append(row["id"])
            print(f"{row['id']:<18} {e:>3}/{len(ref):<3} {lat_s} {r['finals']:>3}  {r['text']}")
            if e and args.verbose:
                print(f"{'':<18}   ref: {' '.join(ref)}\n{'':<18}   hyp: {' '.join(hyp)}")
        wer = errors / max(words, 1)
        lat = np.array(latencies) if latencies else np.array([math.nan])
        print()
        print(f"tts={tts} utterances={len(results)} words={words} errors={errors} WER={100 * wer:.1f}%")
        print(
            "latency end-of-speech -> final Results (ms, includes endpointing): "
            f"p50={np.percentile(lat, 50):.0f} p90={np.percentile(lat, 90):.0f} max={lat.max():.0f} mean={lat.mean():.0f}"
        )
        print(f"split into several finals: {len(split)}" + (f" ({', '.join(split)})" if split else ""))
        print(f"wall {wall:.1f}s, concurrency {args.concurrency}, speed {args.speed}x, "
              f"load average {load_start:.2f} at start, {load_end:.2f} at end ({os.cpu_count()} CPUs)")
        summary = {
            "utterances_file": os.path.basename(args.utterances), "utterances": len(results), "words": words,
            "errors": errors, "wer": wer, "p50_ms": float(np.percentile(lat, 50)), "p90_ms": float(np.percentile(lat, 90)),
            "max_ms": float(lat.max()), "mean_ms": float(lat.mean()), "split": split, "wall_s": wall,
            "concurrency": args.concurrency, "load_start": load_start, "load_end": load_end,
            "sidecar_args": args.sidecar_arg or [], "flite_stretch": args.flite_stretch, "tts": tts,
            "hypotheses": {row["id"]: r["text"] for row, r in results},
        }
        if proc is not None:
            summary |= {
                "rss_mib": rss_kb(proc.pid) / 1024, "rss_peak_mib": rss_kb(proc.pid, "VmHWM") / 1024,
                "cpu_s": cpu_calls, "cpu_s_per_call": cpu_calls / max(len(results), 1),
                "cpu_s_per_audio_s": cpu_calls / max(sum(len(c[1]) for c in clips) / RATE, 1e-9),
            }
            print(
                f"sidecar RSS {summary['rss_mib']:.0f} MiB (peak {summary['rss_peak_mib']:.0f} MiB); CPU while streaming "
                f"{cpu_calls:.1f} s = {summary['cpu_s_per_call']:.2f} s per call (utime+stime, model load excluded)"
            )
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(summary, indent=1) + "\n")
        return 0 if wer <= args.max_wer else 1
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running sidecar's ws://.../v1/listen (default: start one)")
    p.add_argument("--utterances", default=str(HERE / "utterances.tsv"))
    p.add_argument("--tts", choices=["flite", "espeak-ng"], default="flite")
    p.add_argument("--flite-stretch", type=float, default=1.0,
                   help="flite's duration_stretch (the simulated callers use 1.2)")
    p.add_argument("--speed", type=float, default=1.0, help="1 = real time like a phone")
    p.add_argument("--concurrency", type=int, default=1, help="streams at once")
    p.add_argument("--lead-ms", type=int, default=300)
    p.add_argument("--tail-ms", type=int, default=1500, help="silence after the speech")
    p.add_argument("--noise-db", type=float, default=-55.0, help="white line noise level in dBFS (None: off)")
    p.add_argument("--no-noise", dest="noise_db", action="store_const", const=None)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--max-wer", type=float, default=0.15, help="exit 1 above this")
    p.add_argument("--save-dir", help="also write the μ-law clips here")
    p.add_argument("--sidecar-arg", action="append",
                   help="extra argument for the started sidecar, e.g. --sidecar-arg=--model=DIR")
    p.add_argument("--sidecar-script", default=str(SIDECAR), help="the sidecar to start (default: %(default)s)")
    p.add_argument("--python", help="interpreter for the started sidecar (default: this one)")
    p.add_argument("--json-out", help="also write the summary (and each hypothesis) as JSON here")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()
    global FLITE_STRETCH
    FLITE_STRETCH = args.flite_stretch
    sys.exit(asyncio.run(amain(args)))


if __name__ == "__main__":
    main()
