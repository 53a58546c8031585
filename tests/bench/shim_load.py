"""Benchmark (issue #12): how many hooks per second the shim accepts durably, against one commit
per hook and against a bare Starlette endpoint, in one run on this machine.

wrk sends the same signed 6 KB push from loopback, with a unique X-Gitea-Delivery per request,
over --connections connections to each of:

  (a) the shim as it ships: `drone_kit shim serve` in a subprocess, one uvicorn worker, defaults
      (group commit: hooks arriving together share one transaction, its bodies one fsync and its rows another);
  (b) the same shim with DRONE_KIT_SHIM_COMMIT_BATCH=1: one transaction (two fsyncs) per hook;
  (c) a bare Starlette endpoint under the same uvicorn that reads the body and answers 202 (with
      no body, as the shim answers a hook).

The three run side by side and take turns: --rounds rounds of --seconds on each, (a) and (c)
next to each other, in turn (a) then (c) and (c) then (a). What slows this machine down for a
while (its neighbours on the host, the disk) then falls on all three alike, and shim/bare is the
median of each round's ratio, the two runs of a round seconds apart: a single long run of each,
one after the other, gave ratios from 0.34 to 0.52x for the same code. This machine's speed
still moves by a third within seconds (the bare endpoint's rounds of one run: 9,800 to 16,600/s),
so each round's ratio is printed too.

Every 202 of the shim means the hook's row is committed to the SQLite outbox (WAL,
synchronous=FULL). Drone is down throughout, so the relay only retries, as when Drone restarts,
and the outbox's backlog grows. For each server it prints the medians over the rounds of durable
accepts/s (2xx per second), p50 and p99, the non-2xx answers, the CPU each accept cost each
thread (the event loop; the shim's outbox writer and relay), the peak RSS and each round's
accepts/s; then the ratios shim/bare and shim/one-commit. After each shim has stopped, the
outbox's rows are counted against the 2xx wrk saw: every 202 must be there (a few more rows are
hooks committed while wrk was stopping, whose answers it no longer read). Other work on the
machine skews all of it: the share of CPU it took just before the runs is printed, and for each
server the largest share it took during one of its rounds (the machine's busy CPU less the
server's and wrk's).

Targets for (a), 2 cores, wrk on the same machine: >= 3,500 durable accepts/s, >= 0.5x the bare
endpoint, p99 <= 20 ms, peak RSS <= 80 MB.

--without-speedups hides uvloop and httptools from all three servers (uvicorn then runs on
asyncio and h11), to see what those C speedups buy.

    .venv/bin/python -m tests.bench.shim_load [--rounds 5] [--seconds 4] [--connections 32] [--without-speedups]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import requests

from tests.shim.support import gitea_headers, push_body, running_shim
from tests.stack.processes import stop, wait_until_ready
from tests.stack.registry import free_port
from tests.stack.require import require_binary

# thread_id is a global of each thread's Lua state, set from setup(): a local of that name would
# shadow it and give both threads the same delivery ids (answered as duplicates, never stored).
LUA = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function request()
  counter = counter + 1
  wrk.headers["X-Gitea-Delivery"] = string.format("%s-%d-%d", run_tag, thread_id, counter)
  return wrk.format("POST", "/hook", nil, wrk.body)
end
done = nil
"""
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def hook(request):
    await request.body()
    return Response(status_code=202)

