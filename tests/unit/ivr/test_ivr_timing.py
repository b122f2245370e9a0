"""How long a caller who presses nothing takes to reach a queue, walked on the flow
model with prompts a second a character: every prompt heard, every timeout waited out,
the slowest of the ways the caller does not choose."""

from __future__ import annotations

from acd.ivr.model import NodeId
from acd.ivr.timing import Duration, slowest_way_to_queue, ways_to_queue
from acd.media.playables import Playable, Recording, Sound

from .fakes import flows_from, support


class ACharacterASecond:
    """Spoken text lasts a second a character; a recording with words is spoken; an
    Asterisk sound is a guess."""

    def duration(self, prompt: Playable) -> Duration:
        if isinstance(prompt, Sound):
            return Duration(1.0, estimated=True)
        if isinstance(prompt, Recording):
            return self.duration(prompt.fallback) if prompt.fallback else Duration(0.0)
        return Duration(float(len(prompt.text)))


SECONDS = ACharacterASecond()


def way(flows, entry="main", lang="zh"):
    flow = flows.flows[entry]
    return slowest_way_to_queue(flows, NodeId(entry, flow.start), lang, SECONDS)


def test_a_silent_caller_hears_the_menu_on_every_try_and_no_input_before_each_retry():
    found = way(support())
    # welcome 2 + menu 3 tries x (3 + 5 s) + 2 x no_input 4, then the operator's queue
    assert [(leg.node.node, leg.seconds) for leg in found.legs] == [
        ("welcome", 2.0), ("menu", 32.0), ("operator", 0.0)]
    assert found.seconds == 34.0 and found.queue == NodeId("main", "operator")
    assert found.describe() == "welcome 2.0 s > menu 32.0 s (3 tries of 5 s) > operator"


def test_the_slowest_branch_of_a_schedule_or_lookup_is_the_answer_with_the_lookup_timeout():
    flows = flows_from({"main": """
        nodes:
          hours: {type: schedule, schedule: support, open: crm, closed: night}
          crm:
            type: lookup
            url: http://crm.test/${caller}
            timeout: 2
            ok: vip
            error: long
          vip: {type: queue, queue: vip, prompt: {text: 贵宾}}
          long: {type: play, prompt: {text: 请稍候请稍候}, next: support}
          support: {type: queue, queue: support}
          night: {type: hangup, prompt: {text: 下班了下班了下班了下班了}}
        """})
    found = way(flows)
    assert [leg.node.node for leg in found.legs] == ["hours", "crm", "long", "support"]
    assert found.seconds == 2 + 6  # the closed branch is longer but reaches no queue


def test_a_flow_that_never_reaches_a_queue_has_no_way():
    flows = flows_from({"main": "nodes:\n  bye: {type: hangup, prompt: {text: 再见}}\n"})
    assert way(flows) is None


def test_loops_are_not_followed_and_a_set_language_speaks_the_rest_in_it():
    flows = flows_from({"main": """
        nodes:
          menu:
            type: menu
            prompt: {text: {zh: 请选择, en: Please choose}}
            choices: {1: english}
            retries: 0
            timeout: 1
            exhausted: check
          check: {type: branch, cases: [{variable: lang, equals: zh, next: english}],
                  default: menu}
          english: {type: set, values: {lang: en}, next: queue}
          queue: {type: queue, queue: support, prompt: {text: {zh: 转接, en: Connecting}}}
        """})
    found = way(flows)
    assert [leg.node.node for leg in found.legs] == ["menu", "check", "english", "queue"]
    assert found.legs[-1].seconds == len("Connecting")


def test_prompts_whose_length_is_a_guess_are_counted():
    flows = flows_from({"main": """
        nodes:
          beep: {type: play, prompt: [{sound: beep}, {sound: beep}], next: queue}
          queue: {type: queue, queue: support}
        """})
    assert way(flows).estimated == 2


def test_each_flow_is_timed_in_its_slowest_language():
    flows = flows_from({"main": """
        nodes:
          hello: {type: play, prompt: {text: {zh: 您好, en: Good morning}}, next: queue}
          queue: {type: queue, queue: support}
        """})
    [found] = ways_to_queue(flows, SECONDS)
    assert (found.lang, found.seconds) == ("en", len("Good morning"))
