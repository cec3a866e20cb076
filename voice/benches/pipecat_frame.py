#!/usr/bin/env python3
"""Per-frame cost of Pipecat's Twilio path, the counterpart of `bench-dsp`.

Times, per 20 ms frame, over many frames (same shape as voice/benches/bench_dsp.rs):

- resample_8k_16k / resample_16k_8k: Pipecat's stream resampler (SOXR, its default).
- pipeline_in: ulaw_to_pcm (μ-law decode + resample 8 kHz → 16 kHz).
- pipeline_out: pcm_to_ulaw (resample 24 kHz → 8 kHz + μ-law encode).
- pipeline: pipeline_in then pipeline_out, timed together.
- json_b64: json.loads + base64 decode of a Twilio media frame, base64 encode + json.dumps
  of an outbound media message (no audio processing).
- twilio_in: TwilioFrameSerializer.deserialize(media JSON) → InputAudioRawFrame at 16 kHz.
- twilio_out: TwilioFrameSerializer.serialize(OutputAudioRawFrame at 24 kHz) → media JSON.
- twilio: twilio_in then twilio_out, timed together.

Note: Pipecat's default stream resampler (SOXR "VHQ") releases its output in bursts of several
frames, so most calls return no audio and a few return ~100 ms; the mean is the fair per-frame
cost, p50 mostly measures the calls that buffer.

Usage: pipecat_frame.py [--frames N] [--json]
With --json, prints one JSON object (for bench-dsp) instead of a table.
"""

import argparse
import asyncio
import base64
import importlib.metadata
import json
import logging
import math
import platform
import sys
import time
from types import SimpleNamespace


def quiet_logs():
    try:
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    logging.disable(logging.CRITICAL)


quiet_logs()

from pipecat.audio.utils import create_stream_resampler, pcm_to_ulaw, ulaw_to_pcm  # noqa: E402
from pipecat.frames.frames import OutputAudioRawFrame  # noqa: E402
from pipecat.serializers.twilio import TwilioFrameSerializer  # noqa: E402

STREAM_SID = "MZ00000000000000000000000000000000"


def sine_pcm(freq_hz, rate, ms, amplitude=0.3):
    n = rate * ms // 1000
    peak = amplitude * 32767
    samples = [int(round(peak * math.sin(2 * math.pi * freq_hz * i / rate))) for i in range(n)]
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


def stats(samples_ns):
    ordered = sorted(samples_ns)
    n = len(ordered)

    def pct(p):
        return ordered[min(n - 1, int(p * n))] / 1000.0

    return {
        "mean_us": sum(ordered) / n / 1000.0,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "frames": n,
    }


async def time_async(n, warmup, make_call):
    clock = time.perf_counter_ns
    for i in range(warmup):
        await make_call(i)
    out = []
    for i in range(n):
        t0 = clock()
        await make_call(i)
        out.append(clock() - t0)
    return out


def time_sync(n, warmup, call):
    clock = time.perf_counter_ns
    for i in range(warmup):
        call(i)
    out = []
    for i in range(n):
        t0 = clock()
        call(i)
        out.append(clock() - t0)
    return out


