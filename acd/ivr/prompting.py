"""Prompt syntax in flow files, and turning written prompts into playables for a call.

Forms accepted wherever a prompt is expected (alone or in a list):
  welcome                              recording prompts/<lang>/welcome
  {file: welcome, text: ...}           recording, spoken text while none is recorded
  {sound: digits/1}                    an Asterisk core sound
  {text: "欢迎致电", lang: zh}          spoken text (lang defaults to the first language)
  {text: {zh: "欢迎致电", en: "Welcome"}}  spoken text per language
  {digits: "${order}"} / {number: "${position}"}  read out digit by digit / as a number
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from acd.ivr.model import (
    FilePrompt,
    Prompts,
    PromptSpec,
    SayMode,
    SayPrompt,
    SoundPrompt,
    TextPrompt,
)
from acd.ivr.reader import FieldReader, describe, position_of, suggest
from acd.ivr.template import Template
from acd.media.playables import Playable, Recording, Sound, Speech
from acd.yamlsource import LocatedDict, LocatedList, Position

PROMPT_KINDS = ("file", "sound", "text", "digits", "number")


def parse_prompts(
    reader: FieldReader, key: str, languages: tuple[str, ...], required: bool = False
) -> Prompts:
    """Read a prompt or a list of prompts from field `key` of the reader's mapping."""
    value = reader.raw(key, required, " (a prompt: a recording name or {text: ...})")
    if value is None:
        return ()
    items = value if isinstance(value, LocatedList) else [value]
    result: list[PromptSpec] = []
    for i, item in enumerate(items):
        pos = position_of(item, value.pos(i) if isinstance(value, LocatedList) else reader.pos(key))
        prompt = parse_prompt(reader, item, pos, languages)
        if prompt is not None:
            result.append(prompt)
    if not result and required and not reader.failed:
        reader.error(reader.pos(key), f"{reader.what}: '{key}' needs at least one prompt")
    return tuple(result)


def parse_prompt(
    reader: FieldReader, value: object, pos: Position | None, languages: tuple[str, ...]
) -> PromptSpec | None:
    if isinstance(value, str):
        return FilePrompt(value, None, pos) if _is_name(reader, value, pos) else None
    if not isinstance(value, LocatedDict):
        reader.error(pos, f"{reader.what}: a prompt is a recording name or a mapping such as "
                     f"{{text: ...}}, not {describe(value)}")
        return None
    kinds = [k for k in PROMPT_KINDS if k in value]
    if "file" in kinds and kinds.count("text") == 1 and len(kinds) == 2:
        kinds = ["file"]
    for key in value:
        if key not in (*PROMPT_KINDS, "lang"):
            reader.error(value.pos(key), f"{reader.what}: unknown prompt field '{key}'"
                         f"{suggest(key, PROMPT_KINDS)}; use one of {', '.join(PROMPT_KINDS)}")
            return None
    if len(kinds) != 1:
        reader.error(pos, f"{reader.what}: a prompt needs exactly one of "
                     f"{', '.join(PROMPT_KINDS)} (file may add text)")
        return None
    kind = kinds[0]
    if "lang" in value and kind != "text":
        reader.error(value.pos("lang"), f"{reader.what}: 'lang' goes with 'text' only")
        return None
    return _parse_mapping(reader, value, kind, languages)


def _parse_mapping(
    reader: FieldReader, value: LocatedDict, kind: str, languages: tuple[str, ...]
) -> PromptSpec | None:
    pos = value.position
    if kind in ("file", "sound"):
        name = value[kind]
        if not isinstance(name, str) or not _is_name(reader, name, value.pos(kind)):
            if not isinstance(name, str):
                reader.error(value.pos(kind), f"{reader.what}: '{kind}' must be a name, "
                             f"not {describe(name)}")
            return None
        if kind == "sound":
            return SoundPrompt(name, pos)
        texts = _texts(reader, value, languages, None) if "text" in value else None
        return FilePrompt(name, texts, pos)
    if kind == "text":
        lang = value.get("lang")
        if lang is not None and lang not in languages:
            reader.error(value.pos("lang"), f"{reader.what}: unknown language {lang!r}"
                         f"{suggest(str(lang), languages)}; configured: {', '.join(languages)}")
            return None
        texts = _texts(reader, value, languages, lang)
        return TextPrompt(texts, pos) if texts else None
    template = reader.template_value(value[kind], value.pos(kind), f"'{kind}'")
    return SayPrompt(SayMode(kind), template, pos)


