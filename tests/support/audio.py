"""Tiny audio files made at test time: WAV with the wave module, other formats with PyAV."""
from __future__ import annotations

import array
import io
import math
import wave

import av

RATE = 16_000


def tone(seconds: float, rate: int = RATE) -> bytes:
    """A 440 Hz tone as 16-bit little-endian mono samples."""
    samples = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))))
    return samples.tobytes()


def wav_bytes(seconds: float, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(tone(seconds, rate))
    return buffer.getvalue()


def encoded(seconds: float, container: str, codec: str, rate: int = RATE) -> bytes:
    """The tone encoded by FFmpeg: container "mp3", "flac", "ipod" (m4a), "webm", "ogg"..., with its codec."""
    rate = 48_000 if codec == "libopus" else rate
    pcm = tone(seconds, rate)
    frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    frame.planes[0].update(pcm)
    frame.sample_rate = rate
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=rate, layout="mono")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)
    return buffer.getvalue()
