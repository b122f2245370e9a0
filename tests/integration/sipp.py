"""sipp test phones for the sandbox Asterisk, and what they saw.

- ``SippCaller``: 400-number callers (UAC), From user = caller number.
- ``SippAgentDialer``: an agent's softphone dialing a feature code such as
  ``*71`` (UAC, answers Asterisk's 401 challenge).
- ``SippAgentPhones``: every agent's softphone at once (UAS on 5071; the
  supervisor's on 5073), answering, rejecting or ignoring each INVITE.

Each run gets its own folder (scenario, audio links, logs). The scenarios log
one line per event with epoch timestamps (``<log>`` + ``-trace_logs``); those
lines become ``UacCall`` / ``AgentCall`` records. Every run is bounded: a
timeout kills sipp. sipp 3.6.1 quirks that shaped this: ``-set`` values are
strings, a variable referenced once is fatal, global receives must come
before the step they interrupt, and an ``<ereg>`` on a ``<nop>`` segfaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self, TypeVar

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
REPO = Path(__file__).resolve().parents[2]
ASTERISK = ("127.0.0.1", 5060)
AGENT_PHONES_PORT = 5071
SUPERVISOR_PHONE_PORT = 5073
DTMF_MARKER = "<!-- DTMF -->"

T = TypeVar("T")


class SippError(RuntimeError):
    """sipp could not start, failed, or outlived its time limit."""


@dataclass(frozen=True)
class Dtmf:
    """One digit sent as SIP INFO ``at`` seconds after the call is answered."""

    at: float
    digit: str

    @staticmethod
    def sequence(digits: str, start: float = 1.0, gap: float = 0.3) -> list[Dtmf]:
        """Digits typed one after the other: ``Dtmf.sequence("1001#", start=1.5)``."""
        return [Dtmf(start + i * gap, d) for i, d in enumerate(digits)]


@dataclass
class UacCall:
    """One call placed by a ``SippCaller`` or ``SippAgentDialer``."""

    number: int
    party: str  # the From user: caller number or agent name
    call_id: str = ""
    invited_at: float | None = None
    final_status: int | None = None  # final response to the INVITE (200, 486, ...)
    answered_at: float | None = None
    dtmf_sent: list[tuple[float, str]] = field(default_factory=list)
    ended_at: float | None = None
    ended_by: Literal["us", "them"] | None = None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass
class AgentCall:
    """One INVITE received by ``SippAgentPhones`` and what the phone did."""

    number: int
    agent: str  # user part of the request URI: agent1001, supervisor1
    call_id: str
    invited_at: float
    outcome: Literal["ringing", "answered", "rejected", "cancelled"] = "ringing"
    answered_at: float | None = None
    ended_at: float | None = None
    ended_by: Literal["us", "them"] | None = None
    transferred_to: str = ""  # the number this phone blind-transferred the caller to
    #: ("held" | "resumed", when our re-INVITE was accepted), in order
    holds: list[tuple[str, float]] = field(default_factory=list)
    #: the caller id the phone was shown (the From URI's user)
    from_user: str = ""


def _udp_port_bound(port: int) -> bool:
    """Whether some socket holds this UDP port (read from /proc: a test bind
    could itself make a starting sipp fail to bind)."""
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            next(rows)
            if any(int(row.split()[1].rsplit(":", 1)[1], 16) == port for row in rows):
                return True
    return False


def _log_lines(path: Path) -> list[list[str]]:
    """The `call;NUMBER;PARTY;EVENT;SECONDS;MICROS;...` lines of a sipp log. A line sipp
    wrote only in part (killed mid-write, or a variable still empty) is skipped: one
    run once crashed on an empty timestamp."""
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    rows = [line.split(";") for line in text.splitlines() if line.startswith("call;")]
    return [row for row in rows if len(row) >= 6 and _is_number(row[1])
            and _is_number(row[4]) and _is_number(row[5])]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _epoch(seconds: str, micros: str) -> float:
    # gettimeofday values are doubles printed as "1795437131.000000".
    return float(seconds) + float(micros) / 1e6


class SippProcess:
    """One sipp process: start, wait or stop, and its run folder."""

    kind = "sipp"

    def __init__(self, *, port: int, timeout: float, workdir: Path | None) -> None:
        self.port = port
        self.media_port = 16000 + (port - 5060) * 10  # sipp also uses media_port + 2
        self.timeout = timeout
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0

    # -- what subclasses provide -----------------------------------------
    def _scenario(self) -> str:
        raise NotImplementedError

    def _arguments(self) -> list[str]:
        raise NotImplementedError

    def _prepare(self, workdir: Path) -> None:
        """Write injection files and link audio into the run folder."""

    # -- lifecycle ---------------------------------------------------------
    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            base = REPO / "var" / "sipp"
            base.mkdir(parents=True, exist_ok=True)
            self._workdir = Path(tempfile.mkdtemp(prefix=f"{self.kind}-", dir=base))
        return self._workdir

    @property
    def events_log(self) -> Path:
        return self.workdir / "events.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        binary = shutil.which("sipp")
        if binary is None:
            raise SippError("sipp is not installed: run scripts/setup.sh")
        if _udp_port_bound(self.port):
            raise SippError(f"UDP port {self.port} is taken: is another sipp still running?")
        workdir = self.workdir
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "scenario.xml").write_text(self._scenario())
        self._prepare(workdir)
        command = [
            binary, "-sf", "scenario.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1",
            "-p", str(self.port), "-mp", str(self.media_port), "-nostdin", "-aa",
            "-trace_logs", "-log_file", "events.log",
            "-trace_shortmsg", "-shortmessage_file", "messages.csv",
            "-trace_err", "-error_file", "errors.log",
            *self._arguments(),
        ]
        (workdir / "command.txt").write_text(" ".join(command) + "\n")
        with open(workdir / "screen.txt", "wb") as out:
            self._proc = subprocess.Popen(
                command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self._started = time.monotonic()
        return self

    def wait(self, timeout: float | None = None) -> int:
        """Block until sipp exits; kill it and raise ``SippError`` at the deadline."""
        proc = self._require_started()
        limit = self.timeout if timeout is None else timeout
        try:
            return proc.wait(timeout=max(0.0, self._started + limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.stop()
            raise SippError(
                f"{self.kind} still running after {limit:.0f}s\n{self.diagnostics()}") from None

    async def finished(self, timeout: float | None = None) -> int:
        """Like ``wait`` but lets the event loop run (AMI, FastAGI) meanwhile."""
        proc = self._require_started()
        deadline = self._started + (self.timeout if timeout is None else timeout)
        while proc.poll() is None:
            if time.monotonic() > deadline:
                self.stop()
                raise SippError(f"{self.kind} did not finish in time\n{self.diagnostics()}")
            await asyncio.sleep(0.05)
        return proc.returncode

    def stop(self) -> None:
        """Terminate sipp (its log lines are already on disk); safe to repeat."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def diagnostics(self) -> str:
        """The tail of sipp's screen and error log, for assertion messages."""
        parts = [f"run folder: {self.workdir}"]
        for name in ("screen.txt", "errors.log"):
            path = self.workdir / name
            if path.exists():
                lines = path.read_text(errors="replace").strip().splitlines()[-15:]
                parts.append(f"--- {name}\n" + "\n".join(lines))
        return "\n".join(parts)

    async def wait_until(
        self, probe: Callable[[], T | None], timeout: float, what: str
    ) -> T:
        """Poll ``probe`` until it returns something truthy, with a deadline."""
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                raise SippError(f"timed out after {timeout}s waiting for {what}\n"
                                f"{self.diagnostics()}")
            await asyncio.sleep(0.05)

    def _require_started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise SippError(f"{self.kind} was never started")
        return self._proc


