"""Benchmark: the live wallboard with 1,000 agents and 500 waiting callers.

    python bench/bench_wallboard.py                  # 0, 1, 20 and 100 sockets + chromium
    python bench/bench_wallboard.py --clients 20 --rate 2000 --seconds 20

Run from the repository root. The server side is this process: the real routing core,
dispatcher, live stream (acd/adapters/http/live.py) and aiohttp app with /api/live and
/console/. A second process (this file with --client) opens N WebSockets, logs in like
a page and measures every delta; with --page it also drives the console in Debian's
chromium (Playwright) and measures how long the page takes to apply each message, its
long tasks (> 50 ms) and the longest gap between two animation frames.

Load: 10 queues of 100 agents, every agent logged in and paused, 700 callers queued.
200 of the agents (20 per queue) then run a cycle of five routing events, posted at
--rate events/s in total: resume (the core rings it for the head caller), answer, hang
up (wrap-up), pause, and a new caller joins; so at least 500 callers keep waiting while
the 200 ring or talk. Every event changes what the wallboard shows.

Measured: server CPU (this process's user+system time over the load, divided by the
events; the 0-socket run is the routing core alone, so the difference is the stream's
cost), deltas and bytes sent per socket, and the time from the routing core's decision
(an agent row's `since`, a caller's `arrived_at`) to a socket receiving the row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSWORD = "bench-pw"
QUEUES, PER_QUEUE, WAITING = 10, 100, 500
#: agents taking calls during the load (the others stay paused); callers in the queues
#: at the start: enough that WAITING still wait while every active agent holds one
ACTIVE = 200
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the server: routing core + dispatcher + stream + aiohttp --------------------------

@dataclass
class Load:
    """Each agent's cycle: paused -> resumed -> answered -> ended (wrap-up) -> paused,
    and a new caller after each pause."""

    agents: list[str]
    stage: dict[str, int] = field(default_factory=dict)
    ringing: dict[str, str] = field(default_factory=dict)  # agent -> call (from the core)
    next_call: int = 0
    posted: int = 0

    def next_event(self, ev: Any, turn: int) -> Any | None:
        agent = self.agents[turn % len(self.agents)]
        stage = self.stage.get(agent, 0)
        queue = f"q{int(agent) // PER_QUEUE % QUEUES}"
        if stage == 0:
            event = ev.AgentResumed(agent)
        elif stage == 1:
            call = self.ringing.pop(agent, None)
            if call is None:
                return None  # not rung yet (its queue had nobody waiting): later
            self.stage[agent] = 2
            self.ringing[agent] = call
            return ev.RingAnswered(call, agent)
        elif stage == 2:
            event = ev.CallEnded(self.ringing.pop(agent), agent)
        elif stage == 3:
            event = ev.AgentPaused(agent, "break")
        else:
            self.next_call += 1
            event = ev.CallQueued(f"n{self.next_call}", queue, f"1390000{self.next_call:04d}")
        self.stage[agent] = (stage + 1) % 5
        return event


async def serve(args: argparse.Namespace, clients: int, page: bool) -> dict[str, Any]:
    from aiohttp import web

    from acd.adapters.http.app import HttpServices, make_app
    from acd.adapters.http.auth import Role, User
    from acd.adapters.http.console import add_console
    from acd.adapters.http.live import EngineViews, LiveStream
    from acd.clock import SystemClock
    from acd.console.wallboard import Thresholds, Wallboard
    from acd.core import commands as cmd
    from acd.core import events as ev
    from acd.core.engine import RoutingEngine
    from acd.core.model import AgentConfig, QueueConfig, QueueMember
    from acd.dispatcher import Dispatcher

    ids = [str(1000 + n) for n in range(QUEUES * PER_QUEUE)]
    queues = [QueueConfig(f"q{q}", members=tuple(QueueMember(a, 0) for a in ids
                                                 if int(a) // PER_QUEUE % QUEUES == q),
                          wrap_up_seconds=3600, ring_timeout_seconds=3600)
              for q in range(QUEUES)]
    engine = RoutingEngine(queues, [AgentConfig(a, f"Agent {a}") for a in ids])
    clock = SystemClock()
    dispatcher = Dispatcher(engine, clock)
    live = LiveStream(EngineViews(engine),
                      Wallboard(Thresholds(pause_alert_seconds=600,
                                           service_level_seconds={q.name: 20 for q in queues})),
                      clock.now, interval=args.flush_ms / 1000)
    dispatcher.after_batch(live.after_batch)
    take_changes = live.watching(engine.take_changes)

    async def gate(commands: list[Any]) -> tuple[list[Any], list[Any]]:
        # acd's routing commit takes the engine's changes once per batch to save them in
        # Redis; here without Redis (the bench measures the wallboard, not the store)
        take_changes()
        return commands, []

    dispatcher.set_gate(gate)
    load = Load(ids[::len(ids) // ACTIVE])  # spread over the queues

    def sink(command: object) -> None:
        if isinstance(command, cmd.RingAgents):
            for target in command.targets:
                load.ringing[target.agent_id] = command.call_id

    dispatcher.add_sink(sink)
    dispatcher.start()
    app = make_app(HttpServices(users={"sup": User("sup", Role.SUPERVISOR, password=PASSWORD)}))
    add_console(app, live)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()

    for agent in ids:  # everyone logged in and paused, 500 callers waiting
        dispatcher.post(ev.AgentLoggedIn(agent, f"PJSIP/agent{agent}"))
        dispatcher.post(ev.AgentPaused(agent, "break"))
    for n in range(WAITING + ACTIVE):
        dispatcher.post(ev.CallQueued(f"w{n}", f"q{n % QUEUES}", f"1380000{n:04d}"))
    await dispatcher.submit(ev.AgentPaused(ids[0], "break"))

    client = None
    if clients or page:
        client = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client", str(port), "--clients", str(clients),
            "--seconds", str(args.seconds), *(["--page"] if page else []),
            stdout=asyncio.subprocess.PIPE)
        assert client.stdout is not None
        ready = await client.stdout.readline()  # every socket has its snapshot
        assert ready.strip() == b"ready", ready
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    posted, turn, tick = 0, 0, 0.01
    deadline = wall0 + args.seconds
    while (now := time.perf_counter()) < deadline:
        due = int((now - wall0) * args.rate) - posted
        for _ in range(due):
            event = None
            for _attempt in range(len(ids)):
                event = load.next_event(ev, turn)
                turn += 1
                if event is not None:
                    break
            if event is not None:
                dispatcher.post(event)
            posted += 1
        await asyncio.sleep(tick)
    await dispatcher.submit(ev.AgentPaused(ids[0], "break"))  # the last batch is handled
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    result: dict[str, Any] = {"clients": clients, "page": page, "events": posted,
                              "flush_ms": args.flush_ms,
                              "wall": wall, "cpu": cpu, "deltas": live.deltas,
                              "bytes_sent": live.bytes_sent,
                              "waiting": engine.waiting_count()}
    if client is not None:
        assert client.stdout is not None
        out = await client.stdout.read()
        await client.wait()
        result["client"] = json.loads(out)
    await dispatcher.stop()
    await runner.cleanup()
    return result


# -- the client side: N sockets, and the page in chromium --------------------------------

class Sockets:
    """N supervisors' sockets; the first one measures every row it receives."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.latencies: list[float] = []
        self.stats = {"messages": 0, "bytes": 0, "snapshots": 0}
        self.conns: list[Any] = []

    async def connect(self, http: Any, count: int) -> None:
        async with http.post(f"{self.url}/api/login",
                             json={"username": "sup", "password": PASSWORD}) as resp:
            token = (await resp.json())["token"]
        for _ in range(count):
            ws = await http.ws_connect(f"{self.url}/api/live", max_msg_size=0)
            await ws.send_str(json.dumps({"type": "auth", "token": token}))
            await ws.receive()  # the snapshot
            self.conns.append(ws)

    async def read(self, ws: Any, measure: bool) -> None:
        import aiohttp

        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                return
            received = time.time()
            self.stats["messages"] += 1
            self.stats["bytes"] += len(msg.data)
            if not measure:
                continue
            data = json.loads(msg.data)
            self.stats["snapshots"] += data["type"] == "snapshot"
            self.latencies.extend(received - row["since"]
                                  for row in data.get("agents", {}).values())
            self.latencies.extend(received - row["arrived_at"]
                                  for row in data.get("callers", {}).values())

    def result(self) -> dict[str, Any]:
        return {**self.stats, "latency_p50": percentile(self.latencies, 0.5),
                "latency_p99": percentile(self.latencies, 0.99),
                "rows_measured": len(self.latencies)}