app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
"""
# On PYTHONPATH ahead of site-packages, these make uvicorn's "auto" fall back to asyncio and h11.
NO_SPEEDUP = "raise ImportError('hidden by tests.bench.shim_load --without-speedups')\n"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """One wrk run against one server."""

    accepts: float  # 2xx per second
    p50: float  # ms
    p99: float
    non2xx: int
    socket_errors: int
    ok: int  # 2xx answers
    cpu: dict[int, float] = field(default_factory=dict)  # CPU seconds each thread of the server spent
    others: float = 0.0  # share of the machine's CPU that other work took during the run


@dataclass
class Server:
    """A server under test and its rounds."""

    name: str
    pid: int
    url: str
    rounds: list[Result] = field(default_factory=list)
    rss_mb: float = 0.0  # peak, read once its rounds are done
    rows: int = 0  # (the shims) in the outbox after it stopped

    def accepts(self) -> float:
        return median(r.accepts for r in self.rounds)

    def p50(self) -> float:
        return median(r.p50 for r in self.rounds)

    def p99(self) -> float:
        return median(r.p99 for r in self.rounds)

    def ok(self) -> int:
        return sum(r.ok for r in self.rounds)

    def cpu_us(self) -> tuple[float, ...]:
        """CPU per accept of each thread over all rounds, oldest thread first (the event loop first)."""
        spent: dict[int, float] = {}
        for r in self.rounds:
            for tid, seconds in r.cpu.items():
                spent[tid] = spent.get(tid, 0.0) + seconds
        return tuple(spent[tid] / max(self.ok(), 1) * 1e6 for tid in sorted(spent))


def run_wrk(wrk: str, url: str, body: bytes, headers: dict, seconds: int, connections: int, tmp: Path,
            tag: str) -> Result:
    """wrk's numbers; `tag` starts every delivery id this run sends (each run's must differ: a
    delivery id seen before is answered as a duplicate, and not stored again)."""
    (tmp / "body.json").write_bytes(body)
    script = tmp / "hooks.lua"
    script.write_text(f"wrk.body = io.open({str(tmp / 'body.json')!r}):read('*a')\nrun_tag = {tag!r}\n" + LUA)
    header_args = [
        arg for name, value in headers.items() if name != "X-Gitea-Delivery" for arg in ("-H", f"{name}: {value}")
    ]
    out = subprocess.run([wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), *header_args,
                          url], capture_output=True, text=True, check=True).stdout

    def number(pattern: str, default: str | None = None) -> str:
        found = re.search(pattern, out, re.M)
        if found is None and default is None:
            raise RuntimeError(f"wrk said something unexpected:\n{out}")
        return found.group(1) if found else default

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    requests_done, duration = int(number(r"(\d+) requests in")), float(number(r"requests in ([\d.]+)s"))
    non2xx = int(number(r"Non-2xx or 3xx responses: (\d+)", "0"))
    errors = number(r"Socket errors: (.*)$", "")
    ok = requests_done - non2xx
    return Result(ok / duration, latency("50%"), latency("99%"), non2xx, sum(map(int, re.findall(r"\d+", errors))), ok)


def machine_ticks() -> tuple[int, int]:
    """The machine's CPU ticks so far, all CPUs: (idle + iowait, all)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def busy_elsewhere(seconds: float = 2.0) -> float:
    """The share of the machine's CPU that other work takes now: this benchmark needs all of it."""
    idle_before, all_before = machine_ticks()
    time.sleep(seconds)
    idle_after, all_after = machine_ticks()
    return 1 - (idle_after - idle_before) / max(all_after - all_before, 1)


def listener_pid(port: int) -> int:
    line = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(line.split("pid=")[1].split(",")[0])


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of each thread of `pid` (user + system)."""
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return seconds


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's reaped children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int) -> float:
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def measure(wrk: str, server: Server, body: bytes, headers: dict, args: argparse.Namespace, tmp: Path) -> Result:
    """One round of wrk against `server`, with the CPU each of its threads spent meanwhile."""
    before, machine_before, wrk_before = thread_cpu(server.pid), machine_ticks(), children_cpu()
    result = run_wrk(wrk, server.url, body, headers, args.seconds, args.connections, tmp,
                     f"bench{len(server.rounds) + 1}")
    result.cpu = {tid: cpu - before.get(tid, 0.0) for tid, cpu in thread_cpu(server.pid).items()}
    # What the rest of the machine took meanwhile: its busy CPU less the server's and wrk's (wrk
    # is the only child reaped during the run).
    (idle_before, all_before), (idle_after, all_after) = machine_before, machine_ticks()
    busy = (all_after - all_before - (idle_after - idle_before)) / TICK
    ours = sum(result.cpu.values()) + children_cpu() - wrk_before
    result.others = max(busy - ours, 0.0) / max((all_after - all_before) / TICK, 1e-9)
    return result


@contextlib.contextmanager
def shim(name: str, tmp: Path, **options: str) -> Iterator[Server]:
    """A shim with Drone down (nothing at its URL); its outbox's rows counted once it has stopped."""
    with running_shim(tmp, f"http://127.0.0.1:{free_port()}", **options) as url:
        server = Server(name, listener_pid(int(url.rsplit(":", 1)[1])), f"{url}/hook")
        yield server
        server.rss_mb = peak_rss_mb(server.pid)
    with contextlib.closing(sqlite3.connect(tmp / "outbox.sqlite")) as db:  # the shim has stopped: all committed
        server.rows = db.execute("SELECT COUNT(*) FROM hooks").fetchone()[0]


@contextlib.contextmanager
def bare(tmp: Path) -> Iterator[Server]:
    port = free_port()
    (tmp / "bare_app.py").write_text(BARE_APP)
    log = tmp / "bare.log"
    with open(log, "ab") as handle:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1", "--port",
                                    str(port), "--log-level", "warning"], cwd=tmp, stdout=handle,
                                   stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            try:
                return requests.post(f"http://127.0.0.1:{port}/hook", timeout=1).status_code == 202
            except requests.RequestException:
                return False
        wait_until_ready(process, up, "the bare app", log, 30)
        server = Server("(c) bare Starlette", process.pid, f"http://127.0.0.1:{port}/hook")
        yield server
        server.rss_mb = peak_rss_mb(server.pid)
    finally:
        stop(process)


