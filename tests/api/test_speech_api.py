"""POST /v1/audio/speech through the Flask test client, with the emulator's TTS models behind the
real SDK: every format decodes, the length follows the text, streams, errors in OpenAI's envelope."""
from __future__ import annotations

import base64
import json

import pytest

from gemini_proxy.media.audio_encoder import CONTENT_TYPES, FORMATS
from tests.support import assert_openai
from tests.support.audio import decode

SHORT = "Hello there, my friend."
LONG = "The quick brown fox jumps over the lazy dog. " * 4


def speak(client, **fields):
    return client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": SHORT, **fields})


def error_of(response, status=400):
    assert response.status_code == status, response.data[:300]
    body = response.get_json()
    assert_openai("ErrorResponse", body)
    return body["error"]


@pytest.mark.parametrize("response_format", FORMATS)
def test_each_format_decodes_and_its_length_follows_the_text(client, response_format):
    short = speak(client, response_format=response_format)
    long = speak(client, response_format=response_format, input=LONG)
    assert short.status_code == 200, short.data[:300]
    assert short.content_type == CONTENT_TYPES[response_format]
    assert short.headers["Content-Length"] == str(len(short.data))
    first, second = decode(short.data, response_format), decode(long.data, response_format)
    assert (first.rate, first.channels) == (24000, 1)
    assert first.seconds == pytest.approx(4 * 0.35 + 0.4, abs=0.1)
    assert second.seconds == pytest.approx(36 * 0.35 + 0.4, abs=0.15)


def test_mp3_is_the_default_and_the_path_without_v1_works(client):
    response = client.post("/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": SHORT})
    assert response.status_code == 200
    assert response.content_type == "audio/mpeg"
    assert decode(response.data, "mp3").rate == 24000


