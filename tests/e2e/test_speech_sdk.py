"""Text to speech as users run it: gunicorn + the emulator process, the official openai SDK as the
client (AI Studio and Vertex AI backends): every format decodes to 24 kHz, its length follows the
text, streamed audio arrives in pieces over time, bad fields are BadRequestErrors naming the param."""
from __future__ import annotations

import json
import time

import openai
import pytest

from gemini_proxy.media.audio_encoder import FORMATS
from tests.support.audio import decode

pytestmark = pytest.mark.e2e

SHORT = "Hello there, my friend."
LONG = "The quick brown fox jumps over the lazy dog. " * 3


@pytest.mark.parametrize("response_format", FORMATS)
def test_sdk_speech_in_every_format(sdk, response_format):
    short = sdk.audio.speech.create(model="tts-1", voice="alloy", input=SHORT, response_format=response_format)
    long = sdk.audio.speech.create(model="tts-1", voice="alloy", input=LONG, response_format=response_format)
    first, second = decode(short.content, response_format), decode(long.content, response_format)
    assert (first.rate, first.channels) == (24000, 1)
    assert first.seconds == pytest.approx(4 * 0.35 + 0.4, abs=0.1)
    assert second.seconds == pytest.approx(27 * 0.35 + 0.4, abs=0.15)


def test_sdk_instructions_speed_and_gemini_voices(sdk):
    normal = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="Puck", input=SHORT, response_format="wav",
                                     instructions="Say cheerfully")
    fast = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="Puck", input=SHORT, response_format="wav",
                                   instructions="Say cheerfully", speed=2.0)
    assert decode(fast.content, "wav").seconds == pytest.approx(decode(normal.content, "wav").seconds / 2, rel=0.05)


@pytest.mark.parametrize("response_format", ["mp3", "wav", "pcm"])
def test_sdk_streaming_response_gets_audio_in_pieces_over_time(sdk, response_format):
    arrivals, data = [], b""
    # The emulator's pace: 0.5 s of audio (16 tokens) per event, one event every 0.1 s.
    with sdk.audio.speech.with_streaming_response.create(
            model="tts-1", voice="nova", input=f"[emulator tps=160] {SHORT} {SHORT}", response_format=response_format,
            stream_format="audio") as response:
        assert response.headers["content-type"].startswith(
            {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm"}[response_format])
        for chunk in response.iter_bytes():
            arrivals.append(time.monotonic())
            data += chunk
    assert len(arrivals) > 1
    assert arrivals[-1] - arrivals[0] > 0.3
    decoded = decode(data, response_format)
    assert decoded.rate == 24000
    assert decoded.seconds == pytest.approx(8 * 0.35 + 0.4, abs=0.1)


def test_sdk_sse_stream_format(sdk):
    with sdk.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="marin", input=SHORT, response_format="pcm",
            stream_format="sse") as response:
        events = [json.loads(line.removeprefix("data: ")) for line in response.iter_lines() if line]
    assert [e["type"] for e in events][-1] == "speech.audio.done"
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    assert events[-1]["usage"]["output_tokens"] > 0


@pytest.mark.parametrize(("fields", "param"), [
    ({"voice": "bob"}, "voice"),
    ({"response_format": "ogg"}, "response_format"),
    ({"speed": 9.0}, "speed"),
    ({"input": "x" * 4097}, "input"),
])
def test_sdk_bad_fields_are_bad_request_errors(sdk, fields, param):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.speech.create(**{"model": "tts-1", "voice": "alloy", "input": SHORT, **fields})
    assert caught.value.param == param


def test_a_client_that_leaves_stops_gemini_speaking(gateway, emulator_stats):
    aborted = emulator_stats()["streams_aborted"]
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="any-key", max_retries=0, timeout=30)
    with client, client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=f"[emulator tps=32] {LONG}", response_format="pcm",
            stream_format="audio") as response:
        assert next(response.iter_bytes())
    deadline = time.monotonic() + 5
    while emulator_stats()["streams_aborted"] == aborted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emulator_stats()["streams_aborted"] == aborted + 1
