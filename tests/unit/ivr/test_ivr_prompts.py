"""Prompt resolution: recordings first, else espeak-ng speech cached as 8 kHz mono WAV."""

from __future__ import annotations

import asyncio
import logging
import wave
from pathlib import Path

import pytest

from acd.media.playables import Recording, Sound, Speech
from acd.media.prompts import PromptLibrary


@pytest.fixture
def library(tmp_path: Path) -> PromptLibrary:
    (tmp_path / "prompts" / "zh").mkdir(parents=True)
    (tmp_path / "prompts" / "en").mkdir()
    (tmp_path / "prompts" / "zh" / "welcome.wav").write_bytes(b"RIFF")
    return PromptLibrary(tmp_path / "prompts", tmp_path / "cache")


def wav_format(base: str) -> tuple[int, int, int, float]:
    with wave.open(base + ".wav") as wav:
        seconds = wav.getnframes() / wav.getframerate()
        return wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), seconds


@pytest.mark.parametrize(("text", "lang"), [("欢迎致电技术支持热线", "zh"),
                                            ("Welcome to technical support", "en")])
async def test_text_is_synthesised_to_8khz_mono_16bit_wav_and_cached(
    library: PromptLibrary, text: str, lang: str
):
    [path] = await library.paths([Speech(text, lang)])
    assert Path(path).is_absolute() and not path.endswith(".wav")
    rate, channels, width, seconds = wav_format(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert seconds > 0.8
    assert library.synthesis_count == 1
    assert await library.paths([Speech(text, lang)]) == [path]
    assert library.synthesis_count == 1  # the second time comes from the cache


async def test_voice_is_part_of_the_cache_key(library: PromptLibrary):
    zh = await library.synthesise(Speech("123", "zh"))
    en = await library.synthesise(Speech("123", "en"))
    assert zh != en


async def test_concurrent_requests_for_the_same_text_synthesise_once(library: PromptLibrary):
    speech = Speech("请稍候", "zh")
    paths = await asyncio.gather(*(library.synthesise(speech) for _ in range(5)))
    assert len(set(paths)) == 1
    assert library.synthesis_count == 1


async def test_recording_wins_over_text_and_falls_back_to_it_when_missing(
    library: PromptLibrary,
):
    recorded = await library.path(Recording("welcome", "zh", Speech("欢迎", "zh")))
    assert recorded == str(library.prompts_dir / "zh" / "welcome")
    spoken = await library.path(Recording("welcome", "en", Speech("Welcome", "en")))
    assert spoken is not None and spoken.startswith(str(library.cache_dir))
    # no English recording and no text: the default language's recording
    assert await library.path(Recording("welcome", "en")) == recorded
    assert await library.path(Sound("digits/1")) == "digits/1"


async def test_unplayable_prompts_are_skipped_not_fatal(library: PromptLibrary):
    assert await library.paths([Recording("missing", "zh"), Recording("../../etc/passwd", "zh"),
                                Sound("beep")]) == ["beep"]


async def test_failed_synthesis_is_logged_and_skipped(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture):
    library = PromptLibrary(tmp_path, tmp_path / "cache", espeak="false")
    assert await library.paths([Speech("你好", "zh"), Sound("beep")]) == ["beep"]
    assert "cannot synthesise" in caplog.text


async def test_prepare_all_synthesises_what_is_missing_with_progress(
    library: PromptLibrary, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="acd.media.prompts")
    speeches = [Speech("一", "zh"), Speech("two", "en"), Speech("一", "zh")]
    assert await library.prepare_all(speeches) == 2
    assert "synthesised prompt 2/2" in caplog.text
    assert await library.prepare_all(speeches) == 0