def test_gemini_gets_the_tts_model_voice_and_style_prompt(client, emulator_requests):
    assert speak(client, model="tts-1-hd", voice="onyx", instructions="Say cheerfully").status_code == 200
    [sent] = emulator_requests(1)
    assert sent["model"] == "gemini-2.5-pro-preview-tts"
    assert sent["body"]["contents"] == [{"role": "user", "parts": [{"text": f"Say cheerfully: {SHORT}"}]}]
    config = sent["body"]["generationConfig"]
    assert config["responseModalities"] == ["AUDIO"]
    assert config["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Algenib"


@pytest.mark.parametrize(("voice", "gemini"), [("Puck", "Puck"), ("sulafat", "Sulafat"), ({"id": "coral"}, "Aoede")])
def test_gemini_voice_names_and_the_object_form(client, emulator_requests, voice, gemini):
    assert speak(client, voice=voice, model="gemini-2.5-flash-preview-tts").status_code == 200
    [sent] = emulator_requests(1)
    assert sent["body"]["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == gemini


@pytest.mark.parametrize("speed", [0.5, 2.0])
def test_speed_stretches_the_audio(client, speed):
    normal = decode(speak(client, response_format="wav").data, "wav").seconds
    stretched = decode(speak(client, response_format="wav", speed=speed).data, "wav").seconds
    assert stretched == pytest.approx(normal / speed, rel=0.05)


@pytest.mark.parametrize("response_format", FORMATS)
def test_stream_format_audio_streams_the_encoded_audio(client, response_format):
    response = speak(client, response_format=response_format, stream_format="audio", input=LONG)
    assert response.status_code == 200
    assert response.content_type == CONTENT_TYPES[response_format]
    assert "Content-Length" not in response.headers
    decoded = decode(response.data, response_format)
    assert (decoded.rate, decoded.channels) == (24000, 1)
    assert decoded.seconds == pytest.approx(36 * 0.35 + 0.4, abs=0.15)


def test_stream_format_sse_sends_openai_s_speech_events(client):
    response = speak(client, response_format="pcm", stream_format="sse", input=LONG)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = [json.loads(block.removeprefix("data: ")) for block in response.get_data(as_text=True).split("\n\n")
              if block]
    for event in events:
        assert_openai("CreateSpeechResponseStreamEvent", event)
    *deltas, done = events
    assert len(deltas) > 3
    assert {e["type"] for e in deltas} == {"speech.audio.delta"}
    pcm = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    assert decode(pcm, "pcm").seconds == pytest.approx(36 * 0.35 + 0.4, abs=0.05)
    assert done["type"] == "speech.audio.done"
    usage = done["usage"]
    assert usage["output_tokens"] == pytest.approx(decode(pcm, "pcm").seconds * 32, abs=1)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens"] > 0


@pytest.mark.parametrize(("fields", "param"), [
    ({"voice": "bob"}, "voice"),
    ({"voice": {"id": "voice_1234"}}, "voice"),
    ({"voice": 7}, "voice"),
    ({"response_format": "ogg"}, "response_format"),
    ({"speed": 5}, "speed"),
    ({"speed": "fast"}, "speed"),
    ({"stream_format": "chunks"}, "stream_format"),
    ({"input": "   "}, "input"),
    ({"input": "x" * 4097}, "input"),
    ({"instructions": "x" * 4097}, "instructions"),
    ({"model": "../files"}, "model"),
])
def test_bad_fields_are_400s_naming_the_param(client, fields, param):
    assert error_of(speak(client, **fields))["param"] == param


@pytest.mark.parametrize("missing", ["model", "input", "voice"])
def test_required_fields(client, missing):
    body = {"model": "tts-1", "voice": "alloy", "input": SHORT}
    del body[missing]
    error = error_of(client.post("/v1/audio/speech", json=body))
    assert error["param"] == missing
    assert error["code"] == "missing_required_parameter"


def test_input_limit_is_a_setting(client_with):
    client = client_with(max_speech_input=10)
    assert "at most 10 characters" in error_of(speak(client, input="x" * 11))["message"]
    assert speak(client, input="x" * 10).status_code == 200


def test_a_model_that_cannot_speak_is_gemini_s_400(client):
    error = error_of(speak(client, model="gemini-2.5-flash"))
    assert "response modalities (AUDIO)" in error["message"]


def test_speech_longer_than_the_output_limit_is_a_400_on_input(client_with):
    client = client_with(max_speech_input=20_000)
    error = error_of(speak(client, input="word " * 1500, response_format="pcm"))
    assert (error["param"], error["code"]) == ("input", "speech_too_long")


@pytest.mark.parametrize("stream_format", [None, "audio", "sse"])
def test_gemini_failing_before_the_audio_is_the_request_s_status(client, stream_format):
    fields = {"stream_format": stream_format} if stream_format else {}
    error = error_of(speak(client, input="[emulator fault=503] Hello", **fields), 503)
    assert error["message"]


def test_a_failure_after_the_audio_started_cuts_the_connection(client):
    response = speak(client, input=f"[emulator fault=midstream after=1] {LONG}", stream_format="audio",
                     response_format="pcm")
    assert response.status_code == 200
    with pytest.raises(BrokenPipeError):
        response.get_data()


def test_a_failure_after_sse_started_is_an_error_event(client):
    response = speak(client, input=f"[emulator fault=midstream after=1] {LONG}", stream_format="sse",
                     response_format="pcm")
    last = json.loads(response.get_data(as_text=True).strip().split("\n\n")[-1].removeprefix("data: "))
    assert last["error"]["type"]


def test_the_openapi_document_describes_the_speech_route(client):
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/v1/audio/speech"]["post"]
    assert set(operation["responses"]["200"]["content"]) == {*CONTENT_TYPES.values(), "text/event-stream"}
    request = document["components"]["schemas"]["CreateSpeechRequest"]
    assert set(request["required"]) == {"model", "input", "voice"}
    assert request["properties"]["input"]["maxLength"] == 4096
    assert "tts-1" in request["properties"]["model"]["anyOf"][1]["enum"]
    assert "alloy" in request["properties"]["voice"]["anyOf"][0]["enum"]
