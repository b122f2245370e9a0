"""How long prompts last, for timing a flow (acd.ivr.timing): the audio a caller would
hear, measured, resolved as the prompt library resolves it (the recording in the
caller's language, else the spoken text, else the default language's recording).

Spoken text is measured from the synthesised file in the prompt cache. Text not yet
synthesised (espeak-ng missing, or words with variables in them) and Asterisk's own
sounds are estimated, and said to be: espeak-ng's Mandarin voice speaks about 0.39 s a
character at 150 words a minute, its English voice 0.27 s a word, 0.35 s a digit, and
pauses 0.5 s at punctuation (fitted on the shipped flow's 45 texts; within 1.4 s).
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

from acd.ivr.timing import Duration
from acd.media.playables import Playable, Sound, Speech
from acd.media.prompts import RECORDING_EXTENSIONS, PromptLibrary

#: bytes a second of the headerless formats Asterisk plays (8 kHz telephone audio)
BYTES_A_SECOND = {".sln": 16000, ".ulaw": 8000, ".alaw": 8000, ".gsm": 1650, ".g722": 8000}
#: what one of Asterisk's own sounds (`beep`, `digits/1`) is counted as
SOUND_SECONDS = 1.0

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_\u3400-\u9fff\uf900-\ufaff]+")
_DIGIT = re.compile(r"\d")
_PAUSE = re.compile(r"[,.;:!?，。；：！？、]")


class PromptDurations:
    """acd.ivr.timing's PromptDurations from the prompt library's files."""

    def __init__(self, library: PromptLibrary) -> None:
        self.library = library

    def duration(self, prompt: Playable) -> Duration:
        if isinstance(prompt, Sound):
            return Duration(SOUND_SECONDS, estimated=True)
        if isinstance(prompt, Speech):
            return self._spoken(prompt)
        measured = self._recorded(prompt.name, prompt.lang)
        if measured is not None:
            return measured
        if prompt.fallback is not None:
            return self._spoken(prompt.fallback)
        return self._recorded(prompt.name, self.library.default_lang) or Duration(0.0)

    def _recorded(self, name: str, lang: str) -> Duration | None:
        base = self.library.find_recording(name, lang)
        if base is None:
            return None
        for ext in RECORDING_EXTENSIONS:
            seconds = audio_seconds(base.with_name(base.name + ext))
            if seconds is not None:
                return Duration(seconds)
        return Duration(SOUND_SECONDS, estimated=True)  # there, but not a length we read

    def _spoken(self, speech: Speech) -> Duration:
        seconds = audio_seconds(self.library.cache_base(speech).with_suffix(".wav"))
        if seconds is not None:
            return Duration(seconds)
        return Duration(estimate_seconds(speech.text, self.library.speed_wpm),
                        estimated=True)


def audio_seconds(path: Path) -> float | None:
    """How long an audio file plays, or None when there is none (or it is unreadable)."""
    if not path.is_file():
        return None
    if path.suffix == ".wav":
        try:
            with wave.open(str(path), "rb") as audio:
                return audio.getnframes() / audio.getframerate()
        except (wave.Error, EOFError, OSError):
            return None
    rate = BYTES_A_SECOND.get(path.suffix)
    return path.stat().st_size / rate if rate else None


def estimate_seconds(text: str, speed_wpm: int = 150) -> float:
    """How long espeak-ng takes to speak `text`, from its characters, words, digits
    and pauses (see the module's docstring)."""
    if not text.strip():
        return 0.0
    seconds = (0.3 + 0.39 * len(_CJK.findall(text)) + 0.27 * len(_WORD.findall(text))
               + 0.35 * len(_DIGIT.findall(text)) + 0.5 * len(_PAUSE.findall(text)))
    return seconds * 150 / speed_wpm
