"""Flows end to end on the pure interpreter: what the caller does in, actions and outcome out."""

from __future__ import annotations

from acd.ivr import Hangup, QueueHandoff, Transferred, Voicemail
from acd.ivr.actions import LeaveVoicemail, PutThrough
from acd.ivr.lookup import LookupResult, LookupStatus
from acd.media.playables import Speech

from .fakes import FakeLookups, FakeSchedules, flows_from, support
from .walk import CALLER, NOW, Interrupt, walk


def test_pressing_1_hands_the_call_to_the_support_queue_with_skill_and_priority():
    result = walk(support(), ["1"])
    assert result.outcome == QueueHandoff("support", 3, ("hardware",), result.variables)
    assert result.path == ["main:welcome", "main:menu", "main:sales"]
    assert result.variables["caller"] == CALLER


def test_digit_pressed_during_welcome_picks_the_menu_choice_without_waiting():
    result = walk(support(), [Interrupt("0")])
    assert result.path == ["main:welcome", "main:menu", "main:operator"]
    assert result.reads() == []


def test_invalid_choice_plays_the_invalid_prompt_then_the_menu_again():
    result = walk(support(), ["7", "1"])
    assert result.path[-1] == "main:sales"
    assert result.played()[-2:] == ["tts:zh:输入有误", "tts:zh:请选择"]


def test_silence_on_every_try_plays_no_input_and_goes_to_exhausted():
    result = walk(support(), ["", "", ""])
    assert result.path[-1] == "main:operator"
    reads = result.reads()
    assert len(reads) == 3  # first try + 2 retries
    assert reads[1].prompts == (Speech("没有收到", "zh"), Speech("请选择", "zh"))
    assert (reads[0].timeout, reads[0].max_digits) == (5.0, 1)


def test_collected_order_is_looked_up_stored_and_read_back_then_the_flow_hangs_up():
    lookups = FakeLookups(LookupResult(LookupStatus.OK, {"status": "已发货",
                                                        "delivery": {"eta": "2024-05-01"}}))
    result = walk(support(), ["2", "123456"], lookups=lookups)
    assert result.variables["order"] == "123456"
    assert result.variables["status"] == "已发货"
    assert result.variables["eta"] == "2024-05-01"
    request = lookups.requests[0]
    assert request.url == "http://orders.test/orders/123456"
    assert request.params == {"caller": CALLER, "called": "4008001234", "lang": "zh"}
    assert result.played()[-3:] == ["tts:zh:6", "tts:zh:状态 已发货", "tts:zh:再见"]
    assert result.outcome == Hangup("flow")


def test_collect_reads_up_to_max_length_with_terminator():
    read = walk(support(), ["2", "123456"]).reads()[1]
    assert (read.max_digits, read.terminator) == (8, "#")


def test_too_short_order_number_is_asked_again_then_exhausted_to_operator():
    result = walk(support(), ["2", "12", "1x"])
    assert result.path == ["main:welcome", "main:menu", "main:order", "main:operator"]
    assert "order" not in result.variables
    assert result.played()[-2:] == ["tts:zh:订单号错误", "tts:zh:请输入订单号"]


def test_lookup_not_found_and_error_take_their_branches():
    not_found = walk(support(), ["2", "1234"],
                     lookups=FakeLookups(LookupResult(LookupStatus.NOT_FOUND)))
    assert not_found.path[-2:] == ["main:not_found", "main:bye"]
    error = walk(support(), ["2", "1234"], lookups=FakeLookups())
    assert error.path[-2:] == ["main:failed", "main:operator"]


def test_english_callers_hear_the_english_texts():
    result = walk(support(), ["1"], variables={"lang": "en"})
    assert result.played()[:2] == ["tts:en:Welcome", "tts:en:Choose"]
    assert result.variables["lang"] == "en"


def test_goto_continues_in_another_flow_at_its_start_or_a_named_node():
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
    one = walk(flows, ["1"])
    assert one.path == ["main:menu", "main:to_sales", "sales:hello", "sales:queue"]
    two = walk(flows, ["2"])
    assert two.outcome == QueueHandoff("complaints", 5, (), two.variables)


