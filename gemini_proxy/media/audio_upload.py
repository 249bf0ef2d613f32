"""An uploaded audio file -> what Gemini takes inline: its real format, duration and bytes.

The format comes from the bytes (magic numbers), never from the filename or the Content-Type a
client sent. Gemini takes WAV, MP3, AIFF, AAC (ADTS), OGG and FLAC inline (ai.google.dev/gemini-api/
docs/audio); the rest of OpenAI's formats (m4a, mp4, webm: documented on Vertex AI only) are decoded
with PyAV (FFmpeg) and sent as FLAC, mono at 16 kHz, so they work on every backend: Gemini downsamples
every audio input to 16 kbit/s mono anyway, and FLAC is lossless, so nothing it would have heard is lost.
The duration is PyAV's reading of the container (or, when the container does not say, of the decoded
samples), so verbose_json reports the real length of the audio, not the model's guess.

Every failure is an AudioError with a message for the client; the caller makes it a 400 on `file`.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

# Gemini's inline audio formats, by the name sniff() gives them.
GEMINI_MIME_TYPES = {
    "wav": "audio/wav", "mp3": "audio/mp3", "aiff": "audio/aiff", "aac": "audio/aac", "ogg": "audio/ogg",
    "flac": "audio/flac",
}
# Formats Gemini does not take inline: transcoded to FLAC.
TRANSCODED = frozenset({"mp4", "webm"})
OPENAI_FORMATS = "flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm"
FLAC_RATE = 16_000


class AudioError(Exception):
    pass


@dataclass(frozen=True)
class Audio:
    format: str  # the sniffed format: a GEMINI_MIME_TYPES key, or one of TRANSCODED
    mime_type: str  # what Gemini is told (after transcoding: audio/flac)
    data: bytes  # what Gemini gets
    duration: float  # seconds


def _mp3_frame(data: bytes) -> bool:
    # An MPEG audio frame header: 11 set sync bits, layer not 00, bitrate index not 1111.
    return (len(data) >= 3 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06 != 0
            and data[2] & 0xF0 != 0xF0)


def sniff(data: bytes) -> str | None:
    """The audio format of `data` by its magic numbers: wav, flac, mp3, ogg, aiff, aac, mp4 (m4a too)
    or webm (Matroska); None: none of these."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[:3] == b"ID3":
        return "mp3"
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0:  # ADTS: MPEG-4/2 AAC, layer 00
        return "aac"
    if _mp3_frame(data):
        return "mp3"
    return None


def _duration(container) -> float:
    import av
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    samples = rate = 0
    for frame in container.decode(stream):
        samples, rate = samples + frame.samples, frame.sample_rate or rate
    return samples / rate if rate else 0.0


def _flac(container) -> bytes:
    """The first audio stream of `container` as FLAC, mono at FLAC_RATE."""
    import av
    resampler = av.AudioResampler(format="s16", layout="mono", rate=FLAC_RATE)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as output:
        stream = output.add_stream("flac", rate=FLAC_RATE, layout="mono")
        for frame in container.decode(container.streams.audio[0]):
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    output.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def read_audio(data: bytes) -> Audio:
    """The audio in an uploaded file, as Gemini will get it (see the module docstring). PyAV is imported
    at first use: FFmpeg's libraries cost a worker about 22 MB, which a gateway that hears no audio need not pay."""
    import av
    found = sniff(data)
    if found is None:
        raise AudioError(f"Invalid file format. Supported formats: {OPENAI_FORMATS} (the format is read from the "
                         "file's bytes, not its name).")
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise AudioError("The file has no audio stream.")
            duration = _duration(container)
        if found not in TRANSCODED:
            return Audio(found, GEMINI_MIME_TYPES[found], data, duration)
        with av.open(io.BytesIO(data)) as container:
            return Audio(found, GEMINI_MIME_TYPES["flac"], _flac(container), duration)
    except av.FFmpegError as exc:
        raise AudioError(f"The {found} file could not be decoded as audio ({type(exc).__name__}).") from None
