"""What can be played to a caller: a recording by name, one of Asterisk's sounds, or text
to speak. Pure data: acd.media.prompts turns them into files Asterisk plays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Recording:
    """A recorded prompt by name; falls back to speaking `fallback` when missing."""

    name: str
    lang: str
    fallback: Speech | None = None


@dataclass(frozen=True)
class Sound:
    """One of Asterisk's own sounds (`digits/1`, `queue-thankyou`), passed through as is."""

    name: str


@dataclass(frozen=True)
class Speech:
    """Text to be spoken by the synthesiser in a language."""

    text: str
    lang: str


Playable = Recording | Sound | Speech


#: the longest text acd will speak as one prompt (an announcement, a whisper)
MAX_SPEECH_CHARS = 500


def checked_speech(text: object, lang: object, languages: Sequence[str],
                   what: str = "a prompt", max_chars: int = MAX_SPEECH_CHARS) -> Speech:
    """Text that becomes a prompt, checked where it is set (the API, the config): a
    string of at most `max_chars` printable characters in a configured language.
    ValueError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{what}: the text must be a non-empty string")
    if len(text) > max_chars:
        raise ValueError(f"{what}: the text has {len(text)} characters; at most {max_chars}")
    if any(not c.isprintable() for c in text):
        raise ValueError(f"{what}: the text may not contain control characters")
    if not isinstance(lang, str) or lang not in languages:
        raise ValueError(f"{what}: the language must be one of {', '.join(languages)}")
    return Speech(text, lang)