SCHEDULED = """
nodes:
  hours: {type: schedule, schedule: support, open: open, closed: closed, holiday: holiday}
  open: {type: queue, queue: support}
  closed: {type: hangup, prompt: {text: 下班了}}
  holiday: {type: hangup, prompt: {text: 放假了}}
"""


def test_schedule_branches_on_open_closed_and_holiday_at_the_given_time():
    flows = flows_from({"main": SCHEDULED, "special": """
        nodes:
          note: {type: hangup, prompt: {text: 公司年会}}
    """})
    schedules = FakeSchedules("open")
    opened = walk(flows, schedules=schedules)
    assert opened.path[-1] == "main:open"
    assert schedules.asked == [("support", NOW)]
    closed = walk(flows, schedules=FakeSchedules("closed"))
    assert closed.path[-1] == "main:closed"
    holiday = walk(flows, schedules=FakeSchedules("holiday"))
    assert holiday.path[-1] == "main:holiday"
    special = walk(flows, schedules=FakeSchedules(
        "closed", special_flow="special", special_prompt="年会放假"))
    assert special.path == ["main:hours", "special:note"]
    assert special.played() == ["tts:zh:年会放假", "tts:zh:公司年会"]


def test_holiday_without_a_holiday_branch_goes_to_closed():
    flows = flows_from({"main": SCHEDULED.replace(", holiday: holiday}", "}").replace(
        "  holiday: {type: hangup, prompt: {text: 放假了}}\n", "")})
    result = walk(flows, schedules=FakeSchedules("holiday"))
    assert result.path[-1] == "main:closed"


def test_announcement_plays_first_when_on_and_not_when_off():
    on = walk(support(), ["1"], announcement=[Speech("系统维护通知", "zh")])
    assert on.played()[0] == "tts:zh:系统维护通知"
    off = walk(support(), ["1"], announcement=())
    assert off.played()[0] == "tts:zh:欢迎"


def test_an_announcement_node_plays_the_announcement_there_and_only_there():
    flows = flows_from({"main": """
        nodes:
          hello: {type: play, prompt: {text: 你好}, next: notice}
          notice: {type: announcement, next: queue}
          queue: {type: queue, queue: support}
    """})
    result = walk(flows, announcement=[Speech("通知", "zh")])
    assert result.played() == ["tts:zh:你好", "tts:zh:通知"]


def test_set_and_branch_route_on_equals_in_and_exists():
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
    result = walk(flows)
    assert result.path == ["main:start", "main:route", "main:b"]
    assert result.variables["name"] == CALLER


def test_runaway_flow_is_stopped_by_the_step_guard():
    flows = flows_from({"main": """
        nodes:
          a: {type: play, prompt: {text: 一}, next: b}
          b: {type: play, prompt: {text: 二}, next: a}
    """})
    result = walk(flows, max_steps=50)
    assert result.outcome == Hangup("max_steps")
    assert len(result.path) == 50


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


def test_transfer_dials_the_target_and_ends_when_answered():
    result = walk(flows_from({"main": TRANSFERS}), entry="main:fixed",
                  answered=True)
    assert result.connections() == [PutThrough("8100", "acd-transfer", 30, "8100")]
    assert result.outcome == Transferred("8100", answered=True)


def test_unanswered_transfer_falls_back_to_voicemail():
    result = walk(flows_from({"main": TRANSFERS}), entry="main:fixed")
    assert result.outcome == Voicemail("8000@default")
    assert result.connections()[-1] == LeaveVoicemail("8000@default", "u", "8000@default")


def test_transfer_target_with_dial_syntax_is_refused():
    result = walk(flows_from({"main": TRANSFERS}), entry="main:duty",
                  variables={"duty": "8100&PJSIP/evil"})
    assert result.outcome == Voicemail("8000@default")
    assert [type(a) for a in result.connections()] == [LeaveVoicemail]
