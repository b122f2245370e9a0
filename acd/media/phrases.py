"""What the service itself says (not the admins' IVR): agent login, 报工号, queue position,
callbacks, the survey's texts. Pure: each phrase becomes Playables, which the prompt
library resolves to files (a recording prompts/<lang>/<key>.wav takes precedence over
the synthesised text of a fixed phrase)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from acd.media.playables import Playable, Recording, Speech

PHRASES: dict[str, dict[str, str]] = {
    "agent_number": {"zh": "请输入工号，以井号键结束。",
                     "en": "Please enter your agent number, then press hash."},
    "agent_pin": {"zh": "请输入密码，以井号键结束。",
                  "en": "Please enter your PIN, then press hash."},
    "login_ok": {"zh": "工号 {agent} 已登录。", "en": "Agent {agent} logged in."},
    "login_failed": {"zh": "工号或密码错误。", "en": "Wrong agent number or PIN."},
    "logout_ok": {"zh": "已退出登录。", "en": "You are logged out."},
    "paused": {"zh": "已示忙。", "en": "You are paused."},
    "resumed": {"zh": "已恢复接听。", "en": "You are available again."},
    "wrapup_ended": {"zh": "整理结束。", "en": "Wrap-up ended."},
    "not_allowed": {"zh": "操作失败：{why}", "en": "That did not work: {why}"},
    "unknown_phone": {"zh": "此话机未登录坐席。", "en": "No agent is logged in on this phone."},
    "nothing_to_pick_up": {"zh": "没有可代接的来电。", "en": "No call is ringing to pick up."},
    "serving_agent": {"zh": "工号 {digits} 为您服务。", "en": "Agent {digits} will serve you."},
    "whisper_vip": {"zh": "贵宾客户。", "en": "VIP caller."},
    "position": {"zh": "您前面还有 {position} 位客户。",
                 "en": "You are number {position} in the queue."},
    "wait": {"zh": "预计等待 {minutes} 分钟。", "en": "The expected wait is {minutes} minutes."},
    "callback_offer": {"zh": "如需我们回拨给您，请按星号键，您的排队位置将为您保留。",
                       "en": "To be called back instead of waiting, press star; you keep "
                             "your place in the queue."},
    "callback_ok": {"zh": "好的，轮到您时我们将回拨 {number}，您现在可以挂机了。",
                    "en": "We will call you back at {number} when it is your turn. You may "
                          "hang up now."},
    "callback_no_number": {"zh": "抱歉，您的号码未显示，无法回拨。",
                           "en": "Sorry, your number is withheld, so we cannot call back."},
    "callback_hello": {"zh": "您好，这里是客服中心回拨，正在为您接通坐席，请稍候。",
                       "en": "Hello, this is your callback from customer service. "
                             "Connecting you to an agent now."},
    "please_hold": {"zh": "坐席正忙，请稍候。", "en": "All agents are busy, please hold."},
    "goodbye": {"zh": "感谢您的来电，再见。", "en": "Thank you for calling. Goodbye."},
    "blocked": {"zh": "您的来电无法接通，再见。", "en": "We cannot take your call. Goodbye."},
    "lines_busy": {"zh": "线路繁忙，请稍后再拨。",
                   "en": "All lines are busy. Please call later."},
}


def language(lang: str | None, languages: Sequence[str]) -> str:
    """The caller's language if acd speaks it, else the first configured one."""
    return lang if lang is not None and lang in languages else languages[0]


def speech(key: str, lang: str | None, languages: Sequence[str], **values: object) -> Speech:
    """A phrase as text to speak (always synthesised)."""
    lang = language(lang, languages)
    text = PHRASES[key].get(lang) or PHRASES[key]["en"]
    return Speech(text.format(**values) if values else text, lang)


def say(key: str, lang: str | None, languages: Sequence[str],
        **values: object) -> tuple[Playable, ...]:
    """A phrase: a filled-in one is spoken; a fixed one may be a recording (prompts/<lang>/
    <key>.wav), spoken until someone records it."""
    spoken_text = speech(key, lang, languages, **values)
    if values:
        return (spoken_text,)
    return (Recording(key, spoken_text.lang, fallback=spoken_text),)


def spoken(spec: Mapping[str, str] | str, lang: str | None,
           languages: Sequence[str]) -> tuple[Playable, ...]:
    """A {lang: text} mapping or plain text from the config (survey prompts)."""
    lang = language(lang, languages)
    text = (spec.get(lang) or next(iter(spec.values()))) if isinstance(spec, Mapping) \
        else str(spec)
    return (Speech(text, lang),)


def agent_number(agent_id: str, lang: str | None, languages: Sequence[str]) -> Playable:
    """What Dial's A() option plays to the caller when the agent answers (报工号)."""
    return say("serving_agent", lang, languages, digits=" ".join(agent_id))[0]


def agent_whisper(text: str, vip: bool, languages: Sequence[str]) -> Playable | None:
    """What the agent hears on answering, before the caller: "VIP" for a VIP caller, then
    the queue's whisper, in the agents' language (the service's first)."""
    lang = languages[0]
    words = [PHRASES["whisper_vip"][lang]] if vip else []
    words += [text] if text else []
    return Speech(" ".join(words), lang) if words else None


def position(place: int | None, wait_seconds: int | None, lang: str | None,
             languages: Sequence[str]) -> tuple[Playable, ...]:
    """Your place in the queue, the expected wait, and the callback offer."""
    out: tuple[Playable, ...] = ()
    if place:
        out += say("position", lang, languages, position=place)
    if wait_seconds:
        out += say("wait", lang, languages, minutes=max(1, round(wait_seconds / 60)))
    if out:
        out += say("callback_offer", lang, languages)
    return out
