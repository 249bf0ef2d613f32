"""Gemini's PCM as the audio files OpenAI's speech endpoint returns, encoded with PyAV (FFmpeg).

An AudioEncoder takes PCM as it arrives (signed 16-bit little-endian mono, at the rate Gemini's
mimeType names) and gives back the encoded bytes ready so far, so a stream can send audio while
Gemini still speaks. Every format comes out at OUTPUT_RATE (24 kHz, mono), the rate of OpenAI's
own speech, and `pcm` is OpenAI's pcm: raw 24 kHz s16le with no header.

Formats and containers: mp3 (libmp3lame), opus (libopus in Ogg, pages flushed every 100 ms),
aac (ADTS), flac, wav (RIFF written here: when streamed its sizes are 0xFFFFFFFF, "unknown",
which decoders read to the end of the data), pcm. A streamed flac's STREAMINFO has no total
sample count (it cannot be rewritten on a stream); decoders read it to the end as well.

`speed` (0.25-4) time-stretches the audio with FFmpeg's atempo filter, keeping the pitch; atempo
takes 0.5-2 per instance, so 0.25 and 4 chain two.
"""
from __future__ import annotations

import struct
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import av
    from av.filter import Graph

OUTPUT_RATE = 24_000
# response_format -> (FFmpeg muxer, encoder); wav and pcm are written here.
CODECS = {"mp3": ("mp3", "libmp3lame"), "opus": ("ogg", "libopus"), "aac": ("adts", "aac"), "flac": ("flac", "flac")}
# What OpenAI's speech endpoint answers with each format.
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                 "wav": "audio/wav", "pcm": "audio/pcm"}
FORMATS = tuple(CONTENT_TYPES)
_MUXER_OPTIONS = {"ogg": {"page_duration": "100000"}}  # microseconds of audio per Ogg page
_UNKNOWN_SIZE = 0xFFFFFFFF


def wav_header(data_bytes: int | None, rate: int = OUTPUT_RATE) -> bytes:
    """A 44-byte RIFF header of s16le mono; data_bytes None: a stream of unknown length."""
    data = _UNKNOWN_SIZE if data_bytes is None else data_bytes
    riff = _UNKNOWN_SIZE if data_bytes is None else 36 + data_bytes
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", data)


class _Sink:
    """A write-only file for PyAV's muxer: what it wrote since the last take()."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _tempo_factors(speed: float) -> list[float]:
    factors = []
    while speed > 2.0:
        factors.append(2.0)
        speed /= 2.0
    while speed < 0.5:
        factors.append(0.5)
        speed /= 0.5
    return factors + [speed]


class AudioEncoder:
    """PCM in (feed, then finish), encoded audio out; `streamed` writes a wav header of unknown size.
    PyAV is imported by the first encoder: FFmpeg's libraries cost a worker about 22 MB, which a gateway
    that speaks no audio need not pay."""

    def __init__(self, response_format: str, input_rate: int, speed: float = 1.0, streamed: bool = False):
        import av
        self._av = av
        self.format, self.input_rate, self.streamed = response_format, input_rate, streamed
        self._pts = 0
        self._graph = self._tempo_graph(speed) if speed != 1.0 else None
        self._container = self._stream = None
        self._sink = _Sink()
        self._pcm_out: list[bytes] = []  # wav and pcm: the s16 samples at OUTPUT_RATE
        self._pcm_started = False
        if response_format in CODECS:
            muxer, codec = CODECS[response_format]
            self._container = self._av.open(self._sink, mode="w", format=muxer, options=_MUXER_OPTIONS.get(muxer, {}))
            self._stream = self._container.add_stream(codec, rate=OUTPUT_RATE, layout="mono")
            sample_format = self._stream.codec_context.format.name
        else:
            sample_format = "s16"
        self._resampler = self._av.AudioResampler(format=sample_format, layout="mono", rate=OUTPUT_RATE)

    def _tempo_graph(self, speed: float) -> Graph:
        graph = self._av.filter.Graph()
        node = graph.add_abuffer(format="s16", sample_rate=self.input_rate, layout="mono",
                                 time_base=f"1/{self.input_rate}")
        for factor in _tempo_factors(speed):
            stretched = graph.add("atempo", str(factor))
            node.link_to(stretched)
            node = stretched
        sink = graph.add("abuffersink")
        node.link_to(sink)
        graph.configure()
        return graph

    def feed(self, pcm: bytes) -> bytes:
        """Encoded bytes ready after this PCM (often none yet: encoders work in frames)."""
        pcm = pcm[: len(pcm) - len(pcm) % 2]
        if not pcm:
            return self._take()
        frame = self._av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate, frame.pts, frame.time_base = self.input_rate, self._pts, Fraction(1, self.input_rate)
        self._pts += len(pcm) // 2
        self._through_tempo(frame)
        return self._take()

    def finish(self) -> bytes:
        """The rest: whatever the filter and encoder still held, and the container's trailer."""
        self._through_tempo(None)
        self._encode(None)
        if self._stream is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        return self._take(last=True)

    def encode_all(self, pcm: bytes) -> bytes:
        return self.feed(pcm) + self.finish()

    def _through_tempo(self, frame: av.AudioFrame | None) -> None:
        if self._graph is None:
            self._encode(frame)
            return
        self._graph.push(frame)
        while True:
            try:
                self._encode(self._graph.pull())
            except (self._av.BlockingIOError, self._av.EOFError):
                return

    def _encode(self, frame: av.AudioFrame | None) -> None:
        for resampled in self._resampler.resample(frame):
            if self._stream is None:
                self._pcm_out.append(bytes(resampled.planes[0])[: resampled.samples * 2])
                continue
            for packet in self._stream.encode(resampled):
                self._container.mux(packet)

    def _take(self, last: bool = False) -> bytes:
        if self._stream is not None:
            return self._sink.take()
        data = b"".join(self._pcm_out)
        self._pcm_out.clear()
        if self.format == "wav" and not self._pcm_started:
            if self.streamed:
                data = wav_header(None) + data
            elif last:
                data = wav_header(len(data)) + data
            else:  # a whole file: the header waits for its size
                self._pcm_out.append(data)
                return b""
        self._pcm_started = self._pcm_started or bool(data) or last
        return data
