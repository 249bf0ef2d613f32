"""Speech without a server: the voice table, the prompt, Gemini's PCM parts, and the encoder (each
format decoded again with PyAV to 24 kHz mono of the right length)."""
from __future__ import annotations

import base64

import pytest

from gemini_emulator.speech import VOICES as EMULATOR_VOICES
from gemini_proxy.media.audio_encoder import CODECS, CONTENT_TYPES, FORMATS, AudioEncoder, wav_header
from gemini_proxy.schemas.speech import FORMATS as REQUEST_FORMATS
from gemini_proxy.translate.speech import (
    GEMINI_VOICES,
    OPENAI_VOICES,
    audio_delta,
    audio_of,
    gemini_voice,
    pcm_rate,
    speech_prompt,
    speech_request,
    speech_usage,
)
from tests.support.audio import decode, sine_pcm

EXPECTED_CODECS = {"mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac", "wav": "pcm_s16le", "pcm": "pcm_s16le"}


def test_every_openai_voice_maps_to_a_gemini_voice():
    assert set(OPENAI_VOICES) == {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage",
                                  "shimmer", "verse", "marin", "cedar"}
    assert set(OPENAI_VOICES.values()) <= set(GEMINI_VOICES)
    assert len(set(OPENAI_VOICES.values())) == len(OPENAI_VOICES)
    assert GEMINI_VOICES == EMULATOR_VOICES


@pytest.mark.parametrize(("asked", "voice"), [
    ("alloy", "Kore"), ("ONYX", "Algenib"), ("Puck", "Puck"), ("puck", "Puck"), (" zephyr ", "Zephyr"),
    ({"id": "nova"}, "Leda"), ({"id": "Charon"}, "Charon"), ("bob", None), ({"id": "voice_1234"}, None),
    (3, None),
])
def test_gemini_voice(asked, voice):
    assert gemini_voice(asked) == voice


def test_instructions_become_the_style_prompt():
    assert speech_prompt("Have a nice day!", None) == "Have a nice day!"
    assert speech_prompt("Have a nice day!", "  ") == "Have a nice day!"
    assert speech_prompt("Have a nice day!", "Say cheerfully") == "Say cheerfully: Have a nice day!"
    assert speech_prompt("Hi", "Speak slowly and calmly.") == "Speak slowly and calmly: Hi"


def test_speech_request_is_gemini_s_tts_config():
    contents, config = speech_request("Hi", None, "Kore")
    assert contents == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert config == {"response_modalities": ["AUDIO"],
                      "speech_config": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}}


@pytest.mark.parametrize(("mime", "rate"), [
    ("audio/L16;codec=pcm;rate=24000", 24000), ("audio/L16; codec=pcm; rate=16000", 16000),
    ("audio/l16;rate=48000", 48000), ("audio/L16", 24000), ("audio/wav", None), ("audio/mpeg", None), (None, None),
])
def test_pcm_rate_comes_from_the_mime_type(mime, rate):
    assert pcm_rate(mime) == rate


def test_audio_of_joins_the_pcm_parts():
    data = base64.b64encode(b"\1\0\2\0").decode()
    part = {"inline_data": {"mime_type": "audio/L16;codec=pcm;rate=24000", "data": data}}
    answer = {"candidates": [{"content": {"parts": [part, part]}, "finish_reason": "STOP"}],
              "usage_metadata": {"prompt_token_count": 3, "candidates_token_count": 7}}
    assert audio_of(answer) == (b"\1\0\2\0\1\0\2\0", 24000, "STOP")
    assert speech_usage(answer) == {"input_tokens": 3, "output_tokens": 7, "total_tokens": 10}
    wrong = {"candidates": [{"content": {"parts": [{"inline_data": {"mime_type": "audio/mpeg", "data": ""}}]}}]}
    with pytest.raises(ValueError, match="audio/mpeg"):
        audio_of(wrong)
    assert audio_of({"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}) == (b"", None, None)
    assert audio_delta(b"ab") == {"type": "speech.audio.delta", "audio": "YWI="}


def test_every_format_has_a_content_type():
    assert set(CONTENT_TYPES) == set(FORMATS) == set(REQUEST_FORMATS)
    assert set(CODECS) < set(FORMATS)


@pytest.mark.parametrize("response_format", FORMATS)
@pytest.mark.parametrize("streamed", [False, True])
def test_each_format_decodes_to_24_khz_mono_of_the_same_length(response_format, streamed):
    pcm = sine_pcm(2.0)
    encoder = AudioEncoder(response_format, 24000, streamed=streamed)
    if streamed:
        data = b"".join([encoder.feed(pcm[i:i + 9600]) for i in range(0, len(pcm), 9600)] + [encoder.finish()])
    else:
        data = encoder.encode_all(pcm)
    decoded = decode(data, response_format)
    assert (decoded.rate, decoded.channels) == (24000, 1)
    assert decoded.codec.startswith(EXPECTED_CODECS[response_format])  # FFmpeg's mp3 decoder is mp3float
    assert decoded.seconds == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("response_format", ["mp3", "wav", "pcm"])
def test_other_input_rates_are_resampled_to_24_khz(response_format):
    decoded = decode(AudioEncoder(response_format, 16000).encode_all(sine_pcm(1.5, rate=16000)), response_format)
    assert decoded.rate == 24000
    assert decoded.seconds == pytest.approx(1.5, abs=0.1)


@pytest.mark.parametrize("speed", [0.25, 0.5, 1.5, 2.0, 4.0])
def test_speed_stretches_the_time(speed):
    decoded = decode(AudioEncoder("wav", 24000, speed).encode_all(sine_pcm(2.0)), "wav")
    assert decoded.seconds == pytest.approx(2.0 / speed, rel=0.05)


@pytest.mark.parametrize("response_format", ["mp3", "pcm"])
def test_speed_works_on_a_stream_too(response_format):
    encoder = AudioEncoder(response_format, 24000, 2.0, streamed=True)
    pcm = sine_pcm(3.0)
    data = b"".join([encoder.feed(pcm[i:i + 4800]) for i in range(0, len(pcm), 4800)] + [encoder.finish()])
    assert decode(data, response_format).seconds == pytest.approx(1.5, abs=0.1)


def test_wav_header_sizes():
    assert len(wav_header(100)) == 44
    assert wav_header(100)[4:8] == (136).to_bytes(4, "little")
    assert wav_header(None)[40:44] == b"\xff\xff\xff\xff"
    whole = AudioEncoder("wav", 24000).encode_all(sine_pcm(0.5))
    assert whole[40:44] == (24000).to_bytes(4, "little")
    assert len(whole) == 44 + 24000


def test_a_streamed_encoder_gives_audio_before_the_end():
    encoder = AudioEncoder("mp3", 24000, streamed=True)
    early = b"".join(encoder.feed(sine_pcm(0.5)) for _ in range(4))
    assert len(early) > 1000
