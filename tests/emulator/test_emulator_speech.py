"""The emulator's TTS models (gemini_emulator/speech.py) through the real google-genai SDK and raw REST:
PCM whose length follows the text, voices, two speakers, refusals, streaming."""
from __future__ import annotations

import base64

import pytest
import requests
from google.genai import errors, types

from gemini_emulator.speech import RATE, VOICES, WORD_SECONDS, synthesize

pytestmark = pytest.mark.e2e

TTS = "gemini-2.5-flash-preview-tts"


def speech_config(voice: str = "Kore") -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_modalities=["AUDIO"], speech_config=types.SpeechConfig(
        voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))))


def seconds(pcm: bytes, rate: int = RATE) -> float:
    return len(pcm) / 2 / rate


def test_sdk_gets_pcm_whose_length_follows_the_text(client):
    short = client.models.generate_content(model=TTS, contents="Hello there.", config=speech_config())
    long = client.models.generate_content(model=TTS, contents="Hello there. " * 10, config=speech_config())
    [part] = short.candidates[0].content.parts
    assert part.inline_data.mime_type == "audio/L16;codec=pcm;rate=24000"
    pcm, long_pcm = part.inline_data.data, long.candidates[0].content.parts[0].inline_data.data
    assert seconds(pcm) == pytest.approx(2 * WORD_SECONDS + 0.4, abs=0.01)
    assert seconds(long_pcm) == pytest.approx(20 * WORD_SECONDS + 0.4, abs=0.01)
    assert max(abs(int.from_bytes(pcm[i:i + 2], "little", signed=True)) for i in range(0, len(pcm), 2)) > 1000
    usage = long.usage_metadata
    assert usage.candidates_tokens_details[0].modality == types.MediaModality.AUDIO
    assert usage.candidates_token_count == pytest.approx(seconds(long_pcm) * 32, abs=1)
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert short.candidates[0].finish_reason == types.FinishReason.STOP


def test_voices_sound_different_and_are_deterministic():
    assert synthesize("one two", {None: "Puck"}) != synthesize("one two", {None: "Kore"})
    assert synthesize("one two", {None: "Puck"}) == synthesize("one two", {None: "Puck"})
    assert len(VOICES) == 30


def test_camel_and_snake_speech_config_both_work(server):
    for voice_config in ({"prebuiltVoiceConfig": {"voiceName": "Puck"}},
                         {"prebuilt_voice_config": {"voice_name": "puck"}}):
        body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "generationConfig": {
            "responseModalities": ["AUDIO"], "speechConfig": {"voiceConfig": voice_config}}}
        answer = requests.post(f"{server.url}/v1beta/models/{TTS}:generateContent", json=body,
                               headers={"x-goog-api-key": "k"}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert base64.b64decode(answer.json()["candidates"][0]["content"]["parts"][0]["inlineData"]["data"]) == \
            synthesize("Hi", {None: "Puck"})


def test_unknown_voice_is_invalid_argument(client):
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=TTS, contents="Hi", config=speech_config("Nobody"))
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert "Nobody" in caught.value.message


def test_two_speakers_each_in_their_voice(client):
    def speaker(name, voice):
        return types.SpeakerVoiceConfig(speaker=name, voice_config=types.VoiceConfig(
            prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice)))
    config = types.GenerateContentConfig(response_modalities=["AUDIO"], speech_config=types.SpeechConfig(
        multi_speaker_voice_config=types.MultiSpeakerVoiceConfig(
            speaker_voice_configs=[speaker("Joe", "Puck"), speaker("Jane", "Kore")])))
    answer = client.models.generate_content(model=TTS, contents="Joe: Hi Jane\nJane: Hi Joe", config=config)
    pcm = answer.candidates[0].content.parts[0].inline_data.data
    assert pcm == synthesize("Joe: Hi Jane\nJane: Hi Joe", {None: "Puck", "Joe": "Puck", "Jane": "Kore"})
    config.speech_config.multi_speaker_voice_config.speaker_voice_configs.append(speaker("Jim", "Orus"))
    with pytest.raises(errors.ClientError, match="exactly 2"):
        client.models.generate_content(model=TTS, contents="Joe: Hi", config=config)


def test_modalities_refused_in_gemini_s_words(client):
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=TTS, contents="Hi")
    assert caught.value.message == (
        "The requested combination of response modalities is not supported by the model. "
        f"models/{TTS} accepts the following combination of response modalities:\n* AUDIO\n")
    with pytest.raises(errors.ClientError, match=r"modalities \(TEXT\)"):
        client.models.generate_content(model=TTS, contents="Hi",
                                       config=types.GenerateContentConfig(response_modalities=["TEXT"]))
    with pytest.raises(errors.ClientError, match=r"\(AUDIO\).*gemini-2.5-flash accepts.*\* TEXT"):
        client.models.generate_content(model="gemini-2.5-flash", contents="Hi", config=speech_config())


def test_gemini_3_1_tts_needs_a_voice_and_no_system_instruction(client):
    model = "gemini-3.1-flash-tts-preview"
    with pytest.raises(errors.ClientError, match="invalid argument"):
        client.models.generate_content(model=model, contents="Hi",
                                       config=types.GenerateContentConfig(response_modalities=["AUDIO"]))
    config = speech_config()
    config.system_instruction = "Be cheerful"
    with pytest.raises(errors.ClientError, match="Developer instruction"):
        client.models.generate_content(model=model, contents="Hi", config=config)
    assert client.models.generate_content(model=model, contents="Hi", config=speech_config()).candidates


def test_output_limit_cuts_the_audio(client):
    config = speech_config()
    config.max_output_tokens = 64  # two seconds
    answer = client.models.generate_content(model=TTS, contents="word " * 50, config=config)
    assert answer.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert seconds(answer.candidates[0].content.parts[0].inline_data.data) == pytest.approx(2.0, abs=0.01)


def test_stream_sends_the_same_audio_in_several_chunks(client):
    text = "The quick brown fox jumps over the lazy dog."
    whole = client.models.generate_content(model=TTS, contents=text, config=speech_config())
    chunks = list(client.models.generate_content_stream(model=TTS, contents=text, config=speech_config()))
    assert len(chunks) > 3
    pcm = b"".join(chunk.candidates[0].content.parts[0].inline_data.data for chunk in chunks)
    assert pcm == whole.candidates[0].content.parts[0].inline_data.data
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(chunk.candidates[0].finish_reason is None for chunk in chunks[:-1])
    assert chunks[-1].usage_metadata.candidates_token_count == whole.usage_metadata.candidates_token_count


def test_tts_models_are_listed_with_their_methods(client):
    model = client.models.get(model=TTS)
    assert sorted(model.supported_actions) == ["countTokens", "generateContent"]