def _texts(
    reader: FieldReader, value: LocatedDict, languages: tuple[str, ...], lang: str | None
) -> dict[str, Template]:
    text = value["text"]
    if not isinstance(text, LocatedDict):
        return {lang or languages[0]: reader.template_value(text, value.pos("text"), "'text'")}
    if lang is not None:
        reader.error(value.pos("lang"), f"{reader.what}: 'lang' is not needed when 'text' "
                     "maps languages to texts")
    texts: dict[str, Template] = {}
    for one, words in text.items():
        if one not in languages:
            reader.error(text.pos(one), f"{reader.what}: unknown language {one!r}"
                         f"{suggest(one, languages)}; configured: {', '.join(languages)}")
            continue
        texts[one] = reader.template_value(words, text.pos(one), f"'text.{one}'")
    return texts


def _is_name(reader: FieldReader, name: str, pos: Position | None) -> bool:
    if not name or name.startswith("/") or ".." in name.split("/") or "${" in name:
        reader.error(pos, f"{reader.what}: prompt name {name!r} must be a relative name such "
                     "as 'welcome' or 'menus/main' (no '/' at the start, no '..', no ${})")
        return False
    return True


# -- rendering for one call ---------------------------------------------------------


def pick_text(
    texts: Mapping[str, Template], lang: str, default_lang: str
) -> tuple[str, Template]:
    """The text in the caller's language, else in the default one, else the first."""
    for one in (lang, default_lang):
        if one in texts:
            return one, texts[one]
    first = next(iter(texts))
    return first, texts[first]


def render(
    prompts: Iterable[PromptSpec], variables: Mapping[str, str], lang: str, default_lang: str
) -> list[Playable]:
    result: list[Playable] = []
    for prompt in prompts:
        if isinstance(prompt, SoundPrompt):
            result.append(Sound(prompt.name))
        elif isinstance(prompt, FilePrompt):
            fallback = None
            if prompt.texts:
                text_lang, text = pick_text(prompt.texts, lang, default_lang)
                fallback = Speech(text.render(variables), text_lang)
            result.append(Recording(prompt.name, lang, fallback))
        elif isinstance(prompt, TextPrompt):
            text_lang, text = pick_text(prompt.texts, lang, default_lang)
            words = text.render(variables)
            if words.strip():
                result.append(Speech(words, text_lang))
        else:
            result.extend(say(prompt.mode, prompt.value.render(variables), lang))
    return result


def say(mode: SayMode, value: str, lang: str) -> list[Playable]:
    """Digits one by one (recordings digits/N when present), or a whole number."""
    value = value.strip()
    if mode is SayMode.NUMBER and value.lstrip("-").isdigit():
        return [Speech(str(int(value)), lang)]
    return [
        Recording(f"digits/{c}", lang, Speech(c, lang)) if c.isdigit() else Speech(c, lang)
        for c in value
        if not c.isspace()
    ]


def static_speech(
    prompts: Iterable[PromptSpec], languages: tuple[str, ...]
) -> Iterator[Speech | Recording]:
    """Texts knowable before any call (no variables): what `prepare_all` synthesises.

    Recordings are yielded with their fallback so the caller can skip recorded ones.
    """
    for prompt in prompts:
        if isinstance(prompt, TextPrompt):
            for lang, text in prompt.texts.items():
                if text.is_literal and text.raw.strip():
                    yield Speech(text.raw, lang)
        elif isinstance(prompt, FilePrompt) and prompt.texts:
            for lang in languages:
                text_lang, text = pick_text(prompt.texts, lang, languages[0])
                if text.is_literal:
                    yield Recording(prompt.name, lang, Speech(text.raw, text_lang))
        elif isinstance(prompt, SayPrompt):
            for lang in languages:
                for digit in "0123456789":
                    yield Recording(f"digits/{digit}", lang, Speech(digit, lang))