PAGE_PROBE = """
window.__long = []; window.__gap = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) __long.push(e.duration); })
  .observe({type: "longtask", buffered: true});
let last = performance.now();
const frame = (t) => { __gap = Math.max(__gap, t - last); last = t; requestAnimationFrame(frame); };
requestAnimationFrame(frame);
"""


async def chromium_page(port: int, seconds: float) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    p = await async_playwright().start()  # stopped by client_main with the browser
    browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = await browser.new_context(bypass_csp=True)  # (the probe is a script)
    page = await context.new_page()
    await page.add_init_script(PAGE_PROBE)
    await page.goto(f"http://127.0.0.1:{port}/console/")
    await page.fill("input[name=username]", "sup")
    await page.fill("input[name=password]", PASSWORD)
    started = time.perf_counter()
    await page.click("button[type=submit]")
    await page.wait_for_function("window.acdConsole.snapshots === 1 && "
                                 "document.querySelectorAll('#agents .rows > .row').length "
                                 "=== 1000", timeout=30000)
    first_paint = time.perf_counter() - started
    snapshot_ms = await page.evaluate("window.acdConsole.applyMs[0]")
    await page.evaluate("window.acdConsole.applyMs = []; window.__long = []; "
                        "window.__gap = 0")
    return {"first_snapshot_s": first_paint, "snapshot_apply_ms": snapshot_ms,
            "page": page, "browser": browser, "playwright": p}


