"""Hot reload: a saved change serves new calls within 2 s; a broken one is refused."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from polling import eventually

from acd.adapters.flows import FlowRegistry
from acd.ivr import FlowErrors, Interpreter, QueueHandoff, resolve_entry
from acd.ivr.actions import AnnouncementFetched, Finish, Pressed, ReadDigits
from acd.media.prompts import PromptLibrary

from .fakes import FakeSchedules

FLOW = """
nodes:
  menu:
    type: menu
    prompt: {text: 请选择}
    choices: {1: sales}
    exhausted: sales
  sales: {type: queue, queue: support}
"""


class NoSpeech(PromptLibrary):
    async def prepare_all(self, speeches: object) -> int:  # type: ignore[override]
        return 0


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    (directory / "main.yaml").write_text(FLOW)
    return directory


@pytest.fixture
def registry(flows_dir: Path, tmp_path: Path) -> FlowRegistry:
    library = NoSpeech(tmp_path / "prompts", tmp_path / "cache")
    return FlowRegistry(flows_dir, {"support", "vip"}, FakeSchedules(), library)


@pytest.fixture
async def watching(registry: FlowRegistry) -> AsyncIterator[FlowRegistry]:
    registry.load()
    task = asyncio.create_task(registry.watch(interval=0.05))
    yield registry
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_load_raises_with_every_error(flows_dir: Path, registry: FlowRegistry):
    (flows_dir / "main.yaml").write_text(FLOW.replace("support", "suport").replace(
        "exhausted: sales", "exhausted: sale"))
    with pytest.raises(FlowErrors) as caught:
        registry.load()
    assert len(caught.value.errors) == 2
    assert str(caught.value).startswith(f"{flows_dir}/main.yaml:7:5: menu node 'menu'")


async def test_saved_change_is_live_for_new_calls_within_two_seconds(
    flows_dir: Path, watching: FlowRegistry
):
    first = watching.current()
    (flows_dir / "main.yaml").write_text(FLOW.replace("queue: support", "queue: vip"))
    await eventually(lambda: watching.version == first.version + 1)
    queue = watching.current().flows["main"].nodes["sales"]
    assert queue.queue == "vip"  # type: ignore[attr-defined]
    assert first.flows["main"].nodes["sales"].queue == "support"  # type: ignore[attr-defined]


async def test_a_new_flow_file_is_picked_up(flows_dir: Path, watching: FlowRegistry):
    (flows_dir / "sales.yaml").write_text("nodes:\n  q: {type: queue, queue: support}\n")
    await eventually(lambda: "sales" in watching.current().flows)


async def test_broken_edit_is_refused_logged_and_the_old_version_kept(
    flows_dir: Path, watching: FlowRegistry, caplog: pytest.LogCaptureFixture
):
    good = watching.current()
    caplog.set_level(logging.ERROR, logger="acd.adapters.flows")
    (flows_dir / "main.yaml").write_text(FLOW.replace("exhausted: sales", "exhausted: sale"))
    await eventually(lambda: any("exhausted goes to node 'sale'" in r.getMessage()
                                 for r in caplog.records))
    assert watching.current() is good
    assert any(r.getMessage().startswith(f"{flows_dir}/main.yaml:7:5:") for r in caplog.records)
    await asyncio.sleep(0.2)  # the same broken file is not logged again and again
    assert sum("exhausted goes to" in r.getMessage() for r in caplog.records) == 1
    (flows_dir / "main.yaml").write_text(FLOW.replace("请选择", "请按键"))
    await eventually(lambda: watching.current() is not good)


async def test_a_call_in_progress_keeps_the_version_it_started_with(
    flows_dir: Path, watching: FlowRegistry
):
    flows = watching.current()
    call = Interpreter(flows, resolve_entry(flows, "main"), {})
    call.start()
    assert isinstance(call.send(AnnouncementFetched(())), ReadDigits)  # the menu waits
    (flows_dir / "main.yaml").write_text(FLOW.replace("queue: support", "queue: vip"))
    await eventually(lambda: watching.version == flows.version + 1)
    assert call.send(Pressed("1")) == Finish(QueueHandoff("support", 0, (), call.variables))
    assert call.flows.version == flows.version


def test_load_reports_a_flow_that_is_not_utf8_with_its_position(
    flows_dir: Path, registry: FlowRegistry
):
    (flows_dir / "main.yaml").write_bytes(FLOW.replace("请选择", "请").encode("gbk"))
    with pytest.raises(FlowErrors) as caught:
        registry.load()
    assert [str(e) for e in caught.value.errors] == [
        f"{flows_dir}/main.yaml:5:20: byte 0xc7 is not UTF-8: save the file as UTF-8"]


def test_load_reports_an_alias_bomb_in_a_flow_with_its_position(
    flows_dir: Path, registry: FlowRegistry
):
    bomb = "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 30))
    (flows_dir / "main.yaml").write_text(FLOW + "x0: &x0 lol\n" + bomb)
    with pytest.raises(FlowErrors) as caught:
        registry.load()
    assert str(caught.value).startswith(f"{flows_dir}/main.yaml:13:45: aliases (*x3 here)")


def errors_logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records)


async def test_a_saved_flow_with_bad_bytes_is_logged_once_per_saved_version(
    flows_dir: Path, watching: FlowRegistry, caplog: pytest.LogCaptureFixture
):
    good = watching.current()
    caplog.set_level(logging.ERROR, logger="acd.adapters.flows")
    (flows_dir / "main.yaml").write_bytes(FLOW.encode() + b"# \xff\n")
    await eventually(lambda: errors_logged(caplog, "main.yaml:9:3: byte 0xff") == 1)
    await asyncio.sleep(0.3)  # six polls later, still said only once
    assert errors_logged(caplog, "is not UTF-8") == 1
    assert not any(r.exc_info for r in caplog.records)  # no traceback
    (flows_dir / "main.yaml").write_bytes(FLOW.encode() + b"#  \xfe\n")  # a new broken save
    await eventually(lambda: errors_logged(caplog, "main.yaml:9:4: byte 0xfe") == 1)
    assert watching.current() is good


async def test_a_failing_reload_is_logged_once_per_saved_version_not_every_poll(
    flows_dir: Path, watching: FlowRegistry, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: object) -> None:
        raise RuntimeError("a bug in validation")

    monkeypatch.setattr(watching, "_build", broken)
    caplog.set_level(logging.ERROR, logger="acd.adapters.flows")
    (flows_dir / "main.yaml").write_text(FLOW.replace("请选择", "请按键"))
    await eventually(lambda: errors_logged(caplog, "reload failed") == 1)
    await asyncio.sleep(0.3)
    assert errors_logged(caplog, "reload failed") == 1


async def test_an_unreadable_flows_folder_is_logged_once_until_it_changes(
    flows_dir: Path, watching: FlowRegistry, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.ERROR, logger="acd.adapters.flows")
    hidden = flows_dir.with_name("elsewhere")
    flows_dir.rename(hidden)
    await eventually(lambda: errors_logged(caplog, "cannot read flows folder") == 1)
    await asyncio.sleep(0.3)
    assert errors_logged(caplog, "cannot read flows folder") == 1
    hidden.rename(flows_dir)
