"""POST /v1/audio/transcriptions and /v1/audio/translations through the Flask test client, with
the emulator behind the real SDK (it hears `[emulator hear="..."]` from the prompt)."""
from __future__ import annotations

import io
import json

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gemini_proxy.config_parsing import parse_fallbacks
from tests.support import assert_openai
from tests.support.audio import encoded, wav_bytes

HEARD = "Hello there. How are you today? Fine, thanks."
HEAR = f'[emulator hear="{HEARD}"]'


def post(client, path="/v1/audio/transcriptions", data: bytes | None = None, filename="speech.wav", **fields):
    form = {"model": "whisper-1", **fields}
    form["file"] = (io.BytesIO(wav_bytes(3) if data is None else data), filename)
    return client.post(path, data=form, content_type="multipart/form-data")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/audio/transcriptions"])
def test_json_is_the_transcript_with_token_usage(client, path, emulator_requests):
    response = post(client, path, prompt=HEAR, language="en", temperature="0.2")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert_openai("CreateTranscriptionResponseJson", body)
    assert body["text"] == HEARD
    assert body["usage"]["input_token_details"]["audio_tokens"] == 96  # 3 s at 32 tokens per second
    [sent] = emulator_requests()
    assert sent["model"] == "gemini-2.5-flash"  # whisper-1's alias
    parts = sent["body"]["contents"][0]["parts"]
    assert parts[0]["inlineData"]["mimeType"] == "audio/wav"
    assert "'en'" in parts[1]["text"]
    assert HEAR in parts[1]["text"]
    assert sent["body"]["generationConfig"] == {"temperature": 0.2}


def test_text_is_a_plain_body(client):
    response = post(client, prompt=HEAR, response_format="text")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == HEARD + "\n"


def test_the_transcript_follows_the_audio_when_nothing_is_said(client):
    short = post(client, data=wav_bytes(1)).get_json()["text"]
    long = post(client, data=wav_bytes(8)).get_json()["text"]
    assert len(long.split()) > 4 * len(short.split()) > 0


