"""Benchmark (issue #12): how many hooks per second the shim accepts durably, against one fsync
per hook and against a bare Starlette endpoint, in one run on this machine.

wrk sends the same signed 6 KB push from loopback, with a unique X-Gitea-Delivery per request, for
--seconds over --connections connections to each of, in turn:

  (a) the shim as it ships: `drone_kit shim serve` in a subprocess, one uvicorn worker, defaults
      (group commit: hooks arriving together share one transaction and one fsync);
  (b) the same shim with DRONE_KIT_SHIM_COMMIT_BATCH=1: one transaction and one fsync per hook;
  (c) a bare Starlette endpoint under the same uvicorn that reads the body and answers 202.

Every 202 of the shim means the hook's row is committed to the SQLite outbox (WAL,
synchronous=FULL). Drone is down throughout, so the relay only retries, as when Drone restarts,
and the outbox's backlog grows. For each server it prints durable accepts/s (2xx per second), p50,
p99, non-2xx answers, the CPU each accept costs each thread (the event loop; the shim's outbox
writer and relay) and the peak RSS; then the ratios shim/bare and shim/one-fsync. After each shim
has stopped, the outbox's rows are counted against the 2xx wrk saw: every 202 must be there (a few
more rows are hooks committed while wrk was stopping, whose answers it no longer read). Other work
on the machine skews all of it: the share of CPU it took just before the runs is printed, and for
each server the share it took during its run (the machine's busy CPU less the server's and wrk's).

Targets for (a), 2 cores, wrk on the same machine: >= 3,500 durable accepts/s, >= 0.5x the bare
endpoint, p99 <= 20 ms, peak RSS <= 80 MB.

--without-speedups hides uvloop and httptools from all three servers (uvicorn then runs on
asyncio and h11), to see what those C speedups buy.

    .venv/bin/python -m tests.bench.shim_load [--seconds 10] [--connections 32] [--without-speedups]
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
from dataclasses import dataclass
from pathlib import Path

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
  wrk.headers["X-Gitea-Delivery"] = string.format("bench-%d-%d", thread_id, counter)
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
    accepts: float  # 2xx per second
    p50: float  # ms
    p99: float
    non2xx: int
    socket_errors: int
    ok: int  # 2xx answers
    cpu_us: tuple[float, ...] = ()  # CPU per accept of each thread, oldest first (the event loop first)
    rss_mb: float = 0.0
    rows: int = 0  # in the outbox after the shim stopped
    others: float = 0.0  # share of the machine's CPU that other work took during the run


def run_wrk(wrk: str, url: str, body: bytes, headers: dict, seconds: int, connections: int, tmp: Path) -> Result:
    (tmp / "body.json").write_bytes(body)
    script = tmp / "hooks.lua"
    script.write_text(f"wrk.body = io.open({str(tmp / 'body.json')!r}):read('*a')\n" + LUA)
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


def measure(wrk: str, pid: int, url: str, body: bytes, headers: dict, args: argparse.Namespace, tmp: Path) -> Result:
    """wrk against the server `pid` at `url`, with what each accept cost its threads and its peak RSS."""
    before, machine_before, wrk_before = thread_cpu(pid), machine_ticks(), children_cpu()
    result = run_wrk(wrk, url, body, headers, args.seconds, args.connections, tmp)
    spent = {tid: cpu - before.get(tid, 0.0) for tid, cpu in thread_cpu(pid).items()}
    result.cpu_us = tuple(spent[tid] / max(result.ok, 1) * 1e6 for tid in sorted(spent))
    # What the rest of the machine took meanwhile: its busy CPU less the server's and wrk's (wrk
    # is the only child reaped during the run).
    (idle_before, all_before), (idle_after, all_after) = machine_before, machine_ticks()
    busy = (all_after - all_before - (idle_after - idle_before)) / TICK
    ours = sum(spent.values()) + children_cpu() - wrk_before
    result.others = max(busy - ours, 0.0) / max((all_after - all_before) / TICK, 1e-9)
    result.rss_mb = int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
    return result


def measure_shim(wrk: str, tmp: Path, body: bytes, headers: dict, args: argparse.Namespace, **options: str) -> Result:
    with running_shim(tmp, f"http://127.0.0.1:{free_port()}", **options) as shim:  # nothing there: Drone is down
        result = measure(wrk, listener_pid(int(shim.rsplit(":", 1)[1])), f"{shim}/hook", body, headers, args, tmp)
    with contextlib.closing(sqlite3.connect(tmp / "outbox.sqlite")) as db:  # the shim has stopped: all committed
        result.rows = db.execute("SELECT COUNT(*) FROM hooks").fetchone()[0]
    return result


def measure_bare(wrk: str, tmp: Path, body: bytes, headers: dict, args: argparse.Namespace) -> Result:
    port = free_port()
    (tmp / "bare_app.py").write_text(BARE_APP)
    log = tmp / "bare.log"
    with open(log, "ab") as handle:
        bare = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1", "--port",
                                 str(port), "--log-level", "warning"], cwd=tmp, stdout=handle, stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            try:
                return requests.post(f"http://127.0.0.1:{port}/hook", timeout=1).status_code == 202
            except requests.RequestException:
                return False
        wait_until_ready(bare, up, "the bare app", log, 30)
        return measure(wrk, bare.pid, f"http://127.0.0.1:{port}/hook", body, headers, args, tmp)
    finally:
        stop(bare)


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


def report(args: argparse.Namespace, servers: str, busy: float, group: Result, single: Result, bare: Result) -> None:
    print(f"signed 6 KB pushes, {args.connections} connections, {args.seconds}s each, one uvicorn worker on "
          f"{servers}, {os.cpu_count()} cores shared with wrk; Drone down (the relay only retries); "
          f"other work took {busy:.0%} of the CPU just before")
    print(f"{'':28}{'accepts/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}{'CPU us/accept':>17}"
          f"{'peak RSS':>10}{'others':>8}")
    for name, r in (("(a) shim, group commit", group), ("(b) shim, one fsync per hook", single),
                    ("(c) bare Starlette", bare)):
        # Threads by age: the event loop, then (the shim's) outbox writer and its WAL checkpointer,
        # started with the app, then its relay, started once uvicorn runs, and whatever came after.
        cpu = " + ".join(f"{us:.0f}" for us in (*r.cpu_us[:2], sum(r.cpu_us[2:])) if r is not bare or us)
        print(f"{name:28}{r.accepts:10.0f}{r.p50:8.2f}{r.p99:8.2f}{r.non2xx:8d}{cpu:>17}{f'{r.rss_mb:.0f} MB':>10}"
              f"{r.others:8.0%}" + (f"  socket errors {r.socket_errors}" if r.socket_errors else ""))
    print("(CPU us/accept: the event loop + the outbox writer + the WAL checkpointer and the relay; the bare app "
          "has its event loop only. others: the share of the machine's CPU that neither the server nor wrk took "
          "during the run: other processes, and kernel threads such as the disk's flushing)")
    print(f"ratios: shim/bare {group.accepts / bare.accepts:.2f}x, "
          f"shim/one-fsync {group.accepts / single.accepts:.2f}x")
    for name, r in (("(a)", group), ("(b)", single)):
        verdict = "every 202 is in the outbox" if r.rows >= r.ok else f"MISSING {r.ok - r.rows} accepted hooks"
        extra = f" ({r.rows - r.ok} more rows: answered after wrk stopped reading)" if r.rows > r.ok else ""
        print(f"outbox {name}: {r.rows} rows, wrk saw {r.ok} 2xx: {verdict}{extra}")
    checks = [(f"{group.accepts:.0f} durable accepts/s >= 3,500", group.accepts >= 3500),
              (f"{group.accepts / bare.accepts:.2f}x bare >= 0.5x", group.accepts >= 0.5 * bare.accepts),
              (f"p99 {group.p99:.1f} ms <= 20 ms", group.p99 <= 20),
              (f"peak RSS {group.rss_mb:.0f} MB <= 80 MB", group.rss_mb <= 80)]
    print("targets (a): " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
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
        runs = {name: tmp / name for name in ("group", "single", "bare")}
        for path in runs.values():
            path.mkdir()
        with speedups_hidden(tmp, args.without_speedups) as servers:
            group = measure_shim(wrk, runs["group"], body, headers, args)
            single = measure_shim(wrk, runs["single"], body, headers, args, commit_batch="1")
            bare = measure_bare(wrk, runs["bare"], body, headers, args)
    report(args, servers, busy, group, single, bare)


if __name__ == "__main__":
    main()
