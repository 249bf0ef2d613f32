"""Transcriptions and translations as users run them: gunicorn + the emulator process, the
official openai SDK uploading audio made at test time."""
from __future__ import annotations

import re

import openai
import pytest

from tests.support.audio import encoded, wav_bytes

pytestmark = pytest.mark.e2e

SECONDS = 3.5
HEARD = "Good morning everyone. The meeting starts now. Please take a seat."
PROMPT = f'[emulator hear="{HEARD}"]'
_CUE = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)")


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "speech.wav"
    path.write_bytes(wav_bytes(SECONDS))
    return path


def cue_times(text: str) -> list[float]:
    times = []
    for match in _CUE.finditer(text):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
        times += [h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000]
    return times


def assert_timed(times: list[float]) -> None:
    assert len(times) == 6  # three sentences, a start and an end each
    assert times == sorted(times)
    assert times[0] == 0
    assert times[-1] == pytest.approx(SECONDS, abs=0.001)


def test_json_and_text(sdk, wav):
    with wav.open("rb") as file:
        result = sdk.audio.transcriptions.create(model="whisper-1", file=file, prompt=PROMPT, language="en")
    assert result.text == HEARD
    assert result.usage.input_token_details.audio_tokens == 112  # 3.5 s at Gemini's 32 tokens per second
    text = sdk.audio.transcriptions.create(model="gpt-4o-transcribe", file=wav, prompt=PROMPT,
                                           response_format="text")
    assert text.strip() == HEARD


@pytest.mark.parametrize("response_format", ["srt", "vtt"])
def test_srt_and_vtt_cues_increase_within_the_real_duration(sdk, wav, response_format):
    text = sdk.audio.transcriptions.create(model="whisper-1", file=wav, prompt=PROMPT,
                                           response_format=response_format)
    assert isinstance(text, str)
    assert text.startswith("WEBVTT\n\n" if response_format == "vtt" else "1\n")
    assert_timed(cue_times(text))
    assert "The meeting starts now." in text


def test_verbose_json(sdk, wav):
    result = sdk.audio.transcriptions.create(model="whisper-1", file=wav, prompt=PROMPT,
                                             response_format="verbose_json", timestamp_granularities=["segment"])
    assert result.duration == SECONDS
    assert result.language == "english"
    assert result.text == HEARD
    assert_timed([t for segment in result.segments for t in (segment.start, segment.end)])


def test_an_m4a_file_is_transcoded(sdk, tmp_path):
    path = tmp_path / "voice.m4a"
    path.write_bytes(encoded(2, "ipod", "aac"))
    result = sdk.audio.transcriptions.create(model="whisper-1", file=path, response_format="verbose_json")
    assert result.duration == pytest.approx(2, abs=0.1)
    assert result.text


def test_stream(sdk, wav):
    events = list(sdk.audio.transcriptions.create(model="gpt-4o-transcribe", file=wav, prompt=PROMPT, stream=True))
    assert [e.type for e in events][-1] == "transcript.text.done"
    assert "".join(e.delta for e in events[:-1]) == events[-1].text == HEARD


@pytest.mark.parametrize("response_format", ["json", "srt", "verbose_json"])
def test_translations(sdk, wav, response_format):
    with pytest.warns(DeprecationWarning, match="deprecated"):  # the openai SDK marks translations.create deprecated
        result = sdk.audio.translations.create(model="whisper-1", file=wav, prompt=PROMPT,
                                               response_format=response_format)
    if response_format == "srt":
        assert_timed(cue_times(result))
    else:
        assert result.text == HEARD


def test_errors_are_openai_errors_with_param(sdk, wav, tmp_path):
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("these are notes, not audio " * 20)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.transcriptions.create(model="whisper-1", file=not_audio)
    assert caught.value.body["param"] == "file"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.transcriptions.create(model="whisper-1", file=wav, timestamp_granularities=["word"],
                                        response_format="verbose_json")
    assert caught.value.body["param"] == "timestamp_granularities"
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.audio.transcriptions.create(model="no-such-model", file=wav)
    assert caught.value.body["param"] == "model"
    big = tmp_path / "big.wav"
    big.write_bytes(wav_bytes(500))  # 16 MB: over MAX_AUDIO_BYTES, under MAX_BODY_BYTES
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.audio.transcriptions.create(model="whisper-1", file=big)
    assert caught.value.status_code == 413
    assert caught.value.body["param"] == "file"
