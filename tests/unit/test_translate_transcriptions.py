"""Transcriptions, pure: srt/vtt/verbose_json rendering (golden), segments made consistent,
the Gemini request, and audio formats sniffed from bytes."""
from __future__ import annotations

import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.media.audio_upload import AudioError, read_audio, sniff
from gemini_proxy.translate import transcriptions as t
from tests.support.audio import encoded, wav_bytes

SEGMENTS = [{"start": 0.0, "end": 1.5, "text": "Hello there."},
            {"start": 1.5, "end": 3723.0456, "text": "A long pause."}]


def test_srt_golden():
    assert t.srt(SEGMENTS) == ("1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n"
                               "2\n00:00:01,500 --> 01:02:03,046\nA long pause.\n\n")


def test_vtt_golden():
    assert t.vtt(SEGMENTS) == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n"
                               "00:00:01.500 --> 01:02:03.046\nA long pause.\n\n")
    assert t.vtt([]) == "WEBVTT\n\n"


def test_verbose_json_golden():
    body = t.verbose_json(t.TRANSCRIBE, "English", 2.0004, SEGMENTS[:1], 0.3, -0.25)
    assert body == {
        "task": "transcribe", "language": "english", "duration": 2.0, "text": "Hello there.",
        "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 1.5, "text": "Hello there.", "tokens": [],
                      "temperature": 0.3, "avg_logprob": -0.25, "compression_ratio": 0.6,
                      "no_speech_prob": 0.0}],
        "usage": {"type": "duration", "seconds": 3}}
    translated = t.verbose_json(t.TRANSLATE, "french", 2.0, [], None, None)
    assert translated["language"] == "english"
    assert "usage" not in translated


def test_segments_are_clamped_ordered_and_cleaned():
    payload = {"language": "german", "segments": [
        {"start": -1, "end": 2, "text": " Eins. "},
        {"start": 1, "end": 0.5, "text": "Zwei."},  # starts before the last ended, ends before it starts
        {"start": "x", "end": None, "text": "Drei."},  # no times: where the last ended
        {"start": 5, "end": 99, "text": "Vier."},  # past the end of the audio
        {"start": 6, "end": 7, "text": "   "},  # empty
        "not a segment",
    ]}
    language, segments = t.segments_from(payload, 8.0)
    assert language == "german"
    assert segments == [{"start": 0.0, "end": 2.0, "text": "Eins."}, {"start": 2.0, "end": 2.0, "text": "Zwei."},
                        {"start": 2.0, "end": 2.0, "text": "Drei."}, {"start": 5.0, "end": 8.0, "text": "Vier."}]


@pytest.mark.parametrize("payload", [None, [], {"segments": "no"}, {"text": "hello"}])
def test_an_answer_without_segments_is_502(payload):
    with pytest.raises(ApiError) as caught:
        t.segments_from(payload, 1.0)
    assert caught.value.status == 502


def test_gemini_request_for_segments_and_for_text():
    body = {"response_format": "vtt", "language": "de", "prompt": "Names: Jürgen.", "temperature": 0.0}
    contents, config = t.gemini_request(t.TRANSCRIBE, body, "audio/wav", b"RIFF", 4.0)
    [inline, text] = contents[0]["parts"]
    assert inline == {"inline_data": {"mime_type": "audio/wav", "data": b"RIFF"}}
    assert "'de'" in text["text"]
    assert "4.00 seconds" in text["text"]
    assert text["text"].endswith("Names: Jürgen.")
    assert config == {"temperature": 0.0, "response_mime_type": "application/json",
                      "response_json_schema": t.SEGMENTS}
    _, plain = t.gemini_request(t.TRANSLATE, {"response_format": "text"}, "audio/mp3", b"", 1.0)
    assert plain == {}


def test_token_usage_from_gemini():
    answer = {"usage_metadata": {"prompt_token_count": 110, "candidates_token_count": 20, "prompt_tokens_details": [
        {"modality": "TEXT", "token_count": 14}, {"modality": "AUDIO", "token_count": 96}]}}
    assert t.token_usage(answer) == {"type": "tokens", "input_tokens": 110, "output_tokens": 20, "total_tokens": 130,
                                     "input_token_details": {"text_tokens": 14, "audio_tokens": 96}}
    assert t.token_usage({}) is None


@pytest.mark.parametrize(("data", "found"), [
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"), (b"fLaC\x00\x00\x00\x22", "flac"), (b"OggS\x00\x02", "ogg"),
    (b"FORM\x00\x00\x00\x00AIFFCOMM", "aiff"), (b"\x00\x00\x00\x1cftypM4A ", "mp4"),
    (b"\x1a\x45\xdf\xa3\x9f", "webm"), (b"ID3\x04\x00", "mp3"), (b"\xff\xfb\x90\x64", "mp3"),
    (b"\xff\xf1\x50\x80", "aac"), (b"hello", None), (b"", None), (b"\xff\xfb\xf0\x00", None),
])
def test_sniffing(data, found):
    assert sniff(data) == found


def test_read_audio_keeps_what_gemini_takes_and_transcodes_the_rest():
    wav = read_audio(wav_bytes(1.5))
    assert (wav.format, wav.mime_type, wav.duration) == ("wav", "audio/wav", 1.5)
    m4a = read_audio(encoded(1.0, "ipod", "aac"))
    assert (m4a.format, m4a.mime_type) == ("mp4", "audio/flac")
    assert sniff(m4a.data) == "flac"
    assert read_audio(m4a.data).duration == pytest.approx(1.0, abs=0.1)
    with pytest.raises(AudioError, match="Invalid file format"):
        read_audio(b"plain text")


@pytest.mark.parametrize(("answer", "status", "code"), [
    ({"prompt_feedback": {"block_reason": "SAFETY"}}, 400, "content_filter"),
    ({"candidates": [{"finish_reason": "PROHIBITED_CONTENT"}]}, 400, "content_filter"),
    ({"candidates": [{"finish_reason": "MAX_TOKENS"}]}, 502, "transcript_truncated"),
])
def test_refused_or_cut_transcripts_are_errors(answer, status, code):
    with pytest.raises(ApiError) as caught:
        t.check_ending(answer)
    assert (caught.value.status, caught.value.code) == (status, code)


@pytest.mark.parametrize("answer", [{"candidates": [{"finish_reason": "STOP"}]}, {"candidates": [{}]}, {}])
def test_finished_transcripts_pass(answer):
    t.check_ending(answer)
