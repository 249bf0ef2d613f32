"""Memory and threads of the gateway by open streams, for docs/deployment.md#sizing:
`python bench/stream_memory.py [--workers 2] [--threads 512] [--streams 100,250,500,750]` (~1 minute).

Starts the emulator (streams paced slowly, so they stay open) and the gateway (gunicorn with the
shipped gunicorn.conf.py) as bench/targets.py does. Idle first (after a few requests), then for
each level it opens that many streams, holds them until the gateway counts them all in flight
(gemini_proxy_streams_in_flight), samples its process tree, and closes them. Memory is given two
ways: RSS summed over the processes (a page the forked workers share is counted once per
process, so it overstates) and PSS summed (each shared page split among its sharers: what the
tree costs the machine, close to what a container's memory cgroup is charged). Threads are
counted per worker: a stream holds one for as long as it lasts.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil

from targets import Service, raise_fd_limit, start_emulator, start_gateway

MB = 1024 * 1024
# 2 tokens/s (the emulator is unpaced otherwise), 20 tokens a chunk: one chunk every 10 s, 200 s
# in all; closed long before.
SLOW_STREAM = {"model": "gemini-2.5-flash", "stream": True,
               "messages": [{"role": "user", "content": "[emulator ttft=0 tps=2 tokens=400]"}]}


@dataclass
class Sample:
    streams: int
    rss: float  # MB, summed over the tree
    pss: float  # MB, summed over the tree
    worker_threads: list[int]
    arbiter_pss: float  # MB
    worker_pss: list[float]  # MB each


def in_flight(gateway: Service) -> int:
    with urllib.request.urlopen(f"{gateway.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    return int(sum(float(v) for v in re.findall(r"^gemini_proxy_streams_in_flight(?:\{[^}]*\})? (\S+)$", text, re.M)))


def sample(gateway: Service, streams: int) -> Sample:
    rss = pss = 0
    for process in gateway.tree():
        with contextlib.suppress(psutil.NoSuchProcess):
            memory = process.memory_full_info()
            rss, pss = rss + memory.rss, pss + memory.pss
    arbiter = psutil.Process(gateway.process.pid)
    workers = arbiter.children()
    return Sample(streams, rss / MB, pss / MB, sorted(worker.num_threads() for worker in workers),
                  arbiter.memory_full_info().pss / MB, sorted(w.memory_full_info().pss / MB for w in workers))


async def hold_streams(gateway: Service, count: int, timeout: float = 60.0) -> Sample:
    """Opens `count` streams, waits until all are in flight and their first chunk arrived,
    samples, and closes them (the gateway then closes its upstream streams)."""
    arrived = asyncio.Semaphore(0)
    release = asyncio.Event()

    async def one(session: aiohttp.ClientSession) -> None:
        async with session.post(f"{gateway.url}/v1/chat/completions", json=SLOW_STREAM) as response:
            response.raise_for_status()
            await response.content.readline()
            arrived.release()
            await release.wait()

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        tasks = [asyncio.create_task(one(session)) for _ in range(count)]
        deadline = time.monotonic() + timeout
        for _ in range(count):
            await asyncio.wait_for(arrived.acquire(), max(0.1, deadline - time.monotonic()))
        while (await asyncio.to_thread(in_flight, gateway)) < count:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # let the worker threads settle
        measured = await asyncio.to_thread(sample, gateway, count)
        release.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    while in_flight(gateway):
        await asyncio.sleep(0.2)
    return measured


def warm_up(gateway: Service, requests: int) -> None:
    body = b'{"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}'
    for _ in range(requests):
        request = urllib.request.Request(f"{gateway.url}/v1/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=512)
    parser.add_argument("--streams", default="100,250,500,750")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.streams.split(",")]
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="stream-memory-") as folder:
        workdir = Path(folder)
        emulator = start_emulator(workdir, "emulator", ttft=0, tokens_per_second=0, chunk_tokens=20)
        gateway = None
        try:
            gateway = start_gateway(workdir, emulator.url, {"WEB_CONCURRENCY": str(args.workers),
                                                            "GUNICORN_THREADS": str(args.threads)})
            warm_up(gateway, 20 * args.workers)
            time.sleep(1)
            samples = [sample(gateway, 0)] + [asyncio.run(hold_streams(gateway, n)) for n in levels]
        finally:
            if gateway is not None:
                gateway.stop()
            emulator.stop()
    idle = samples[0]
    print(f"{args.workers} workers x {args.threads} threads; {sys.version.split()[0]}, "
          f"{psutil.cpu_count()} CPUs")
    print(f"idle PSS: arbiter {idle.arbiter_pss:.1f} MB, workers {', '.join(f'{w:.1f}' for w in idle.worker_pss)} MB")
    print("| open streams | RSS summed (MB) | PSS summed (MB) | PSS per stream over idle (kB) | threads per worker |")
    print("|---|---|---|---|---|")
    for s in samples:
        per_stream = f"{(s.pss - idle.pss) * 1024 / s.streams:.0f}" if s.streams else "-"
        print(f"| {s.streams} | {s.rss:.1f} | {s.pss:.1f} | {per_stream} | {', '.join(map(str, s.worker_threads))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
