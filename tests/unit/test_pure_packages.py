"""The pure side of acd imports no event loop and no I/O library: read from the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ACD = Path(__file__).resolve().parents[2] / "acd"

#: what only adapters and the async drivers may import
IMPURE = frozenset({"asyncio", "aiohttp", "yarl", "panoramisk", "asyncio_redis", "redis"})
#: the async side of the call path: drivers of the pure sessions, and their ports
CALLFLOW_ASYNC = frozenset({"driver.py", "registry.py", "ports.py"})


def pure_modules() -> list[Path]:
    modules = [path for package in ("core", "ivr", "rules", "console")
               for path in sorted((ACD / package).glob("*.py"))]
    modules += [path for path in sorted((ACD / "callflow").glob("*.py"))
                if path.name not in CALLFLOW_ASYNC]
    modules += [ACD / "media" / "playables.py", ACD / "media" / "phrases.py"]
    modules += [ACD / "history" / "rows.py", ACD / "integration" / "events.py"]
    return modules


def imported(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (a function's import counts too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_pure_packages_are_all_there():
    names = {path.relative_to(ACD).as_posix() for path in pure_modules()}
    assert {"core/engine.py", "ivr/interpreter.py", "ivr/flowset.py", "rules/schedule.py",
            "callflow/session.py", "callflow/arrival.py"} <= names


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: p.relative_to(ACD).as_posix())
def test_a_pure_module_imports_no_event_loop_network_or_redis_library(path: Path):
    impure = {name for name in imported(path) if name.partition(".")[0] in IMPURE}
    assert not impure, f"{path.relative_to(ACD)} imports {', '.join(sorted(impure))}"


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: p.relative_to(ACD).as_posix())
def test_a_pure_module_does_not_reach_into_the_adapters(path: Path):
    adapters = {name for name in imported(path)
                if name.startswith(("acd.adapters", "acd.app", "acd.media.prompts"))}
    assert not adapters, f"{path.relative_to(ACD)} imports {', '.join(sorted(adapters))}"