async def client_main(args: argparse.Namespace) -> None:
    import aiohttp

    page_info: dict[str, Any] = {}
    if args.page:
        page_info = await chromium_page(args.client, args.seconds)
    socks = Sockets(args.client)
    async with aiohttp.ClientSession() as http:
        await socks.connect(http, args.clients)
        readers = [asyncio.create_task(socks.read(ws, i == 0))
                   for i, ws in enumerate(socks.conns)]
        print("ready", flush=True)
        await asyncio.sleep(args.seconds + 1.5)  # the load, and the last deltas
        for task in readers:
            task.cancel()
        for ws in socks.conns:
            await ws.close()
    result = socks.result()
    if args.page:
        page = page_info.pop("page")
        browser = page_info.pop("browser")
        applied = await page.evaluate("window.acdConsole.applyMs")
        long_tasks = await page.evaluate("window.__long")
        page_info.update({
            "messages": len(applied), "apply_p50_ms": percentile(applied, 0.5),
            "apply_max_ms": max(applied, default=float("nan")),
            "long_tasks": len(long_tasks), "longest_task_ms": max(long_tasks, default=0.0),
            "frame_gap_max_ms": await page.evaluate("window.__gap"),
            "rows": await page.evaluate("document.querySelectorAll('#agents .rows > .row')"
                                        ".length + document.querySelectorAll("
                                        "'#callers .rows > .row').length")})
        await browser.close()
        await page_info.pop("playwright").stop()
    result["page"] = page_info
    print(json.dumps(result), flush=True)


# -- the table --------------------------------------------------------------------------

def report(runs: list[dict[str, Any]]) -> None:
    base = next((r for r in runs if r["clients"] == 0 and not r["page"]), None)
    base_us = base["cpu"] / base["events"] * 1e6 if base else 0.0
    print(f"\n{QUEUES * PER_QUEUE} agents, at least {WAITING} callers waiting (at the end: "
          f"{min(r['waiting'] for r in runs)}-{max(r['waiting'] for r in runs)}), "
          f"{runs[0]['events'] / runs[0]['wall']:.0f} events/s offered, flush every "
          f"{runs[0]['flush_ms']} ms\n")
    print("| sockets | page | events/s | CPU µs/event | stream µs/event | deltas/s "
          "| delta KB/s per socket | bytes/delta | change→socket p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        us = r["cpu"] / r["events"] * 1e6
        c = r.get("client", {})
        per_socket = c.get("bytes", 0) / max(1, r["clients"]) / r["wall"] / 1024
        bytes_per_delta = r["bytes_sent"] / max(1, r["deltas"] * max(1, r["clients"]))
        latency = (f"{c['latency_p50'] * 1000:.0f} / {c['latency_p99'] * 1000:.0f}"
                   if c.get("rows_measured") else "–")
        print(f"| {r['clients']} | {'yes' if r['page'] else 'no'} "
              f"| {r['events'] / r['wall']:.0f} | {us:.0f} | "
              f"{us - base_us:.0f} | {r['deltas'] / r['wall']:.1f} | {per_socket:.1f} "
              f"| {bytes_per_delta:.0f} | {latency} |")
    pages = [r["client"]["page"] for r in runs if r.get("client", {}).get("page")]
    for p in pages:
        print(f"\nchromium: first snapshot (1,000 agents, {WAITING} callers) on screen in "
              f"{p['first_snapshot_s']:.2f} s (applied in {p['snapshot_apply_ms']:.0f} ms); "
              f"under load {p['messages']} deltas applied, p50 {p['apply_p50_ms']:.1f} ms, "
              f"max {p['apply_max_ms']:.1f} ms; long tasks (>50 ms): {p['long_tasks']} "
              f"(longest {p['longest_task_ms']:.0f} ms); longest gap between frames "
              f"{p['frame_gap_max_ms']:.0f} ms; rows on the page {p['rows']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000, help="routing events per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, nargs="*", default=[0, 1, 20, 100])
    parser.add_argument("--flush-ms", type=int, default=200)
    parser.add_argument("--no-page", action="store_true", help="without chromium")
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--page", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        args.clients = args.clients[0] if args.clients else 0
        asyncio.run(client_main(args))
        return
    runs = []
    for count in args.clients:
        page = count == max(args.clients) and not args.no_page and count > 0
        runs.append(asyncio.run(serve(args, count, page)))
        print(f"  ran {count} sockets{' + chromium' if page else ''}: "
              f"{runs[-1]['events']} events, {runs[-1]['waiting']} callers waiting at the end",
              file=sys.stderr)
    report(runs)


if __name__ == "__main__":
    os.environ.setdefault("TMPDIR", tempfile.gettempdir())
    main()
