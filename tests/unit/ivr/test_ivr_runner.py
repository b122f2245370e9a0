"""The flow engine end to end against a scripted channel: digits in, outcome out."""

from __future__ import annotations

from typing import Any

from acd.ivr import CallerHangup, FlowSet, Hangup, QueueHandoff, Transferred, Voicemail, run_flow
from acd.ivr.lookup import LookupResult, LookupStatus
from acd.ivr.runner import FlowResult
from acd.media.prompts import Speech

from .fakes import (
    HANGUP,
    FakeChannel,
    FakeLookups,
    FakeSchedules,
    Interrupt,
    LabelPrompts,
    flows_from,
)

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


async def run(
    flows: FlowSet,
    script: list[Any],
    entry: str = "main",
    *,
    lookups: FakeLookups | None = None,
    schedules: FakeSchedules | None = None,
    announcement: Any = None,
    channel: FakeChannel | None = None,
    **kwargs: Any,
) -> tuple[FlowResult, FakeChannel]:
    channel = channel or FakeChannel(script=script)
    result = await run_flow(
        channel, flows, entry, now=lambda: 1_700_000_000.0,
        schedules=schedules or FakeSchedules(), lookup_client=lookups or FakeLookups(),
        announcement=announcement or (lambda: None), prompt_library=LabelPrompts(), **kwargs,
    )
    return result, channel


def support() -> FlowSet:
    return flows_from({"main": SUPPORT})


async def test_pressing_1_hands_the_call_to_the_support_queue_with_skill_and_priority():
    result, channel = await run(support(), ["1"])
    assert result.outcome == QueueHandoff("support", 3, ("hardware",), result.variables)
    assert result.path == ["main:welcome", "main:menu", "main:sales"]
    assert result.variables["caller"] == "13800138000"
    assert not channel.hung_up  # the call path queues it


async def test_digit_pressed_during_welcome_picks_the_menu_choice_without_waiting():
    result, channel = await run(support(), [Interrupt("0")])
    assert result.path == ["main:welcome", "main:menu", "main:operator"]
    assert not [e for e in channel.events if e[0] == "get_digits"]


async def test_invalid_choice_plays_the_invalid_prompt_then_the_menu_again():
    result, channel = await run(support(), ["7", "1"])
    assert result.path[-1] == "main:sales"
    assert channel.events[-1][1] == ["tts:zh:输入有误", "tts:zh:请选择"]


async def test_silence_on_every_try_plays_no_input_and_goes_to_exhausted():
    result, channel = await run(support(), ["", "", ""])
    assert result.path[-1] == "main:operator"
    reads = [e for e in channel.events if e[0] == "get_digits"]
    assert len(reads) == 3  # first try + 2 retries
    assert reads[1][1] == ["tts:zh:没有收到", "tts:zh:请选择"]
    assert reads[0][2] == 5.0 and reads[0][3] == 1


async def test_collected_order_is_looked_up_stored_and_read_back_then_hung_up():
    lookups = FakeLookups(LookupResult(LookupStatus.OK, {"status": "已发货",
                                                        "delivery": {"eta": "2024-05-01"}}))
    result, channel = await run(support(), ["2", "123456"], lookups=lookups)
    assert result.variables["order"] == "123456"
    assert result.variables["status"] == "已发货"
    assert result.variables["eta"] == "2024-05-01"
    request = lookups.requests[0]
    assert request.url == "http://orders.test/orders/123456"
    assert request.params == {"caller": "13800138000", "called": "4008001234", "lang": "zh"}
    assert channel.played()[-3:] == ["tts:zh:6", "tts:zh:状态 已发货", "tts:zh:再见"]
    assert result.outcome == Hangup("flow")
    assert channel.hung_up


async def test_collect_reads_up_to_max_length_with_terminator():
    _, channel = await run(support(), ["2", "123456"], lookups=FakeLookups())
    read = [e for e in channel.events if e[0] == "get_digits"][1]
    assert read[3:] == (8, "#")


async def test_too_short_order_number_is_asked_again_then_exhausted_to_operator():
    result, channel = await run(support(), ["2", "12", "1x"])
    assert result.path == ["main:welcome", "main:menu", "main:order", "main:operator"]
    assert "order" not in result.variables
    assert channel.events[-1][1] == ["tts:zh:订单号错误", "tts:zh:请输入订单号"]


async def test_lookup_not_found_and_error_take_their_branches():
    nf, _ = await run(support(), ["2", "1234"],
                      lookups=FakeLookups(LookupResult(LookupStatus.NOT_FOUND)))
    assert nf.path[-2:] == ["main:not_found", "main:bye"]
    err, _ = await run(support(), ["2", "1234"], lookups=FakeLookups())
    assert err.path[-2:] == ["main:failed", "main:operator"]


async def test_english_callers_hear_the_english_texts():
    result, channel = await run(support(), ["1"], variables={"lang": "en"})
    assert channel.played()[:2] == ["tts:en:Welcome", "tts:en:Choose"]
    assert result.variables["lang"] == "en"


async def test_goto_continues_in_another_flow_at_its_start_or_a_named_node():
    flows = flows_from({
        "main": """
            nodes:
              menu:
                type: menu
                prompt: {text: 请选择}
                choices: {1: to_sales, 2: to_complaints}
                exhausted: to_sales
              to_sales: {type: goto, flow: sales}
              to_complaints: {type: goto, flow: sales, node: complaints}
        """,
        "sales": """
            nodes:
              hello: {type: play, prompt: {text: 销售}, next: queue}
              queue: {type: queue, queue: support}
              complaints: {type: queue, queue: complaints, priority: 5}
        """,
    })
    one, _ = await run(flows, ["1"])
    assert one.path == ["main:menu", "main:to_sales", "sales:hello", "sales:queue"]
    two, _ = await run(flows, ["2"])
    assert two.outcome == QueueHandoff("complaints", 5, (), two.variables)


