"""What one /logcall costs the server, in CPU and in instructions. A benchmark, not a test.

    python bench/logcall_cost.py [--commands 300] [--callgrind] [--database-url URL]

Seeds the database as bench/ack_latency.py does (10,000 leads, 100,000 touches), serves Baton
with `python -m bot serve`, sends 30 warm-up /logcall, then `--commands` more one at a time, each
reply awaited before the next (nobody queues: this is the work, not the waiting), naming random
leads (most of them a colleague's, so two messages are owed per command) by a prefix or in full.

It prints the server's CPU milliseconds a command (its process, from /proc). On a machine others
share that still moves with their load (caches, hyperthreads); `--callgrind` runs the server
under valgrind's callgrind instead and counts the instructions it executes for the measured
commands, a figure that does not depend on the load (slow: use `--commands 40`).
"""

import argparse
import glob
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ack_latency import OUTCOMES, REPS, SECRET, TEAM, TOKEN, Load, cpu_seconds, free_port, seed, time_replies  # noqa: E402

from bot.localslack import Platform, SlackApi, User, Workspace  # noqa: E402

WARM_UP = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--callgrind", action="store_true", help="count instructions under valgrind")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="baton-cost-"))
    url = options.database_url or f"sqlite:///{workdir / 'bench.db'}"
    names = seed(url, 10_000, 100_000)
    api = SlackApi(
        Workspace(team_id=TEAM, users={r: User(r, r.lower(), tz="America/New_York") for r in REPS}),
        token=TOKEN,
    ).start()
    arrived = time_replies(api)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_"))},
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.url,
        "DATABASE_URL": url,
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    serve = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
    if options.callgrind:
        # Counted only while the measured commands run (switched on and off with callgrind_control).
        out = f"--callgrind-out-file={workdir}/callgrind.%p"
        serve = ["valgrind", "--tool=callgrind", "--instr-atstart=no", out, *serve]
    server = subprocess.Popen(serve, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready(port, seconds=600 if options.callgrind else 60)
        slack = Platform(api, f"http://127.0.0.1:{port}", SECRET)
        randomiser = random.Random(7)
        bodies = []
        for i in range(WARM_UP + options.commands):
            name = names[randomiser.randrange(len(names))]
            typed = f"{name.split()[0].lower()} {name.split()[1]}" if i % 3 else name
            note = f"{typed} {OUTCOMES[i % len(OUTCOMES)]} bench note {i}"
            bodies.append(slack.command_body(REPS[i % len(REPS)], "/logcall", note))
        load = Load(slack, bodies)

        def one_by_one(indexes: range) -> None:
            for index in indexes:
                load.one(index)
                deadline = time.monotonic() + 300
                while index not in arrived:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"no reply to command {index}")
                    time.sleep(0.002)

        one_by_one(range(WARM_UP))
        time.sleep(2)  # the warm-up's heartbeats and recovery passes settle
        if options.callgrind:
            subprocess.run(
                ["callgrind_control", "-i", "on", str(server.pid)], check=True, capture_output=True
            )
        cpu, began = cpu_seconds(server.pid), time.perf_counter()
        one_by_one(range(WARM_UP, WARM_UP + options.commands))
        cpu, took = cpu_seconds(server.pid) - cpu, time.perf_counter() - began
        if options.callgrind:
            subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True, capture_output=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=300)
        api.stop()
    backend = url.split(":")[0].split("+")[0]
    print(f"{options.commands} /logcall one at a time ({backend}), {took:.1f} s")
    if options.callgrind:
        counted = [instructions(f) for f in glob.glob(f"{workdir}/callgrind.*.1")]
        print(f"  server instructions: {sum(counted) / options.commands / 1e6:.1f} M a command (callgrind)")
    else:
        print(f"  server CPU: {cpu * 1000 / options.commands:.1f} ms a command")


def ready(port: int, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.5)


def instructions(dump: str) -> int:
    """The instruction total of one callgrind dump (its `summary:` line)."""
    found = re.search(r"^summary:\s+(\d+)", Path(dump).read_text(), re.M)
    return int(found.group(1)) if found else 0


if __name__ == "__main__":
    main()
