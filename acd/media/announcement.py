"""The admin's global announcement (played where a flow has an `announcement` node):
checked when it is set, kept in Redis, spoken to the next callers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from acd.media.playables import Playable, Speech, checked_speech

MAX_PROMPTS = 10


#: the furthest an announcement's expiry may be set (a year)
MAX_EXPIRY_SECONDS = 366 * 86400


class AnnouncementStore(Protocol):
    async def set_announcement(self, prompts: list[dict[str, str]] | None,
                               expires_at: float | None = None, now: float = 0.0) -> None: ...

    async def announcement_expires(self) -> float | None: ...

    async def announcement(self) -> list[object] | None:
        """As stored (JSON): {text, lang} mappings; plain strings from older versions.
        A ConnectionError when the store cannot be reached now."""
        ...


class Announcement:
    """Kept in memory between changes: read again when a change is announced
    (`invalidate`, from the change feed, or set here) and at least every
    RECHECK_SECONDS, not once per call."""

    RECHECK_SECONDS = 5.0

    def __init__(self, store: AnnouncementStore, languages: Sequence[str]) -> None:
        self.store = store
        self.languages = tuple(languages)
        self._cached: tuple[Playable, ...] = ()
        self._read_at = float("-inf")

    def invalidate(self) -> None:
        self._read_at = float("-inf")

    async def set(self, prompts: list[object] | None, expires_at: float | None = None,
                  now: float | None = None) -> None:
        """Checked now (ValueError says what is wrong), stored as plain {text, lang};
        with `expires_at` (epoch seconds) it switches itself off then."""
        now = time.time() if now is None else now
        if expires_at is not None and not (
                isinstance(expires_at, int | float) and not isinstance(expires_at, bool)
                and now < expires_at <= now + MAX_EXPIRY_SECONDS):
            raise ValueError("expires_at is a time (epoch seconds) in the future, within a "
                             "year")
        checked = None
        if prompts:
            if len(prompts) > MAX_PROMPTS:
                raise ValueError(f"an announcement has at most {MAX_PROMPTS} prompts")
            checked = []
            for index, prompt in enumerate(prompts, start=1):
                if isinstance(prompt, dict) and set(prompt) - {"text", "lang"}:
                    raise ValueError(f"prompt {index}: only text and lang are allowed")
                text, lang = (prompt.get("text"), prompt.get("lang", self.languages[0])) \
                    if isinstance(prompt, dict) else (prompt, self.languages[0])
                speech = checked_speech(text, lang, self.languages, f"prompt {index}")
                checked.append({"text": speech.text, "lang": speech.lang})
        await self.store.set_announcement(checked, expires_at if checked else None, now)
        self.invalidate()

    async def get(self) -> list[object] | None:
        return await self.store.announcement()

    async def expires_at(self) -> float | None:
        """When the announcement switches itself off; None: when an admin says so."""
        return await self.store.announcement_expires()

    async def playables(self) -> tuple[Playable, ...]:
        """What callers hear now (nothing when it is off)."""
        now = time.monotonic()
        if now - self._read_at >= self.RECHECK_SECONDS:
            try:
                raw = await self.store.announcement() or []
            except ConnectionError:  # the store is away: the one last read, again later
                self._read_at = now
                return self._cached
            lang = self.languages[0]
            self._cached = tuple(Speech(p["text"], p.get("lang", lang)) if isinstance(p, dict)
                                 else Speech(str(p), lang) for p in raw)
            self._read_at = now
        return self._cached
