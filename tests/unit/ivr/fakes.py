"""Stand-ins for what a flow asks of the world (lookups, schedules), and flows from texts."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from acd.ivr.flowset import build_flowset
from acd.ivr.lookup import LookupRequest, LookupResult, LookupStatus
from acd.ivr.model import FlowSet
from acd.ivr.schedule import ScheduleDecision
from acd.media.playables import Playable, Recording, Sound, Speech

QUEUES = frozenset({"support", "complaints", "vip"})

SUPPORT = """
start: welcome
nodes:
  welcome:
    type: play
    interruptible: true
    prompt: {text: {zh: 欢迎, en: Welcome}}
    next: menu
  menu:
    type: menu
    prompt: {text: {zh: 请选择, en: Choose}}
    choices: {1: sales, 2: order, 0: operator}
    retries: 2
    invalid: {text: 输入有误}
    no_input: {text: 没有收到}
    exhausted: operator
  sales: {type: queue, queue: support, skills: [hardware], priority: 3}
  operator: {type: queue, queue: support}
  order:
    type: collect
    variable: order
    min_length: 4
    max_length: 8
    pattern: "[0-9]+"
    prompt: {text: 请输入订单号}
    invalid: {text: 订单号错误}
    retries: 1
    next: lookup
    exhausted: operator
  lookup:
    type: lookup
    url: http://orders.test/orders/${order}
    params: {lang: "${lang}"}
    store: {status: status, eta: delivery.eta}
    ok: say
    not_found: not_found
    error: failed
  say:
    type: say
    digits: ${order}
    after: {text: "状态 ${status}"}
    next: bye
  not_found: {type: play, prompt: {text: 没有找到}, next: bye}
  failed: {type: play, prompt: {text: 出错}, next: operator}
  bye: {type: hangup, prompt: {text: 再见}}
"""


def support() -> FlowSet:
    """A menu, a collect, a lookup and its three branches: the flow most tests walk."""
    return flows_from({"main": SUPPORT})


def label(prompt: Playable) -> str:
    """A prompt as a readable label instead of a file: 'tts:zh:欢迎', 'rec:welcome:en'."""
    if isinstance(prompt, Sound):
        return f"sound:{prompt.name}"
    if isinstance(prompt, Speech):
        return f"tts:{prompt.lang}:{prompt.text}"
    if isinstance(prompt, Recording) and prompt.fallback is not None:
        return label(prompt.fallback)
    return f"rec:{prompt.name}:{prompt.lang}"


class FakeSchedules:
    """Every schedule in one state; remembers when it was asked."""

    def __init__(self, state: str = "open", **special: str | None) -> None:
        self.decision = ScheduleDecision(state, **special)  # type: ignore[arg-type]
        self.asked: list[tuple[str, float]] = []

    def decide(self, schedule_name: str, now: float) -> ScheduleDecision:
        self.asked.append((schedule_name, now))
        return self.decision

    def names(self) -> set[str]:
        return {"support"}


class FakeLookups:
    """Answers every lookup with one result and remembers the requests."""

    def __init__(self, result: LookupResult | None = None) -> None:
        self.result = result or LookupResult(LookupStatus.ERROR, detail="no answer set")
        self.requests: list[LookupRequest] = []

    def answer(self, request: LookupRequest) -> LookupResult:
        self.requests.append(request)
        return self.result


def flows_from(files: Mapping[str, str], **kwargs: Any) -> FlowSet:
    """A FlowSet from flow texts by name; fails the test with every error."""
    texts = {Path(f"/flows/{name}.yaml"): textwrap.dedent(text) for name, text in files.items()}
    kwargs.setdefault("known_queues", QUEUES)
    kwargs.setdefault("schedule_names", {"support"})
    kwargs.setdefault("library", None)
    flows, errors = build_flowset(texts, **kwargs)
    assert flows is not None, "\n".join(map(str, errors))
    return flows


def errors_of(text: str, name: str = "bad", **kwargs: Any) -> list[str]:
    """Validation errors of one flow text, as 'line:column: message'."""
    path = Path(f"/flows/{name}.yaml")
    kwargs.setdefault("known_queues", QUEUES)
    kwargs.setdefault("schedule_names", {"support"})
    kwargs.setdefault("library", None)
    flows, errors = build_flowset({path: textwrap.dedent(text).lstrip("\n")}, **kwargs)
    assert flows is None or not errors
    return [str(e).removeprefix(f"{path}:") for e in errors]