SCHEDULED = """
nodes:
  hours: {type: schedule, schedule: support, open: open, closed: closed, holiday: holiday}
  open: {type: queue, queue: support}
  closed: {type: hangup, prompt: {text: 下班了}}
  holiday: {type: hangup, prompt: {text: 放假了}}
"""


async def test_schedule_branches_on_open_closed_and_holiday_at_the_given_time():
    flows = flows_from({"main": SCHEDULED, "special": """
        nodes:
          note: {type: hangup, prompt: {text: 公司年会}}
    """})
    schedules = FakeSchedules("open")
    opened, _ = await run(flows, [], schedules=schedules)
    assert opened.path[-1] == "main:open"
    assert schedules.asked == [("support", 1_700_000_000.0)]
    closed, _ = await run(flows, [], schedules=FakeSchedules("closed"))
    assert closed.path[-1] == "main:closed"
    holiday, _ = await run(flows, [], schedules=FakeSchedules("holiday"))
    assert holiday.path[-1] == "main:holiday"
    special, ch = await run(flows, [], schedules=FakeSchedules(
        "closed", special_flow="special", special_prompt="年会放假"))
    assert special.path == ["main:hours", "special:note"]
    assert ch.played() == ["tts:zh:年会放假", "tts:zh:公司年会"]


async def test_holiday_without_a_holiday_branch_goes_to_closed():
    flows = flows_from({"main": SCHEDULED.replace(", holiday: holiday}", "}").replace(
        "  holiday: {type: hangup, prompt: {text: 放假了}}\n", "")})
    result, _ = await run(flows, [], schedules=FakeSchedules("holiday"))
    assert result.path[-1] == "main:closed"


async def test_announcement_plays_first_when_on_and_not_when_off():
    on, ch = await run(support(), ["1"], announcement=lambda: [Speech("系统维护通知", "zh")])
    assert ch.played()[0] == "tts:zh:系统维护通知"
    off, ch = await run(support(), ["1"], announcement=lambda: None)
    assert ch.played()[0] == "tts:zh:欢迎"


async def test_async_announcement_plays_at_the_announcement_node_and_only_there():
    async def provider() -> list[Speech]:
        return [Speech("通知", "zh")]

    flows = flows_from({"main": """
        nodes:
          hello: {type: play, prompt: {text: 你好}, next: notice}
          notice: {type: announcement, next: queue}
          queue: {type: queue, queue: support}
    """})
    _, ch = await run(flows, [], announcement=provider)
    assert ch.played() == ["tts:zh:你好", "tts:zh:通知"]


async def test_failing_announcement_provider_does_not_stop_the_call():
    def broken() -> None:
        raise ConnectionError("redis down")

    result, _ = await run(support(), ["1"], announcement=broken)
    assert result.path[-1] == "main:sales"


async def test_set_and_branch_route_on_equals_in_and_exists():
    flows = flows_from({"main": """
        nodes:
          start: {type: set, values: {tier: gold, name: "${caller}"}, next: route}
          route:
            type: branch
            cases:
              - {variable: missing, exists: true, next: a}
              - {variable: tier, equals: silver, next: a}
              - {variable: tier, in: [gold, vip], next: b}
            default: a
          a: {type: queue, queue: support}
          b: {type: queue, queue: vip, priority: 9}
    """}, extra_variables={"missing"})
    result, _ = await run(flows, [])
    assert result.path == ["main:start", "main:route", "main:b"]
    assert result.variables["name"] == "13800138000"


async def test_runaway_flow_is_stopped_by_the_step_guard_and_hung_up():
    flows = flows_from({"main": """
        nodes:
          a: {type: play, prompt: {text: 一}, next: b}
          b: {type: play, prompt: {text: 二}, next: a}
    """})
    result, channel = await run(flows, [], max_steps=50)
    assert result.outcome == Hangup("max_steps")
    assert len(result.path) == 50
    assert channel.hung_up


async def test_caller_hanging_up_mid_flow_ends_cleanly_with_where_it_happened():
    result, channel = await run(support(), ["2", HANGUP])
    assert result.outcome == CallerHangup("main:order")
    assert result.path == ["main:welcome", "main:menu", "main:order"]
    assert not channel.hung_up


TRANSFERS = """
start: fixed
nodes:
  duty:
    type: transfer
    to: ${duty}
    prompt: {text: 转接}
    failed: mailbox
  mailbox: {type: voicemail, mailbox: 8000@default, prompt: {text: 请留言}}
  fixed: {type: set, values: {duty: "8100"}, next: duty}
"""


async def test_transfer_dials_the_target_and_ends_when_answered():
    flows = flows_from({"main": TRANSFERS})
    channel = FakeChannel(app_results={"Dial": "-1"})
    result, _ = await run(flows, [], "main:fixed", channel=channel)
    assert ("exec", "Dial", "Local/8100@acd-transfer,30") in channel.events
    assert result.outcome == Transferred("8100", "-1")
    assert channel.hung_up


async def test_unanswered_transfer_falls_back_to_voicemail():
    flows = flows_from({"main": TRANSFERS})
    result, channel = await run(flows, [], "main:fixed")
    assert result.outcome == Voicemail("8000@default")
    assert channel.events[-2] == ("exec", "VoiceMail", "8000@default,u")


async def test_transfer_target_with_dial_syntax_is_refused():
    flows = flows_from({"main": TRANSFERS})
    result, channel = await run(flows, [], "main:duty", variables={"duty": "8100&PJSIP/evil"})
    assert result.outcome == Voicemail("8000@default")
    assert not [e for e in channel.events if e[:2] == ("exec", "Dial")]
