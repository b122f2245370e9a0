"""Whether a blacklist `announce` entry names a prompt its callers will hear.

A blocked caller's call plays the entry's prompt as a recording in the caller's
language, `prompts/<lang>/<name>.<ext>`, falling back to the service's own "blocked"
phrase (acd.callflow.arrival.blacklisted, acd.media.prompts.PromptLibrary.path). So
only a recording counts: words given in a flow are never spoken for an entry, and a
recording in another language is not played. When the caller lists are consulted, the
caller's language is the dialled number's (`numbers:`), or the first configured one.
The name `blocked` is the phrase itself: it is heard, recorded or not.

`acd lists add|import` refuse an entry whose prompt is missing, and `acd check`
reports stored entries that point at one.
"""

from __future__ import annotations

from collections.abc import Sequence

from acd.config.settings import Config
from acd.media import phrases
from acd.media.prompts import RECORDING_EXTENSIONS, PromptLibrary
from acd.rules.caller_entries import Action, CallerEntry

#: the phrase the call falls back to, and a target that is always heard
BUILT_IN = "blocked"


class AnnouncePrompts:
    """Checks `announce` entries against the prompts folder, in the callers' languages."""

    def __init__(self, library: PromptLibrary, languages: Sequence[str]) -> None:
        self.library = library
        self.languages = tuple(dict.fromkeys(languages))

    @classmethod
    def of_config(cls, config: Config) -> AnnouncePrompts:
        """The prompts folder of `config`, in the languages its numbers' callers have."""
        library = PromptLibrary(config.path(config.paths.prompts),
                                config.path(config.paths.prompt_cache), config.languages)
        return cls(library, caller_languages(config))

    def problem(self, entry: CallerEntry) -> str:
        """Why the entry's announcement would not be heard, or '' (also for other actions)."""
        name = entry.target_name
        if entry.action is not Action.ANNOUNCE or not name or name == BUILT_IN:
            return ""
        missing = [lang for lang in self.languages
                   if self.library.find_recording(name, lang) is None]
        if not missing:
            return ""
        looked = " and ".join(str(self.library.prompts_dir / lang / f"{name}.wav")
                              for lang in missing)
        others = ", ".join(ext for ext in RECORDING_EXTENSIONS if ext != ".wav")
        return (f"announce prompt {name!r} does not exist: acd looked for {looked} "
                f"(or {others}); blocked callers would hear the built-in '{BUILT_IN}' "
                f"message instead. Record it there, or make the target '{BUILT_IN}'")


def caller_languages(config: Config) -> tuple[str, ...]:
    """The languages a caller can be in when the caller lists are consulted: each
    dialled number's, and the first configured one (a number not configured)."""
    spoken = [phrases.language(number.language, config.languages)
              for number in config.numbers.values()]
    return tuple(dict.fromkeys([config.languages[0], *spoken]))
