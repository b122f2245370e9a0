"""Users, password hashes and sessions (a hand-set `now`), and `acd hash-password`."""

from __future__ import annotations

import io

import pytest

from acd.adapters.http.auth import (
    ITERATIONS,
    Role,
    Sessions,
    User,
    authenticate,
    changed_users,
    hash_password,
    prepare_users,
    verify_hash,
)
from acd.cli import main

SAM = User("sam", Role.SUPERVISOR, password="s-pw")
ROOT = User("root", Role.ADMIN, password="r-pw")


def test_a_hash_from_hash_password_accepts_only_its_password():
    encoded = hash_password("correct horse")
    assert encoded.startswith(f"pbkdf2_sha256${ITERATIONS}$")
    assert verify_hash(encoded, "correct horse")
    assert not verify_hash(encoded, "correct horsE")
    assert not verify_hash("pbkdf2_sha256$x$y$z", "correct horse")


def test_a_user_never_shows_its_password_or_hash():
    user = User("alice", Role.AGENT, password="p4ss", password_hash="pbkdf2_sha256$1$c2FsdA==$aA==",
                agent_id="1001")
    for text in (repr(user), str(user), repr({"alice": user})):
        assert "p4ss" not in text and "pbkdf2" not in text
        assert "alice" in text and "1001" in text


def test_plain_passwords_are_hashed_when_users_are_prepared():
    users = prepare_users({"sam": SAM, "nopass": User("nopass", Role.ADMIN)})
    assert users["sam"].password == "" and users["sam"].password_hash
    assert authenticate(users, "sam", "s-pw") == users["sam"]
    assert authenticate(users, "sam", "nope") is None
    assert authenticate(users, "nopass", "") is None
    assert authenticate(users, "ghost", "s-pw") is None


def test_a_reload_changes_only_the_users_whose_configuration_changed():
    before = prepare_users({"sam": SAM, "root": ROOT})
    after = prepare_users({"sam": SAM, "root": User("root", Role.ADMIN, password="new")},
                          before)
    assert after["sam"] == before["sam"]  # same password: same hash, no new salt
    assert changed_users(before, after) == {"root"}
    assert changed_users(before, {"sam": after["sam"]}) == {"root"}
    demoted = {**before, "sam": User("sam", Role.AGENT, password_hash=before["sam"].password_hash,
                                     agent_id="1001")}
    assert changed_users(before, demoted) == {"sam"}


def test_tokens_expire_after_their_ttl():
    sessions = Sessions(ttl=60)
    token = sessions.issue(SAM, now=0)
    assert sessions.user(token, now=59.9) == SAM
    assert sessions.user(token, now=60) is None
    assert len(sessions) == 0


def test_logout_revokes_the_token():
    sessions = Sessions()
    token, other = sessions.issue(SAM, now=0), sessions.issue(SAM, now=0)
    assert sessions.revoke(token)
    assert sessions.user(token, now=1) is None
    assert not sessions.revoke(token)
    assert sessions.user(other, now=1) == SAM


def test_expired_tokens_are_purged():
    sessions = Sessions(ttl=60)
    old = [sessions.issue(SAM, now=0) for _ in range(3)]
    fresh = sessions.issue(ROOT, now=30)
    assert sessions.purge(now=60) == 3
    assert len(sessions) == 1 and sessions.user(fresh, now=61) == ROOT
    assert all(sessions.user(t, now=0) is None for t in old)


def test_a_user_holds_a_bounded_number_of_live_tokens_the_oldest_revoked_first():
    sessions = Sessions(per_user=3)
    tokens = [sessions.issue(SAM, now=n) for n in range(5)]
    root = sessions.issue(ROOT, now=5)
    assert [sessions.user(t, now=6) is not None for t in tokens] == [False, False, True, True,
                                                                    True]
    assert sessions.user(root, now=6) == ROOT
    assert len(sessions) == 4


def test_revoking_users_ends_all_their_tokens_and_nobody_elses():
    sessions = Sessions()
    sams = [sessions.issue(SAM, now=0) for _ in range(3)]
    root = sessions.issue(ROOT, now=0)
    assert sessions.revoke_users({"sam", "ghost"}) == 3
    assert all(sessions.user(t, now=1) is None for t in sams)
    assert sessions.user(root, now=1) == ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_hash_password_reads_one_line_from_a_pipe(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pw\n"))
    assert main(["hash-password"]) == 0
    line = capsys.readouterr().out.strip()
    assert verify_hash(line, "s3cret pw")


def test_hash_password_asks_twice_on_a_terminal_and_refuses_a_mismatch(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal())
    answers = iter(["s3cret", "s3cret", "one", "two"])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert main(["hash-password"]) == 0
    assert verify_hash(capsys.readouterr().out.strip(), "s3cret")
    assert len(prompts) == 2
    assert main(["hash-password"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "differ" in captured.err


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_hash_password_refuses_an_empty_password(monkeypatch, capsys, stdin):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(["hash-password"]) == 1
    assert capsys.readouterr().out == ""