async def run(frames):
    import audioop  # the module Pipecat itself uses (audioop-lts on Python >= 3.13)

    warmup = min(1000, frames // 10)
    # 20 ms frames: 160 μ-law bytes at 8 kHz, 320 samples at 16 kHz, 480 samples at 24 kHz.
    pcm8 = sine_pcm(440, 8000, 20)
    ulaw8 = audioop.lin2ulaw(pcm8, 2)
    pcm16 = sine_pcm(440, 16000, 20)
    pcm24 = sine_pcm(440, 24000, 20)
    inbound = json.dumps(
        {
            "event": "media",
            "sequenceNumber": "3",
            "media": {
                "track": "inbound",
                "chunk": "1",
                "timestamp": "5",
                "payload": base64.b64encode(ulaw8).decode(),
            },
            "streamSid": STREAM_SID,
        }
    )
    results = {}

    up = create_stream_resampler()
    results["resample_8k_16k"] = stats(
        await time_async(frames, warmup, lambda _: up.resample(pcm8, 8000, 16000))
    )
    down = create_stream_resampler()
    results["resample_16k_8k"] = stats(
        await time_async(frames, warmup, lambda _: down.resample(pcm16, 16000, 8000))
    )

    in_rs = create_stream_resampler()
    out_rs = create_stream_resampler()
    results["pipeline_in"] = stats(
        await time_async(frames, warmup, lambda _: ulaw_to_pcm(ulaw8, 8000, 16000, in_rs))
    )
    results["pipeline_out"] = stats(
        await time_async(frames, warmup, lambda _: pcm_to_ulaw(pcm24, 24000, 8000, out_rs))
    )

    async def both_ways(_):
        await ulaw_to_pcm(ulaw8, 8000, 16000, in_rs)
        await pcm_to_ulaw(pcm24, 24000, 8000, out_rs)

    results["pipeline"] = stats(await time_async(frames, warmup, both_ways))

    def json_b64(_):
        message = json.loads(inbound)
        payload = base64.b64decode(message["media"]["payload"])
        return json.dumps(
            {
                "event": "media",
                "streamSid": STREAM_SID,
                "media": {"payload": base64.b64encode(payload).decode("utf-8")},
            }
        )

    results["json_b64"] = stats(time_sync(frames, warmup, json_b64))

    serializer = TwilioFrameSerializer(
        stream_sid=STREAM_SID,
        params=TwilioFrameSerializer.InputParams(sample_rate=16000, auto_hang_up=False),
    )
    await serializer.setup(SimpleNamespace(audio_in_sample_rate=16000))
    # Pipecat's SOXR stream resampler holds output back and releases it in bursts of several
    # frames (most calls return no frame at all): look for the first frame that comes out.
    first_in = None
    for i in range(100):
        frame = await serializer.deserialize(inbound)
        if frame is not None:
            first_in = (i, len(frame.audio) // 2)
            break
    assert first_in is not None and frame.sample_rate == 16000, frame
    out_frame = OutputAudioRawFrame(audio=pcm24, sample_rate=24000, num_channels=1)
    first_out = None
    for i in range(100):
        text = await serializer.serialize(out_frame)
        if text is not None:
            assert json.loads(text)["event"] == "media", text
            first_out = (i, len(base64.b64decode(json.loads(text)["media"]["payload"])))
            break
    assert first_out is not None

    results["twilio_in"] = stats(
        await time_async(frames, warmup, lambda _: serializer.deserialize(inbound))
    )
    results["twilio_out"] = stats(
        await time_async(frames, warmup, lambda _: serializer.serialize(out_frame))
    )

    async def serializer_both_ways(_):
        await serializer.deserialize(inbound)
        await serializer.serialize(out_frame)

    results["twilio"] = stats(await time_async(frames, warmup, serializer_both_ways))

    return {
        "pipecat": importlib.metadata.version("pipecat-ai"),
        "soxr": importlib.metadata.version("soxr"),
        "python": platform.python_version(),
        # (index of the first call that returned audio, samples it returned)
        "first_output_in": first_in,
        "first_output_out": first_out,
        "results": results,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args.frames))
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"Pipecat {report['pipecat']} (soxr {report['soxr']}, Python {report['python']}), "
        f"{args.frames} frames of 20 ms"
    )
    print(
        f"first twilio_in frame out at call {report['first_output_in'][0]} "
        f"({report['first_output_in'][1]} samples), first twilio_out at call "
        f"{report['first_output_out'][0]} ({report['first_output_out'][1]} bytes)"
    )
    print(f"{'stage':<18}{'mean µs':>10}{'p50 µs':>10}{'p99 µs':>10}")
    for name, s in report["results"].items():
        print(f"{name:<18}{s['mean_us']:>10.2f}{s['p50_us']:>10.2f}{s['p99_us']:>10.2f}")


if __name__ == "__main__":
    sys.exit(main())
