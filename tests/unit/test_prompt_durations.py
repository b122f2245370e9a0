"""How long a prompt plays, as a flow's timing sees it: a recording's or the synthesised
speech's audio measured, resolved as the prompt library resolves it, or estimated from
the words when there is no audio yet, and said to be."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from acd.ivr.timing import Duration
from acd.media.durations import PromptDurations, audio_seconds, estimate_seconds
from acd.media.playables import Recording, Sound, Speech
from acd.media.prompts import PromptLibrary


def write_wav(path: Path, seconds: float, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\0\0" * int(seconds * rate))


@pytest.fixture
def library(tmp_path: Path) -> PromptLibrary:
    return PromptLibrary(tmp_path / "prompts", tmp_path / "cache", ("zh", "en"),
                         espeak="false")


def test_a_recording_is_measured_in_the_callers_language_before_its_words(library):
    write_wav(library.prompts_dir / "zh" / "welcome.wav", 3.5)
    (library.prompts_dir / "en").mkdir()
    (library.prompts_dir / "en" / "welcome.ulaw").write_bytes(b"\xff" * 8000 * 2)
    durations = PromptDurations(library)
    fallback = Speech("欢迎致电云帆科技。", "zh")
    assert durations.duration(Recording("welcome", "zh", fallback)) == Duration(3.5)
    assert durations.duration(Recording("welcome", "en", fallback)) == Duration(2.0)


def test_synthesised_speech_is_measured_from_the_cache(library):
    speech = Speech("正在为您转接人工服务。", "zh")
    write_wav(library.cache_base(speech).with_suffix(".wav"), 3.96)
    durations = PromptDurations(library)
    assert durations.duration(speech) == Duration(3.96)
    assert durations.duration(Recording("operator", "zh", speech)) == Duration(3.96)


def test_words_not_yet_spoken_are_estimated_and_marked_so(library):
    durations = PromptDurations(library)
    found = durations.duration(Recording("welcome", "zh", Speech("欢迎致电云帆科技。", "zh")))
    assert found.estimated and found.seconds == pytest.approx(3.88, abs=1.0)
    assert durations.duration(Sound("beep")).estimated
    assert durations.duration(Recording("nothing", "zh")) == Duration(0.0)  # nothing plays


@pytest.mark.parametrize(("text", "espeak_seconds"), [
    ("欢迎致电云帆科技，通话可能会被录音。", 7.93),
    ("人工服务请按0，产品支持按1，订单查询按2，投诉建议按3。For English, press 9.", 13.71),
    ("For an operator, press 0. Product support, press 1. Orders, press 2. Complaints, "
     "press 3. For Chinese, press 9.", 11.1),
    ("Connecting you to an operator.", 2.07),
])
def test_the_estimate_is_near_what_espeak_ng_takes(text: str, espeak_seconds: float):
    assert estimate_seconds(text) == pytest.approx(espeak_seconds, abs=1.5)
    assert estimate_seconds(text, speed_wpm=300) == pytest.approx(estimate_seconds(text) / 2)
    assert estimate_seconds("  ") == 0.0


def test_headerless_audio_is_measured_by_its_size_and_a_broken_wav_not_at_all(tmp_path):
    (tmp_path / "a.sln").write_bytes(b"\0" * 16000 * 3)
    (tmp_path / "b.gsm").write_bytes(b"\0" * 1650)
    (tmp_path / "c.wav").write_bytes(b"not a wav")
    assert audio_seconds(tmp_path / "a.sln") == 3.0
    assert audio_seconds(tmp_path / "b.gsm") == 1.0
    assert audio_seconds(tmp_path / "c.wav") is None
    assert audio_seconds(tmp_path / "missing.wav") is None
