"""Audio in tests, made and measured with PyAV (FFmpeg) and the wave module: tiny files to upload
(a tone as WAV or in another container), and speech answers decoded to what a client would hear."""
from __future__ import annotations

import array
import io
import math
import struct
import wave
from dataclasses import dataclass

import av

RATE = 16_000
PCM_RATE = 24_000


def tone(seconds: float, rate: int = RATE, pitch: float = 440.0) -> bytes:
    """A sine tone as 16-bit little-endian mono samples."""
    samples = array.array("h", (round(8000 * math.sin(2 * math.pi * pitch * i / rate))
                                for i in range(round(seconds * rate))))
    return samples.tobytes()


def sine_pcm(seconds: float, rate: int = PCM_RATE, pitch: float = 220.0) -> bytes:
    """Speech-rate PCM, as Gemini's TTS models send it."""
    return tone(seconds, rate, pitch)


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
