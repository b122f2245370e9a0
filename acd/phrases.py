"""What the service itself says (not the admins' IVR): agent login, 报工号, queue position.

Each phrase is text in every language; the prompt library synthesises and
caches it until someone records it (prompts/<lang>/<key>.wav takes precedence).
"""

from __future__ import annotations

from typing import Any

from acd.media.prompts import PromptLibrary, Recording, Speech

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
}


class Phrases:
    def __init__(self, library: PromptLibrary) -> None:
        self.library = library

    def _lang(self, lang: str | None) -> str:
        langs = self.library.languages
        return lang if lang in langs else langs[0]

    async def say(self, key: str, lang: str | None = None, **values: Any) -> list[str]:
        lang = self._lang(lang)
        text = PHRASES[key].get(lang) or PHRASES[key]["en"]
        if values:  # a filled-in phrase is spoken; a fixed one may be recorded
            return await self.library.paths([Speech(text.format(**values), lang)])
        return await self.library.paths([Recording(key, lang, fallback=Speech(text, lang))])

    async def resolve(self, spec: Any, lang: str | None = None) -> list[str]:
        """A {lang: text} mapping or plain text (survey, config prompts) -> file paths."""
        lang = self._lang(lang)
        text = (spec.get(lang) or next(iter(spec.values()))) if isinstance(spec, dict) \
            else str(spec)
        return await self.library.paths([Speech(text, lang)])

    async def agent_number(self, agent_id: str, lang: str | None = None) -> str | None:
        """The single file Dial's A() option plays to the caller (报工号)."""
        files = await self.say("serving_agent", lang, digits=" ".join(agent_id))
        return files[0] if files else None

    async def agent_whisper(self, text: str, vip: bool) -> str | None:
        """The single file Dial's A() option plays to the agent before the caller is
        put through: "VIP" for VIP callers, then the queue's whisper text."""
        lang = self._lang(None)  # the agents' language: the service's first
        words = [PHRASES["whisper_vip"][lang]] if vip else []
        words += [text] if text else []
        if not words:
            return None
        files = await self.library.paths([Speech(" ".join(words), lang)])
        return files[0] if files else None

    async def position(self, position: int | None, wait_seconds: int | None,
                       lang: str | None = None) -> list[str]:
        files: list[str] = []
        if position:
            files += await self.say("position", lang, position=position)
        if wait_seconds:
            files += await self.say("wait", lang, minutes=max(1, round(wait_seconds / 60)))
        if files:
            files += await self.say("callback_offer", lang)
        return files
