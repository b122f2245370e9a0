"""One managed AMI connection through panoramisk's Manager.

Logs in, fans events out to subscribers, sends actions with a timeout, and
reconnects with backoff when Asterisk restarts or the TCP connection drops.
After every (re)login it re-reads the channels Asterisk has (`CoreShowChannels`)
and hands them to the resync subscribers, because events missed during an
outage are gone for good.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from acd.config.settings import AmiConfig
from acd.metrics import count

log = logging.getLogger(__name__)

#: an AMI message as panoramisk gives it (its Message: a case-insensitive mapping of
#: header to value)
Event = Mapping[str, str]
#: an action's response: one message, or all of them (`as_list`, e.g. CoreShowChannels)
Response = Event | list[Event]
#: a subscriber: returns nothing, or a coroutine that is run as a task of its own
EventHandler = Callable[[Event], object]
ResyncHandler = Callable[[list[Event]], object]


class AmiUnavailable(Exception):
    """Asterisk's manager interface cannot be reached right now."""


class AmiActionFailed(Exception):
    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"AMI {action} failed: {message}")
        self.action = action


class _BackoffManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager, retrying with a growing delay while Asterisk is away."""

    MAX_BACKOFF = 5.0
    #: set by Manager.__init__ from its `reconnect_timeout` argument
    reconnect_timeout: float

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        failed = f.cancelled() or f.exception() is not None
        self.reconnect_timeout = (min(self.reconnect_timeout * 2, self.MAX_BACKOFF)
                                  if failed else 1)
        super().connection_made(f)

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok = bool(super().login(future))
        if not ok:
            log.error("AMI login refused for user %r: check ami.username/ami.secret in the "
                      "config and the [%s] section of manager.conf",
                      self.config.get("username"), self.config.get("username"))
        return ok


@dataclass(frozen=True)
class EventFilter:
    """A narrowing of the events one handler is sent (AMI advanced filtering):
    `header` of the event matched against `value` by `method`."""

    header: str
    value: str
    method: str = "exact"  # exact | starts_with | ends_with | contains | regex


class AmiClient:

    def __init__(self, config: AmiConfig) -> None:
        self._config = config
        self._manager: Manager | None = None
        self._handlers: list[tuple[str, EventHandler]] = []
        self._narrowing: dict[str, tuple[EventFilter | None, tuple[EventFilter, ...]]] = {}
        self._resync_handlers: list[ResyncHandler] = []
        self._logged_in = asyncio.Event()
        self._lost_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: logins since start, the first included (reconnects: the ones after it)
        self.logins = 0

    @property
    def connected(self) -> bool:
        return self._logged_in.is_set()

    def on_event(self, pattern: str, handler: EventHandler, *,
                 only: EventFilter | None = None,
                 exclude: Sequence[EventFilter] = ()) -> None:
        """Subscribe to events whose name matches `pattern` (fnmatch, e.g. 'Hangup', '*').

        `only` and `exclude` narrow what Asterisk sends for this event name: an event
        Asterisk does not send costs neither side anything."""
        self._handlers.append((pattern, handler))
        self._narrowing[pattern] = (only, tuple(exclude))
        if self._manager is not None:
            self._manager.register_event(pattern, self._wrap(handler))

    def on_resync(self, handler: ResyncHandler) -> None:
        """Called with the channel list after every login, first included."""
        self._resync_handlers.append(handler)

    async def start(self) -> None:
        """Start connecting; returns at once. Use wait_connected() to wait for login."""
        cfg = self._config
        self._manager = _BackoffManager(
            host=cfg.host, port=cfg.port, username=cfg.username, secret=cfg.secret,
            ping_delay=5, ping_interval=5, reconnect_timeout=1,
            on_login=self._on_login, on_disconnect=self._on_disconnect,
            forgetable_actions=("ping", "login", "coreshowchannels"),
        )
        for pattern, handler in self._handlers:
            self._manager.register_event(pattern, self._wrap(handler))
        self._manager.register_event("Shutdown", self._wrap(self._on_shutdown))
        self._manager.connect()

    async def wait_connected(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._logged_in.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self._manager is not None:
            self._manager.connection_lost = lambda exc: None  # no reconnect on purpose
            self._manager.close()
        for task in list(self._tasks):
            task.cancel()
        self._logged_in.clear()

    async def send(self, action: dict[str, str], *, as_list: bool | None = None,
                   timeout: float | None = None) -> Response:
        """Send an action and wait for its response (a Message or a list of them)."""
        if self._manager is None or not self.connected:
            raise AmiUnavailable(f"AMI at {self._config.host}:{self._config.port} is not "
                                 "connected; is Asterisk running?")
        name = action.get("Action", "?")
        count("ami_actions")
        future = self._manager.send_action(dict(action), as_list=as_list)
        try:
            response = await asyncio.wait_for(future, timeout or self._config.action_timeout)
        except TimeoutError:
            raise AmiActionFailed(name, "no response in time") from None
        first = response[0] if isinstance(response, list) and response else response
        if isinstance(first, Message) and first.get("Response") == "Error":
            raise AmiActionFailed(name, first.get("Message", "error"))
        return response

    async def channels(self) -> list[Event]:
        """The channels Asterisk has right now (CoreShowChannels)."""
        response = await self.send({"Action": "CoreShowChannels"}, as_list=True)
        messages = response if isinstance(response, list) else [response]
        return [m for m in messages if m.get("Event") == "CoreShowChannel"]

    # -- panoramisk callbacks -------------------------------------------------

    def _wrap(self, handler: EventHandler) -> Callable[[Manager, Message], None]:
        def callback(_manager: Manager, event: Message) -> None:
            count("ami_events")
            try:
                result = handler(event)
            except Exception:
                log.exception("AMI event handler %r failed on %s", handler,
                              event.get("Event"))
                return
            if asyncio.iscoroutine(result):
                self._spawn(result, f"handler for {event.get('Event')}")

        return callback

    def _spawn(self, coro: Awaitable[object], what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception:
                log.exception("AMI %s failed", what)

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    #: events acd's session needs besides its handlers' (Originate's async result)
    ALWAYS_WANTED = ("Shutdown", "FullyBooted", "OriginateResponse")

    async def _filter_events(self) -> None:
        """Ask Asterisk for only the events acd handles (AMI advanced event filtering,
        name matching by hash). The call class alone sends ~15 events per call leg
        (Newchannel, Newstate, Bridge*, MusicOnHold*...); under load, reading them was
        a fifth of acd's CPU. Per session: other AMI users are not affected."""
        names = {pattern for pattern, _ in self._handlers}
        if any(set(name) & set("*?[") for name in names):
            return  # a wildcard handler wants everything
        try:
            for name in sorted(names | set(self.ALWAYS_WANTED)):
                only, excludes = self._narrowing.get(name, (None, ()))
                criteria, value = f"name({name})", ""
                if only is not None:
                    criteria += f",header({only.header}),method({only.method})"
                    value = only.value
                await self.send({"Action": "Filter", "Operation": "Add",
                                 "MatchCriteria": criteria, "Filter": value})
                for ex in excludes:  # applied after the includes: Asterisk's order
                    await self.send({
                        "Action": "Filter", "Operation": "Add",
                        "MatchCriteria": f"action(exclude),name({name}),header({ex.header}),"
                                         f"method({ex.method})", "Filter": ex.value})
        except AmiActionFailed as exc:  # Asterisk before 20.8/21.3: no advanced filters
            log.warning("AMI event filter refused (%s): acd reads every event, which "
                        "costs CPU under load; upgrade Asterisk to filter", exc)

    def _on_login(self, manager: Manager) -> None:
        self._logged_in.set()
        self.logins += 1
        self._spawn(self._filter_events(), "event filter")
        if self._lost_at is not None:
            log.warning("AMI connection to %s:%s is back after %.1f s; re-reading channels",
                        self._config.host, self._config.port, time.monotonic() - self._lost_at)
            self._lost_at = None
        else:
            log.info("AMI logged in to %s:%s as %s", self._config.host, self._config.port,
                     self._config.username)
        self._spawn(self._resync(), "resync after login")

    def _on_disconnect(self, manager: Manager, exc: BaseException | None) -> None:
        self._mark_lost("connection lost")

    def _on_shutdown(self, event: Event) -> None:
        self._mark_lost(f"Asterisk is shutting down ({event.get('Shutdown', '?')})")

    def _mark_lost(self, why: str) -> None:
        if self._lost_at is None:
            self._lost_at = time.monotonic()
            log.error("AMI %s: calls cannot be controlled until Asterisk is back; "
                      "reconnecting with backoff (at most every %.0f s)", why,
                      _BackoffManager.MAX_BACKOFF)
        self._logged_in.clear()

    async def _resync(self) -> None:
        channels = await self.channels()
        for handler in self._resync_handlers:
            result = handler(channels)
            if asyncio.iscoroutine(result):
                await result
