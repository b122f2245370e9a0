"""Prompt resolution: what to play -> absolute file path without extension.

Recordings live in ``<prompts>/<lang>/<name>.<ext>``. When a recording is
missing but its text is known, the text is synthesised with espeak-ng,
converted to 8 kHz mono 16-bit WAV (the native rate of telephone audio, so
Asterisk never resamples) and cached under a key derived from text + voice.
Asterisk's STREAM FILE wants paths without the extension; it picks the format.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from acd.media.playables import Playable, Sound, Speech

log = logging.getLogger(__name__)

# Formats Asterisk can stream from a file; the first one found wins.
RECORDING_EXTENSIONS = (".wav", ".sln", ".ulaw", ".alaw", ".gsm", ".g722")
DEFAULT_VOICES: Mapping[str, str] = {"zh": "cmn", "en": "en"}
SAMPLE_RATE = 8000


class SynthesisError(Exception):
    """espeak-ng or the WAV conversion failed."""


class PromptLibrary:
    """Finds recordings, synthesises and caches speech; resolves prompts to paths."""

    def __init__(
        self,
        prompts_dir: str | Path,
        cache_dir: str | Path,
        languages: Sequence[str] = ("zh", "en"),
        voices: Mapping[str, str] | None = None,
        espeak: str = "espeak-ng",
        speed_wpm: int = 150,
    ) -> None:
        if not languages:
            raise ValueError("at least one prompt language is needed")
        self.prompts_dir = Path(prompts_dir).resolve()
        self.cache_dir = Path(cache_dir).resolve()
        self.languages = tuple(languages)
        self.voices = dict(DEFAULT_VOICES if voices is None else voices)
        missing = [lang for lang in self.languages if lang not in self.voices]
        if missing:
            raise ValueError(f"no espeak-ng voice configured for language(s) {missing}")
        self._espeak = espeak
        self._speed = speed_wpm
        self._inflight: dict[Path, asyncio.Future[Path]] = {}
        self.synthesis_count = 0  # espeak-ng runs, for tests and statistics

    @property
    def default_lang(self) -> str:
        return self.languages[0]

    @property
    def speed_wpm(self) -> int:
        """espeak-ng's speed, in its words a minute."""
        return self._speed

    # -- recordings ---------------------------------------------------------

    def find_recording(self, name: str, lang: str) -> Path | None:
        """The recording's path without extension, or None."""
        base = (self.prompts_dir / lang / name).resolve()
        if not base.is_relative_to(self.prompts_dir):
            return None  # '../' in a name must not reach outside the prompts folder
        for ext in RECORDING_EXTENSIONS:
            if base.with_name(base.name + ext).is_file():
                return base
        return None

    def has_recording(self, name: str, lang: str | None = None) -> bool:
        langs = self.languages if lang is None else (lang,)
        return any(self.find_recording(name, one) for one in langs)

    # -- speech ---------------------------------------------------------------

    def cache_base(self, speech: Speech) -> Path:
        """Where a text's audio is cached: named by a hash, in a folder named by a
        configured language only, so no text or language from a user can name a file
        outside the cache."""
        lang = speech.lang if speech.lang in self.languages else self.default_lang
        voice = self._voice(lang)
        key = hashlib.sha256(f"{voice}\0{self._speed}\0{speech.text}".encode()).hexdigest()
        return self.cache_dir / lang / key[:32]

    def is_cached(self, speech: Speech) -> bool:
        return self.cache_base(speech).with_suffix(".wav").is_file()

    async def synthesise(self, speech: Speech) -> Path:
        """Path (without extension) of the cached 8 kHz WAV for this text."""
        base = self.cache_base(speech)
        if base.with_suffix(".wav").is_file():
            return base
        pending = self._inflight.get(base)
        if pending is not None:  # another call is synthesising the same text
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._inflight[base] = future
        try:
            await self._synthesise_to(speech, base)
            future.set_result(base)
            return base
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: nobody else may be waiting
            raise
        finally:
            del self._inflight[base]

    async def _synthesise_to(self, speech: Speech, base: Path) -> None:
        base.parent.mkdir(parents=True, exist_ok=True)
        fd, raw_name = tempfile.mkstemp(suffix=".raw.wav", dir=base.parent)
        os.close(fd)
        raw = Path(raw_name)
        try:
            proc = await asyncio.create_subprocess_exec(
                self._espeak, "-v", self._voice(speech.lang), "-s", str(self._speed),
                "-w", str(raw), "--stdin",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await proc.communicate(speech.text.encode("utf-8"))
            if proc.returncode != 0:
                raise SynthesisError(
                    f"espeak-ng exited {proc.returncode}: {err.decode(errors='replace').strip()}"
                )
            self.synthesis_count += 1
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, _convert_to_telephone_wav, raw, base)
        finally:
            raw.unlink(missing_ok=True)

    def _voice(self, lang: str) -> str:
        return self.voices.get(lang, self.voices[self.default_lang])

    # -- resolution -------------------------------------------------------------

    async def path(self, prompt: Playable) -> str | None:
        """Absolute path without extension (or a sound name); None if unplayable."""
        if isinstance(prompt, Sound):
            return prompt.name
        if isinstance(prompt, Speech):
            return str(await self.synthesise(prompt))
        found = self.find_recording(prompt.name, prompt.lang)
        if found is not None:
            return str(found)
        if prompt.fallback is not None:
            return str(await self.synthesise(prompt.fallback))
        found = self.find_recording(prompt.name, self.default_lang)
        if found is not None:
            return str(found)
        log.warning("prompt %r has no recording for %s nor text; skipped", prompt.name, prompt.lang)
        return None

    async def paths(self, prompts: Iterable[Playable]) -> list[str]:
        """Resolve prompts in order; one that fails is logged and skipped, not fatal."""
        result: list[str] = []
        for prompt in prompts:
            try:
                found = await self.path(prompt)
            except (SynthesisError, OSError) as exc:
                # the text may hold a caller's digits: name the prompt, not its words
                log.error("cannot synthesise a %s prompt (%s): %s", type(prompt).__name__,
                          getattr(prompt, "lang", "?"), exc)
                continue
            if found is not None:
                result.append(found)
        return result

    async def prepare_all(self, speeches: Iterable[Speech]) -> int:
        """Synthesise every text not yet cached, logging progress; returns how many."""
        todo = sorted({s for s in speeches if not self.is_cached(s)}, key=_speech_key)
        for done, speech in enumerate(todo, start=1):
            await self.synthesise(speech)
            log.info("synthesised prompt %d/%d [%s] %s", done, len(todo), speech.lang,
                     _shorten(speech.text))
        return len(todo)


def _convert_to_telephone_wav(source: Path, base: Path) -> None:
    with warnings.catch_warnings():  # pydub imports audioop, deprecated in 3.11
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment  # slow: off the loop

    audio = AudioSegment.from_wav(str(source))
    audio = audio.set_frame_rate(SAMPLE_RATE).set_channels(1).set_sample_width(2)
    tmp = base.with_suffix(".part.wav")
    audio.export(str(tmp), format="wav")
    tmp.replace(base.with_suffix(".wav"))  # atomic: a reader never sees half a file


def _speech_key(speech: Speech) -> tuple[str, str]:
    return (speech.lang, speech.text)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
