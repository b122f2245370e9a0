"""Hostile YAML (alias bombs, deep nesting, bad bytes, huge files) is refused with its position.

None of these tests is timed: each limit is checked as the file is read, before
anything grows, so a refused file costs at most the budget's worth of work. A
test that finishes at all on a bomb of 10**30 values shows it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.settings import ConfigError, load_config
from acd.yamlsource import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    Position,
    SourceError,
    load_file,
    load_text,
    read_bytes,
)


def error_of(text: str | bytes) -> SourceError:
    with pytest.raises(SourceError) as caught:
        load_text(text, "f.yaml")
    return caught.value


def laughs(levels: int, fan_out: int = 10) -> str:
    """The billion laughs: each line repeats the previous one fan_out times."""
    lines = ["l0: &l0 lol"]
    for i in range(1, levels + 1):
        aliases = ", ".join([f"*l{i - 1}"] * fan_out)
        lines.append(f"l{i}: &l{i} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_the_alias_that_exceeds_the_budget():
    error = error_of(laughs(30))  # 10**30 values if it were expanded
    # l1..l3 repeat 10 + 110 + 1110 values, each *l3 1111 more: the 8th of them is too
    # many, and nothing after it is even read.
    assert error.position == Position("f.yaml", 5, 10 + 5 * 7)
    assert error.message == (f"aliases (*l3 here) repeat more than {MAX_ALIAS_NODES} values "
                             "in all: write the repeated parts out, or use fewer aliases")


def test_a_bomb_of_merge_keys_is_refused_too():
    # `<<` copies the merged pairs, so each line doubles the mapping before it.
    lines = ["m0: &m0 {a: 1}"] + [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}]}}"
                                   for i in range(1, 64)]
    error = error_of("\n".join(lines))
    assert error.position is not None and error.position.line < 20
    assert error.message.startswith("aliases (*m")


def test_an_alias_inside_the_value_it_names_is_refused():
    error = error_of("a: &loop [1, *loop]\n")
    assert (str(error)) == ("f.yaml:1:14: alias *loop is inside the value &loop it repeats: "
                            "a value cannot contain itself")


@pytest.mark.parametrize(("text", "line", "column"), [
    ("[" * 100_000, 1, MAX_DEPTH + 1),
    ("{a: " * 100_000, 1, 4 * MAX_DEPTH - 2),  # the key of the 64th mapping
    ("".join(" " * i + "- \n" for i in range(100)), MAX_DEPTH + 1, MAX_DEPTH + 1),
])
def test_nesting_deeper_than_the_limit_is_refused_where_it_goes_too_deep(
    text: str, line: int, column: int
):
    error = error_of(text)
    assert error.position == Position("f.yaml", line, column)
    assert error.message == (f"nested more than {MAX_DEPTH} levels deep (aliases included): "
                             "flatten the structure")


def test_aliases_cannot_carry_nesting_past_the_limit():
    deep = "[" * 40 + "1" + "]" * 40
    error = error_of(f"a: &deep {deep}\nb: {'[' * 30}*deep{']' * 30}\n")
    assert error.position == Position("f.yaml", 2, 34)
    assert error.message.startswith(f"nested more than {MAX_DEPTH} levels deep")


def test_bytes_that_are_not_utf8_are_reported_at_their_line_and_column():
    error = error_of("a: 1\nb: 欢迎 café ".encode() + b"\xff\xfe\n")
    assert error.position == Position("f.yaml", 2, 12)  # columns count characters
    assert error.message == "byte 0xff is not UTF-8: save the file as UTF-8"


def test_a_file_in_another_encoding_is_refused_at_its_first_byte():
    error = error_of("a: 欢迎\n".encode("gbk"))
    assert error.position == Position("f.yaml", 1, 4)


def test_a_control_character_is_reported_at_its_line_and_column():
    error = error_of("a: 1\nb: x\x00y\n")
    assert str(error) == "f.yaml:2:5: character U+0000 is not allowed in YAML: remove it"


def test_a_file_larger_than_the_limit_is_refused_after_reading_just_past_it(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (3 * MAX_FILE_BYTES // 10))
    assert len(read_bytes(big)) == MAX_FILE_BYTES + 1
    with pytest.raises(SourceError) as caught:
        load_file(big)
    assert str(caught.value) == (f"{big}:1:1: the file is larger than 1024 KiB: split it or "
                                 "remove what is not needed")


def test_more_values_than_the_limit_are_refused_at_the_first_one_too_many():
    error = error_of("[" + "1," * MAX_NODES + "1]")
    assert error.position == Position("f.yaml", 1, 2 * MAX_NODES)
    assert error.message == f"more than {MAX_NODES} values (aliases included): split the file"


def test_anchors_and_aliases_as_flows_use_them_still_load():
    data = load_text("""
invalid: &invalid {text: 输入有误}
menu: {invalid: *invalid, no_input: [*invalid, *invalid]}
""", "f.yaml")
    assert data["menu"]["no_input"] == [{"text": "输入有误"}] * 2
    assert data["menu"].pos("no_input") == Position("f.yaml", 3, 27)


def test_the_shipped_configuration_and_flows_are_within_the_limits():
    root = Path(__file__).resolve().parents[2]
    for path in [root / "config.yaml", *sorted((root / "ivr_flows").glob("*.yaml"))]:
        load_file(path)


def test_a_configuration_that_is_not_utf8_is_a_config_error_with_its_position(
    tmp_path: Path
):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"timezone: Asia/Shanghai\nlanguages: [zh, \xe4n]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:2:17: byte 0xe4 is not UTF-8: save the file as UTF-8"]
