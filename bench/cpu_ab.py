"""CPU per request of two checkouts of the gateway, measured in turns on one emulator: the meter for
one change. `.venv/bin/python bench/cpu_ab.py BEFORE_DIR AFTER_DIR [--rounds 3] [--requests 1500]`

Each checkout (a `git worktree` of a commit, say) serves with the shipped gunicorn.conf.py and one
worker; the emulator answers at zero pace (100-token answers; streams of 5 chunks of 20 tokens, so
the gateway's own work is all there is to see). The harness sends the requests from 8 threads and
reads the CPU time of the gateway's process tree (master and worker) before and after: CPU per
request in milliseconds, non-streamed and streamed. The checkouts take turns, round after round,
so that a machine that speeds up or slows down meanwhile weighs on both alike; the report gives
each one's median over the rounds.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from pathlib import Path

import httpx

import targets

BODY = {"model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": "Tell me a story. [emulator tokens=100]"}]}
THREADS = 8


def send(url: str, stream: bool, count: int) -> None:
    left, lock = [count], threading.Lock()
    body = {**BODY, "stream": stream}

    def run() -> None:
        with httpx.Client(timeout=60) as client:
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                with client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
                    response.raise_for_status()
                    for _ in response.iter_bytes():
                        pass
    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def cpu_seconds(service: targets.Service) -> float:
    return sum(sum(process.cpu_times()[:2]) for process in service.tree())


def cpu_per_request(service: targets.Service, stream: bool, count: int) -> float:
    send(service.url, stream, 50)  # warm: connections, caches
    before = cpu_seconds(service)
    send(service.url, stream, count)
    return (cpu_seconds(service) - before) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkouts", nargs=2, type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1500)
    args = parser.parse_args()
    results: dict[Path, dict[str, list[float]]] = {c: {"json": [], "stream": []} for c in args.checkouts}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        emulator = targets.start_emulator(workdir, "emulator", 0.0, 0.0, 20)
        try:
            for round_ in range(args.rounds):
                for checkout in args.checkouts:
                    env = targets._gunicorn_env(targets.free_port(), emulator.url, workdir, {"WEB_CONCURRENCY": "1"})
                    port = env["BIND"].rsplit(":", 1)[1]
                    process, log = targets._spawn(f"gateway-{round_}", [targets.PYTHON, "-m", "gunicorn", "-c",
                                                  "gunicorn.conf.py", "wsgi:app"], env, workdir, cwd=checkout)
                    gateway = targets._wait_ready(targets.Service(str(checkout), process,
                                                                  f"http://127.0.0.1:{port}", log), "/healthz", 60)
                    try:
                        for kind in ("json", "stream"):
                            spent = cpu_per_request(gateway, kind == "stream", args.requests)
                            results[checkout][kind].append(spent)
                            print(f"round {round_ + 1} {checkout}: {kind} {spent:.3f} ms CPU per request", flush=True)
                    finally:
                        gateway.stop()
        finally:
            emulator.stop()
    print("\n| checkout | non-streamed (ms CPU/request, median) | streamed, 5 chunks (ms CPU/stream, median) |")
    print("|---|---|---|")
    for checkout, kinds in results.items():
        print(f"| {checkout} | {statistics.median(kinds['json']):.3f} | {statistics.median(kinds['stream']):.3f} |")


if __name__ == "__main__":
    main()
