"""Audio understanding in the emulator: Gemini's audio formats and 20 MB inline limit, and a
transcript whose length and segment times follow the audio's duration."""
from __future__ import annotations

import itertools
import json

import pytest
import requests
from google.genai import errors, types
from jsonschema import Draft202012Validator

from gemini_emulator.audio import Hearing, duration_of
from gemini_emulator.output_format import ResponseFormat
from tests.support.audio import encoded, wav_bytes

SEGMENTS = {"type": "object", "properties": {
    "language": {"type": "string"},
    "segments": {"type": "array", "items": {"type": "object", "properties": {
        "start": {"type": "number"}, "end": {"type": "number"}, "text": {"type": "string"}},
        "required": ["start", "end", "text"]}}},
    "required": ["segments"]}


def audio_part(data: bytes, mime: str = "audio/wav") -> types.Part:
    return types.Part.from_bytes(data=data, mime_type=mime)


def ask(client, data: bytes, prompt: str = "Generate a transcript of the speech.", mime: str = "audio/wav",
        **config) -> str:
    answer = client.models.generate_content(model="gemini-2.5-flash", contents=[audio_part(data, mime), prompt],
                                            config=types.GenerateContentConfig(**config))
    return answer.text


def test_durations_are_read_from_wav_and_flac_headers():
    assert duration_of("audio/wav", wav_bytes(2.5)) == pytest.approx(2.5)
    assert duration_of("audio/flac", encoded(1.5, "flac", "flac")) == pytest.approx(1.5)
    assert duration_of("audio/mp3", b"x" * 32_000) == 2.0  # estimated at 128 kbit/s


def test_the_transcript_follows_the_audio_and_its_duration(client):
    short, long = ask(client, wav_bytes(1)), ask(client, wav_bytes(6))
    assert short
    assert len(long.split()) > 3 * len(short.split())
    assert ask(client, wav_bytes(1)) == short  # the same audio is heard the same
    assert "I received" not in long


def test_a_hear_directive_sets_the_transcript_and_usage_counts_audio_seconds(client):
    answer = client.models.generate_content(model="gemini-2.5-flash", contents=[
        audio_part(wav_bytes(2)), '[emulator hear="Hello there. How are you?"] Transcribe this audio.'])
    assert answer.text == "Hello there. How are you?"
    audio = [d for d in answer.usage_metadata.prompt_tokens_details if d.modality == types.MediaModality.AUDIO]
    assert audio[0].token_count == 64


def test_without_a_transcript_request_the_audio_is_acknowledged_as_before(client):
    assert ask(client, wav_bytes(1), "What is this?").startswith("I received an audio/wav of 32044 bytes.")


def test_json_segments_follow_the_schema_with_increasing_times_within_the_duration(client):
    text = ask(client, wav_bytes(5), '[emulator hear="One two. Three four five six. Seven."] Transcribe it.',
               response_mime_type="application/json", response_json_schema=SEGMENTS)
    value = json.loads(text)
    Draft202012Validator(SEGMENTS).validate(value)
    segments = value["segments"]
    assert [s["text"] for s in segments] == ["One two.", "Three four five six.", "Seven."]
    assert segments[0]["start"] == 0
    assert segments[-1]["end"] == pytest.approx(5)
    for before, after in itertools.pairwise(segments):
        assert before["start"] < before["end"] == after["start"] < after["end"]


def test_times_as_strings_and_integers():
    hearing = Hearing("A b. C d.", 75.5)
    schema = {"type": "array", "items": {"type": "object", "properties": {
        "startTime": {"type": "string"}, "end_seconds": {"type": "integer"}, "speaker": {"type": "string"}}}}
    items = json.loads(hearing.render(ResponseFormat("application/json", schema), 1))
    assert [i["startTime"] for i in items] == ["00:00.000", "00:37.750"]
    assert [i["end_seconds"] for i in items] == [37, 75]
    assert all(isinstance(i["speaker"], str) for i in items)


@pytest.mark.parametrize("mime", ["audio/x-m4a", "audio/midi", "audio/3gpp"])
def test_audio_formats_gemini_does_not_take_are_400(client, mime):
    with pytest.raises(errors.ClientError) as caught:
        ask(client, b"\x00" * 100, mime=mime)
    assert caught.value.code == 400
    assert f"Unsupported MIME type: {mime}" in caught.value.message


def test_inline_data_over_20_mb_is_400(client):
    with pytest.raises(errors.ClientError) as caught:
        ask(client, b"\x00" * (15 * 1024 * 1024 + 4))
    assert caught.value.code == 400
    assert caught.value.message == "Request payload size exceeds the limit: 20971520 bytes."


def test_bad_base64_is_400(server):
    body = {"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "audio/wav", "data": "!!!"}},
                                                    {"text": "Transcribe"}]}]}
    answer = requests.post(f"{server.url}/v1beta/models/gemini-2.5-flash:generateContent", json=body,
                           headers={"x-goog-api-key": "k"}, timeout=10)
    assert answer.status_code == 400
    assert "Base64 decoding failed" in answer.json()["error"]["message"]