@contextlib.contextmanager
def speedups_hidden(tmp: Path, hidden: bool) -> Iterator[str]:
    """What uvicorn runs on in the servers started inside; with `hidden`, not uvloop nor httptools."""
    if not hidden:
        probe = subprocess.run([sys.executable, "-c", "import uvloop, httptools"], capture_output=True)
        yield "uvloop + httptools" if probe.returncode == 0 else "asyncio + h11 (uvloop or httptools not installed)"
        return
    stubs = tmp / "no-speedups"
    stubs.mkdir()
    for module in ("uvloop", "httptools"):
        (stubs / f"{module}.py").write_text(NO_SPEEDUP)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(stubs), saved) if p)
    try:
        yield "asyncio + h11 (uvloop and httptools hidden)"
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def report(args: argparse.Namespace, servers: str, busy: float, group: Server, single: Server, bare: Server) -> None:
    print(f"signed 6 KB pushes, {args.connections} connections, {args.rounds} rounds of {args.seconds}s on each server "
          f"in turn, one uvicorn worker on {servers}, {os.cpu_count()} cores shared with wrk; Drone down (the relay "
          f"only retries); other work took {busy:.0%} of the CPU just before")
    print(f"{'':28}{'accepts/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}{'CPU us/accept':>17}"
          f"{'peak RSS':>10}{'others':>8}   accepts/s by round")
    for r in (group, single, bare):
        # Threads by age: the event loop, then (the shim's) outbox writer and its WAL checkpointer,
        # started with the app, then its relay, started once uvicorn runs, and whatever came after.
        cpu_us = r.cpu_us()
        cpu = " + ".join(f"{us:.0f}" for us in (*cpu_us[:2], sum(cpu_us[2:])) if r is not bare or us)
        errors = sum(x.socket_errors for x in r.rounds)
        print(f"{r.name:28}{r.accepts():10.0f}{r.p50():8.2f}{r.p99():8.2f}{sum(x.non2xx for x in r.rounds):8d}"
              f"{cpu:>17}{f'{r.rss_mb:.0f} MB':>10}{max(x.others for x in r.rounds):8.0%}   "
              + " ".join(f"{x.accepts:.0f}" for x in r.rounds) + (f"  socket errors {errors}" if errors else ""))
    print("(medians over the rounds; CPU us/accept: the event loop + the outbox writer + the WAL checkpointer and the "
          "relay, over all rounds; the bare app has its event loop only. others: the largest share of the machine's "
          "CPU that neither the server nor wrk took during a round: other processes, and kernel threads such as the "
          "disk's flushing)")
    by_round = [a.accepts / b.accepts for a, b in zip(group.rounds, bare.rounds, strict=True)]
    ratio = median(by_round)
    print(f"ratios: shim/bare {ratio:.2f}x (median of each round's, whose runs are seconds apart: "
          f"{', '.join(f'{x:.2f}' for x in by_round)}), shim/one-commit {group.accepts() / single.accepts():.2f}x")
    for name, r in (("(a)", group), ("(b)", single)):
        verdict = "every 202 is in the outbox" if r.rows >= r.ok() else f"MISSING {r.ok() - r.rows} accepted hooks"
        extra = f" ({r.rows - r.ok()} more rows: answered after wrk stopped reading)" if r.rows > r.ok() else ""
        print(f"outbox {name}: {r.rows} rows, wrk saw {r.ok()} 2xx: {verdict}{extra}")
    checks = [(f"{group.accepts():.0f} durable accepts/s >= 3,500", group.accepts() >= 3500),
              (f"{ratio:.2f}x bare >= 0.5x", ratio >= 0.5),
              (f"p99 {group.p99():.1f} ms <= 20 ms", group.p99() <= 20),
              (f"peak RSS {group.rss_mb:.0f} MB <= 80 MB", group.rss_mb <= 80)]
    print("targets (a): " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4, help="of each round on each server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--without-speedups", action="store_true",
                        help="hide uvloop and httptools from the servers (uvicorn on asyncio and h11)")
    args = parser.parse_args()
    wrk = require_binary("wrk", "wrk")
    body = push_body("our-task/nginx-demo", 1)
    headers = gitea_headers(body)
    busy = busy_elsewhere()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        runs = {name: tmp / name for name in ("group", "single", "bare", "wrk")}
        for path in runs.values():
            path.mkdir()
        with speedups_hidden(tmp, args.without_speedups) as servers, contextlib.ExitStack() as stack:
            group = stack.enter_context(shim("(a) shim, group commit", runs["group"]))
            single = stack.enter_context(shim("(b) shim, one commit per hook", runs["single"], commit_batch="1"))
            plain = stack.enter_context(bare(runs["bare"]))
            # Round after round on each server in turn, so that what slows the machine down for a
            # while (its neighbours, the disk) falls on all three alike: (a) and (c) next to each
            # other, first one then the other.
            for n in range(args.rounds):
                for server in (group, plain, single) if n % 2 == 0 else (single, plain, group):
                    server.rounds.append(measure(wrk, server, body, headers, args, runs["wrk"]))
    report(args, servers, busy, group, single, plain)


if __name__ == "__main__":
    main()
