"""Benchmark: durable accepts per second of the shim under concurrent signed push hooks.

wrk sends the same signed push with a unique X-Gitea-Delivery per request, from loopback, to
(1) the shim (one uvicorn worker; every 202 is a committed SQLite transaction, synchronous=FULL;
Drone is down so deliveries only retry) and (2) a bare Starlette endpoint that only answers 202,
in the same run. Prints requests/s, p50/p99 latency, the shim's peak RSS and the ratio.

    .venv/bin/python -m tests.bench.shim_load [--seconds 10] [--connections 32]

Targets on 2 cores, one worker: >= 1,000 durable accepts/s, p99 <= 50 ms, RSS <= 80 MB.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.shim.support import gitea_headers, push_body, running_shim
from tests.stack.processes import stop, wait_until_ready
from tests.stack.registry import free_port
from tests.stack.require import require_binary

LUA = """
local counter = 0
local thread_id = 0
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


def run_wrk(wrk: str, url: str, body: bytes, headers: dict, seconds: int, connections: int, tmp: Path) -> dict:
    (tmp / "body.json").write_bytes(body)
    script = tmp / "hooks.lua"
    script.write_text(f"wrk.body = io.open({str(tmp / 'body.json')!r}):read('*a')\n" + LUA)
    header_args = [
        arg for name, value in headers.items() if name != "X-Gitea-Delivery" for arg in ("-H", f"{name}: {value}")
    ]
    out = subprocess.run([wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), *header_args,
                          url], capture_output=True, text=True, check=True).stdout
    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50%"),
            "p99": latency("99%"), "errors": int(non2xx.group(1)) if non2xx else 0}


def peak_rss_mb(port: int) -> float:
    line = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    pid = int(line.split("pid=")[1].split(",")[0])
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    wrk = require_binary("wrk", "wrk")
    body = push_body("our-task/nginx-demo", 1)
    headers = gitea_headers(body)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        port = free_port()
        with running_shim(tmp, f"http://127.0.0.1:{free_port()}") as shim:  # Drone is down
            shim_result = run_wrk(wrk, f"{shim}/hook", body, headers, args.seconds, args.connections, tmp)
            rss = peak_rss_mb(int(shim.rsplit(":", 1)[1]))
        (tmp / "bare_app.py").write_text(BARE_APP)
        bare = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1", "--port",
                                 str(port), "--log-level", "warning"], cwd=tmp)
        try:
            import requests

            def up() -> bool:
                try:
                    return requests.post(f"http://127.0.0.1:{port}/hook", timeout=1).status_code == 202
                except requests.RequestException:
                    return False
            wait_until_ready(bare, up, "bare app", tmp / "none.log", 30)
            bare_result = run_wrk(wrk, f"http://127.0.0.1:{port}/hook", body, headers, args.seconds,
                                  args.connections, tmp)
        finally:
            stop(bare)
    print(f"signed pushes, {args.connections} connections, {args.seconds}s each, one uvicorn worker")
    for name, result in (("shim (durable)", shim_result), ("bare Starlette", bare_result)):
        print(f"{name:15} {result['rps']:9.0f} req/s  p50 {result['p50']:6.2f} ms  p99 {result['p99']:6.2f} ms"
              f"  non-2xx {result['errors']}")
    print(f"shim / bare throughput: {shim_result['rps'] / bare_result['rps']:.2f}x")
    checks = [("accepts/s >= 1000", shim_result["rps"] >= 1000), ("p99 <= 50 ms", shim_result["p99"] <= 50),
              (f"peak RSS {rss:.0f} MB <= 80 MB", rss <= 80)]
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))


if __name__ == "__main__":
    main()