def test_verbose_json_has_whisper_shape_real_duration_and_ordered_segments(client, emulator_requests):
    response = post(client, data=wav_bytes(4.5), prompt=HEAR, response_format="verbose_json",
                    **{"timestamp_granularities[]": "segment"})
    body = response.get_json()
    assert_openai("CreateTranscriptionResponseVerboseJson", body)
    for segment in body["segments"]:
        assert_openai("TranscriptionSegment", segment)
    assert (body["task"], body["language"], body["duration"]) == ("transcribe", "english", 4.5)
    assert body["text"] == HEARD
    assert [s["id"] for s in body["segments"]] == [0, 1, 2]
    times = [t for s in body["segments"] for t in (s["start"], s["end"])]
    assert times == sorted(times)
    assert times[0] == 0
    assert times[-1] == pytest.approx(4.5)
    assert body["usage"] == {"type": "duration", "seconds": 5}
    config = emulator_requests()[0]["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "segments" in config["responseJsonSchema"]["properties"]


def test_srt_and_vtt(client):
    srt = post(client, prompt=HEAR, response_format="srt")
    assert srt.mimetype == "text/plain"
    assert srt.get_data(as_text=True) == (
        "1\n00:00:00,000 --> 00:00:00,837\nHello there.\n\n"
        "2\n00:00:00,837 --> 00:00:02,093\nHow are you today?\n\n"
        "3\n00:00:02,093 --> 00:00:03,000\nFine, thanks.\n\n")
    vtt = post(client, prompt=HEAR, response_format="vtt")
    assert vtt.mimetype == "text/vtt"
    assert vtt.get_data(as_text=True).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.837\nHello there.\n\n")


@pytest.mark.parametrize(("container", "codec", "filename", "sent_as"), [
    ("mp3", "libmp3lame", "a.mp3", "audio/mp3"),
    ("flac", "flac", "a.flac", "audio/flac"),
    ("ogg", "libopus", "a.ogg", "audio/ogg"),
    ("ipod", "aac", "a.m4a", "audio/flac"),  # transcoded: Gemini takes no m4a
    ("webm", "libopus", "a.webm", "audio/flac"),
    ("mp3", "libmp3lame", "misnamed.wav", "audio/mp3"),  # the bytes decide, not the name
])
def test_formats_are_sniffed_and_sent_as_gemini_takes_them(client, emulator_requests, container, codec, filename,
                                                           sent_as):
    response = post(client, data=encoded(2, container, codec), filename=filename, response_format="verbose_json",
                    prompt=HEAR)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["duration"] == pytest.approx(2, abs=0.1)
    assert emulator_requests()[0]["body"]["contents"][0]["parts"][0]["inlineData"]["mimeType"] == sent_as


def test_translations_are_english(client, emulator_requests):
    response = post(client, "/v1/audio/translations", prompt=HEAR, response_format="verbose_json")
    body = response.get_json()
    assert_openai("CreateTranslationResponseVerboseJson", body)
    assert (body["task"], body["language"], body["text"]) == ("translate", "english", HEARD)
    assert "into English" in emulator_requests()[0]["body"]["contents"][0]["parts"][1]["text"]
    plain = post(client, "/audio/translations", prompt=HEAR)
    assert plain.get_json() == {"text": HEARD}


def test_stream_sends_deltas_then_done(client):
    response = post(client, model="gpt-4o-transcribe", prompt=HEAR, stream="true")
    assert response.mimetype == "text/event-stream"
    events = [json.loads(line[6:]) for line in response.get_data(as_text=True).splitlines()
              if line.startswith("data: {")]
    *deltas, done = events
    for event in deltas:
        assert_openai("TranscriptTextDeltaEvent", event)
    assert_openai("TranscriptTextDoneEvent", done)
    assert "".join(e["delta"] for e in deltas) == done["text"] == HEARD


@pytest.mark.parametrize(("fields", "param"), [
    ({"response_format": "diarized_json"}, "response_format"),
    ({"timestamp_granularities[]": "word", "response_format": "verbose_json"}, "timestamp_granularities"),
    ({"timestamp_granularities[]": "segment"}, "timestamp_granularities"),
    ({"include[]": "logprobs"}, "include"),
    ({"temperature": "hot"}, "temperature"),
    ({"temperature": "1.5"}, "temperature"),
    ({"language": "english please"}, "language"),
    ({"stream": "true", "response_format": "srt"}, "stream"),
    ({"model": "../files"}, "model"),
])
def test_bad_fields_are_400_naming_them(client, fields, param):
    assert error_of(post(client, **fields), 400)["param"] == param


def test_missing_file_and_model(client):
    missing = client.post("/v1/audio/transcriptions", data={"model": "whisper-1"}, content_type="multipart/form-data")
    assert error_of(missing, 400)["param"] == "file"
    no_model = client.post("/v1/audio/transcriptions", data={"file": (io.BytesIO(wav_bytes(1)), "a.wav")},
                           content_type="multipart/form-data")
    assert error_of(no_model, 400)["param"] == "model"
    as_json = client.post("/v1/audio/transcriptions", json={"model": "whisper-1"})
    assert error_of(as_json, 400)["param"] == "file"


def test_a_file_that_is_no_audio_is_400_naming_file(client):
    error = error_of(post(client, data=b"just some text, not audio" * 10, filename="a.wav"), 400)
    assert error["param"] == "file"
    assert "Invalid file format" in error["message"]
    broken = error_of(post(client, data=b"RIFF\x00\x00\x00\x00WAVEjunk" * 4), 400)
    assert broken["param"] == "file"


def test_too_large_is_413_naming_file(client_with):
    client = client_with(max_audio_bytes=50_000)
    error = error_of(post(client, data=wav_bytes(2)), 413)
    assert (error["param"], error["code"]) == ("file", "file_too_large")
    body_limit = client_with(max_body_bytes=40_000)
    assert error_of(post(body_limit, data=wav_bytes(2)), 413)["param"] == "file"


def test_unknown_model_is_openai_404(client):
    error = error_of(post(client, model="no-such-model"), 404)
    assert error["param"] == "model"


def test_log_prompts_leaves_the_upload_readable(client_with):
    client = client_with(log_prompts=True)
    assert post(client, prompt=HEAR).get_json()["text"] == HEARD


def test_the_openapi_document_describes_the_answers(client):
    document = client.get("/openapi.json").get_json()
    registry = Registry().with_resource("urn:doc", Resource.from_contents(document, default_specification=DRAFT202012))
    operation = document["paths"]["/v1/audio/transcriptions"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    for response_format in ("json", "verbose_json"):
        body = post(client, prompt=HEAR, response_format=response_format).get_json()
        validator = Draft202012Validator(
            {"$ref": "urn:doc#/paths/~1v1~1audio~1transcriptions/post/responses/200/content/application~1json/schema"},
            registry=registry)
        assert list(validator.iter_errors(body)) == []


@pytest.mark.parametrize(("directive", "status", "code"), [
    ("[emulator fault=block]", 400, "content_filter"),
    ("[emulator finish=SAFETY]", 400, "content_filter"),
    ("[emulator finish=MAX_TOKENS after=1]", 502, "transcript_truncated"),
])
def test_refused_or_cut_transcripts_are_errors(client, directive, status, code):
    assert error_of(post(client, prompt=directive), status)["code"] == code
    streamed = post(client, prompt=directive, stream="true").get_data(as_text=True)
    events = [json.loads(line[6:]) for line in streamed.splitlines() if line.startswith("data: {")]
    assert events[-1]["error"]["code"] == code


def test_an_overloaded_model_falls_back(client_with):
    client = client_with(model_fallbacks=parse_fallbacks("gemini-2.5-flash>gemini-2.5-pro"))
    response = post(client, prompt=f"{HEAR} [emulator fault=503 model=gemini-2.5-flash]")
    assert response.get_json()["text"] == HEARD
    assert response.headers["x-gemini-model"] == "gemini-2.5-pro"


def test_client_keys_apply(client_with):
    client = client_with(gateway_api_keys="sk-audio team")
    assert error_of(post(client, prompt=HEAR), 401)["code"] == "invalid_api_key"
    form = {"model": "whisper-1", "prompt": HEAR, "file": (io.BytesIO(wav_bytes(1)), "a.wav")}
    response = client.post("/v1/audio/transcriptions", data=form, content_type="multipart/form-data",
                           headers={"Authorization": "Bearer sk-audio"})
    assert response.get_json()["text"] == HEARD
