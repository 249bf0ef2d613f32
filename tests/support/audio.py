"""Decoding speech answers with PyAV (FFmpeg), to measure what a client would hear."""
from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass

import av

PCM_RATE = 24_000


@dataclass(frozen=True)
class Decoded:
    seconds: float
    rate: int  # the encoded rate (Ogg Opus: OpusHead's input rate; its decoder always gives 48 kHz)
    channels: int
    codec: str


def decode(data: bytes, response_format: str) -> Decoded:
    if response_format == "pcm":
        return Decoded(len(data) / 2 / PCM_RATE, PCM_RATE, 1, "pcm_s16le")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples, decoded_rate = 0, None
        for frame in container.decode(stream):
            samples += frame.samples
            decoded_rate = frame.sample_rate
        rate = decoded_rate
        extradata = stream.codec_context.extradata or b""
        if stream.codec_context.name == "opus" and extradata.startswith(b"OpusHead"):
            rate = struct.unpack_from("<I", extradata, 12)[0]
        return Decoded(samples / decoded_rate, rate, stream.codec_context.channels, stream.codec_context.name)


def sine_pcm(seconds: float, rate: int = PCM_RATE, pitch: float = 220.0) -> bytes:
    count = round(seconds * rate)
    return struct.pack(f"<{count}h", *(round(8000 * math.sin(2 * math.pi * pitch * n / rate)) for n in range(count)))