class _SippUac(SippProcess):
    """Calls ``service`` once per entry of ``parties`` (the From users)."""

    def __init__(
        self,
        *,
        service: str,
        parties: Sequence[str],
        calls: int,
        rate: float,
        hangup_after: float | None,
        dtmf: Sequence[Dtmf],
        port: int,
        timeout: float,
        workdir: Path | None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(port=port, timeout=timeout, workdir=workdir)
        if not parties:
            raise ValueError("at least one From user is needed")
        last_dtmf = max((d.at for d in dtmf), default=0.0)
        if hangup_after is not None and hangup_after <= last_dtmf:
            raise ValueError("hangup_after must come after the last DTMF digit")
        self.service = service
        self.parties = list(parties)
        self.calls_to_make = calls
        self.rate = rate
        self.hangup_after = hangup_after
        self.dtmf = sorted(dtmf, key=lambda d: d.at)
        self.auth = auth

    def _scenario(self) -> str:
        steps, previous = [], 0.0
        for index, tone in enumerate(self.dtmf):
            steps.append(_dtmf_step(tone.digit, round((tone.at - previous) * 1000), 10 + index))
            previous = tone.at
        return (SCENARIOS / "uac.xml").read_text().replace(DTMF_MARKER, "\n".join(steps))

    def _prepare(self, workdir: Path) -> None:
        (workdir / "parties.csv").write_text("SEQUENTIAL\n" + "\n".join(self.parties) + "\n")
        _link(SCENARIOS / "caller.wav", workdir / "caller.wav")

    def _arguments(self) -> list[str]:
        last_dtmf = self.dtmf[-1].at if self.dtmf else 0.0
        # "0" means wait for their BYE; after DTMF, hold only for the remainder.
        hold_ms = 0 if self.hangup_after is None else max(
            1, round((self.hangup_after - last_dtmf) * 1000))
        period_ms = max(1, round(1000 / self.rate))
        args = [
            f"{ASTERISK[0]}:{ASTERISK[1]}", "-s", self.service, "-inf", "parties.csv",
            "-set", "hold_ms", str(hold_ms), "-m", str(self.calls_to_make),
            "-r", "1", "-rp", str(period_ms),
            # every call may be open at once: sipp's default cap (3 x the rate per second)
            # holds calls back at low rates (one at a time at 1/3 per second)
            "-l", str(max(1, self.calls_to_make)),
            # Any one wait (for the answer, a response, their BYE) is capped too.
            "-recv_timeout", str(round(min(self.timeout, 120.0) * 1000)),
            "-timeout", f"{round(self.timeout)}s", "-timeout_error",
        ]
        if self.auth is not None:
            args += ["-au", self.auth[0], "-ap", self.auth[1]]
        return args

    def calls(self) -> list[UacCall]:
        """Every call so far, by sipp call number, from the event and message logs."""
        records: dict[int, UacCall] = {}
        for row in _log_lines(self.events_log):
            number, party, event, at = int(row[1]), row[2], row[3], _epoch(row[4], row[5])
            call = records.setdefault(number, UacCall(number, party))
            if event == "answered":
                call.answered_at = at
            elif event == "dtmf":
                call.dtmf_sent.append((at, row[6]))
            elif event in ("hangup", "bye"):
                call.ended_at, call.ended_by = at, "us" if event == "hangup" else "them"
        for number, call_id, at, direction, cseq, first_line in _short_messages(
                self.workdir / "messages.csv"):
            call = records.setdefault(number, UacCall(number, self._party(number)))
            call.call_id = call_id
            if direction == "S" and cseq.endswith(" INVITE") and call.invited_at is None:
                call.invited_at = at
            if direction == "R" and cseq.endswith(" INVITE") and first_line.startswith("SIP/"):
                status = int(first_line.split()[1])
                if status >= 200 and status not in (401, 407):
                    call.final_status = status
        return [records[n] for n in sorted(records)]

    def _party(self, number: int) -> str:
        return self.parties[(number - 1) % len(self.parties)]


def _dtmf_step(digit: str, pause_ms: int, cseq: int) -> str:
    return f"""  <pause milliseconds="{max(0, pause_ms)}"/>
  <send>
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={digit}
      Duration=160

    ]]>
  </send>
  <recv response="200">
    <action>
      <gettimeofday assign_to="s,us"/>
      <log message="call;[call_number];[field0];dtmf;[$s];[$us];{digit}"/>
    </action>
  </recv>"""


def _short_messages(path: Path) -> Iterable[tuple[int, str, float, str, str, str]]:
    """(call number, Call-ID, epoch, S|R, CSeq, first line) per SIP message."""
    if not path.exists():
        return
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 7 or not parts[4][:1].isdigit():
            continue
        call_id = parts[4]
        yield (int(call_id.split("-", 1)[0]), call_id, float(parts[2]), parts[3],
               parts[5].replace("CSeq:", "").strip(), parts[6])


def _link(source: Path, target: Path) -> None:
    if not target.exists():
        target.symlink_to(source)


class SippCaller(_SippUac):
    """400-number callers: ``calls`` calls at ``rate`` per second, cycling ``numbers``.

    The sandbox identifies them as the trunk (endpoint ``anonymous``), so the
    call enters ``[acd-inbound]`` with EXTEN = ``did``. They stream audio from
    the answer on, send ``dtmf`` as SIP INFO, and hang up ``hangup_after``
    seconds after the answer, or wait for Asterisk's BYE when it is None.
    """

    kind = "caller"

    def __init__(
        self,
        numbers: str | Sequence[str] = "13800138000",
        *,
        did: str = "4008001234",
        calls: int = 1,
        rate: float = 1.0,
        hangup_after: float | None = 5.0,
        dtmf: Sequence[Dtmf] = (),
        port: int = 5061,
        timeout: float = 60.0,
        workdir: Path | None = None,
    ) -> None:
        parties = [numbers] if isinstance(numbers, str) else list(numbers)
        super().__init__(service=did, parties=parties, calls=calls, rate=rate,
                         hangup_after=hangup_after, dtmf=dtmf, port=port,
                         timeout=timeout, workdir=workdir)


class SippAgentDialer(_SippUac):
    """An agent's softphone dialing a feature code, then typing digits.

    ``SippAgentDialer("agent1001", "*71", Dtmf.sequence("1001#"), password=...)``.
    Asterisk identifies it by the From user and challenges it; the password is
    the sandbox's ``ACD_SIP_PASSWORD`` (read from the environment by default).
    """

    kind = "dialer"

    def __init__(
        self,
        agent: str,
        code: str,
        dtmf: Sequence[Dtmf] = (),
        *,
        password: str | None = None,
        hangup_after: float | None = None,
        port: int = 5072,
        timeout: float = 30.0,
        workdir: Path | None = None,
    ) -> None:
        secret = password if password is not None else os.environ.get("ACD_SIP_PASSWORD")
        if not secret:
            raise SippError("no SIP password: pass password= or load var/sandbox.env")
        super().__init__(service=code, parties=[agent], calls=1, rate=1.0,
                         hangup_after=hangup_after, dtmf=dtmf, port=port,
                         timeout=timeout, workdir=workdir, auth=(agent, secret))


@dataclass(frozen=True)
class PhoneBehaviour:
    """How one phone treats an INVITE."""

    mode: Literal["answer", "reject", "ignore"] = "answer"
    answer_after: float = 1.0  # seconds of ringing before answering or rejecting
    talk_time: float | None = None  # hang up after this; None = wait for their BYE
    #: after talk_time, blind-transfer the caller to this number (SIP REFER) instead
    transfer_to: str = ""
    #: (seconds after the answer, seconds on hold): press hold, then resume; talk_time
    #: then counts from the resume
    hold: tuple[float, float] | None = None


class SippAgentPhones(SippProcess):
    """Every agent's softphone: one UAS on 5071 (use port 5073 for supervisor1).

    ``default`` applies to every agent, ``overrides`` to the named ones, e.g.
    ``{"agent1002": PhoneBehaviour("reject")}``.
    """

    kind = "phones"

    def __init__(
        self,
        default: PhoneBehaviour = PhoneBehaviour(),
        overrides: dict[str, PhoneBehaviour] | None = None,
        *,
        port: int = AGENT_PHONES_PORT,
        timeout: float = 600.0,
        workdir: Path | None = None,
    ) -> None:
        super().__init__(port=port, timeout=timeout, workdir=workdir)
        self.default = default
        self.overrides = dict(overrides or {})

    def _scenario(self) -> str:
        return (SCENARIOS / "uas.xml").read_text()

    def _prepare(self, workdir: Path) -> None:
        # sipp needs at least one line to index; "-" matches no request URI.
        rows = [f"{agent};{_behaviour_fields(b)}" for agent, b in self.overrides.items()]
        rows = rows or ["-;answer;0;0;-;0;0"]
        (workdir / "agents.csv").write_text("SEQUENTIAL\n" + "\n".join(rows) + "\n")
        _link(SCENARIOS / "agent.wav", workdir / "agent.wav")

    def _arguments(self) -> list[str]:
        mode, answer_ms, talk_ms, transfer_to, hold_at_ms, hold_ms = \
            _behaviour_fields(self.default).split(";")
        return [
            "-set", "mode", mode, "-set", "answer_ms", answer_ms, "-set", "talk_ms", talk_ms,
            "-set", "transfer_to", transfer_to, "-set", "hold_at_ms", hold_at_ms,
            "-set", "hold_ms", hold_ms,
            "-inf", "agents.csv", "-infindex", "agents.csv", "0",
            "-timeout", f"{round(self.timeout)}s",
        ]

    def start(self) -> Self:
        super().start()
        # Ready once sipp holds the port; fail fast if it died instead.
        deadline = time.monotonic() + 5
        while not _udp_port_bound(self.port):
            if not self.running or time.monotonic() > deadline:
                self.stop()
                raise SippError(f"agent phones did not start\n{self.diagnostics()}")
            time.sleep(0.02)
        return self

    def calls(self) -> list[AgentCall]:
        """Every INVITE received so far, in order."""
        records: dict[int, AgentCall] = {}
        for row in _log_lines(self.events_log):
            number, agent, event, at = int(row[1]), row[2], row[3], _epoch(row[4], row[5])
            if event == "invite":
                records[number] = AgentCall(number, agent, row[6], at,
                                            from_user=row[8].removeprefix("sip:")
                                            .removesuffix("@") if len(row) > 8 else "")
                continue
            call = records.get(number)
            if call is None:  # e.g. a stray CANCEL for a call this run never saw
                continue
            if event == "answered":
                call.outcome, call.answered_at = "answered", at
            elif event in ("rejected", "cancelled"):
                call.outcome, call.ended_at = event, at
            elif event == "transferred":
                call.transferred_to = row[6]
            elif event in ("held", "resumed"):
                call.holds.append((event, at))
            elif event in ("hangup", "bye"):
                call.ended_at, call.ended_by = at, "us" if event == "hangup" else "them"
        return [records[n] for n in sorted(records)]

    async def wait_for_calls(self, count: int = 1, timeout: float = 10.0) -> list[AgentCall]:
        """The first ``count`` INVITEs, once they have arrived."""
        def probe() -> list[AgentCall] | None:
            calls = self.calls()
            return calls[:count] if len(calls) >= count else None

        return await self.wait_until(probe, timeout, f"{count} INVITE(s) on port {self.port}")


def _behaviour_fields(behaviour: PhoneBehaviour) -> str:
    talk_ms = 0 if behaviour.talk_time is None else max(1, round(behaviour.talk_time * 1000))
    hold_at, hold_for = behaviour.hold or (0.0, 0.0)
    return (f"{behaviour.mode};{round(behaviour.answer_after * 1000)};{talk_ms};"
            f"{behaviour.transfer_to or '-'};{round(hold_at * 1000)};{round(hold_for * 1000)}")
