"""Figures of the Python client against a real agent, all in one run, each next to a peer
doing the same work by hand (no client library) against the same agent:

  acquire round trip, one at a time (sync allow()): p50 / p99;
      peer: a blocking socket that writes the request line and reads the reply line
  count() calls/s on one thread, and delivered/s (the same calls up to the flush that
      confirms the agent handled them); peer: json.dumps of the event appended to a list
  aio pipelined allow(): replies/s with 1000 in flight;
      peer: asyncio streams writing 1000 request lines, then reading 1000 reply lines

    python3 clients/python/bench/bench_client.py [--socket PATH] [--json]

Without --socket it starts the agent of <repository>/build (CROSSCUT_BIN, CROSSCUT_PLUGIN_PATH
as for the tests).
"""

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import crosscut  # noqa: E402
import crosscut.aio  # noqa: E402

TARGET = ("upbit", "korea", "ticker")


def round_trip(path: str, n: int) -> dict:
    with crosscut.Client(path) as c:
        b = c.breaker("upbit/korea/ticker")
        for _ in range(200):
            b.allow()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            b.allow()
            times.append(time.perf_counter() - start)
    times.sort()
    return {"acquire_p50_us": times[len(times) // 2] * 1e6,
            "acquire_p99_us": times[len(times) * 99 // 100] * 1e6}


def round_trip_peer(path: str, n: int) -> dict:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    reader = sock.makefile("rb")
    times = []
    for i in range(200 + n):
        start = time.perf_counter()
        sock.sendall(b'{"event":"acquire","resource":"upbit/korea/ticker","id":%d}\n' % i)
        json.loads(reader.readline())
        times.append(time.perf_counter() - start)
    sock.close()
    times = sorted(times[200:])
    return {"acquire_p50_us": times[len(times) // 2] * 1e6,
            "acquire_p99_us": times[len(times) * 99 // 100] * 1e6}


def counting(path: str, n: int) -> dict:
    with crosscut.Client(path, buffer_size=n) as c:
        start = time.perf_counter()
        for i in range(n):
            c.count(TARGET, "BTC")
        calls = time.perf_counter() - start
        c.flush()
        delivered = time.perf_counter() - start
        dropped = c.stats()["dropped"]
    return {"count_calls_per_s": n / calls, "count_delivered_per_s": n / delivered,
            "count_dropped": dropped}


def counting_peer(n: int) -> dict:
    lines = []
    start = time.perf_counter()
    for i in range(n):
        lines.append(json.dumps({"event": "message", "exchange": TARGET[0], "region": TARGET[1],
                                 "request_type": TARGET[2], "symbol": "BTC"}).encode() + b"\n")
    return {"count_calls_per_s": n / (time.perf_counter() - start)}


def pipelined(path: str, n: int) -> dict:
    async def main():
        ac = await crosscut.aio.Client.connect(path)
        b = ac.breaker("upbit/korea/ticker")
        start = time.perf_counter()
        done = 0
        while done < n:
            await asyncio.gather(*[b.allow() for _ in range(1000)])
            done += 1000
        elapsed = time.perf_counter() - start
        await ac.close()
        return {"aio_pipelined_replies_per_s": done / elapsed}

    return asyncio.run(main())


def pipelined_peer(path: str, n: int) -> dict:
    async def main():
        reader, writer = await asyncio.open_unix_connection(path)
        start = time.perf_counter()
        done = 0
        while done < n:
            writer.write(b"".join(
                b'{"event":"acquire","resource":"upbit/korea/ticker","id":%d}\n' % (done + i)
                for i in range(1000)))
            for _ in range(1000):
                json.loads(await reader.readline())
            done += 1000
        elapsed = time.perf_counter() - start
        writer.close()
        await writer.wait_closed()
        return {"aio_pipelined_replies_per_s": done / elapsed}

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", help="an agent's socket (default: start one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    agent = None
    folder = None
    path = args.socket
    if path is None:
        from conftest import Agent

        folder = tempfile.TemporaryDirectory()
        agent = Agent(Path(folder.name)).start()
        path = agent.socket
    try:
        ours, peer = {}, {}
        ours.update(round_trip(path, 20_000))
        peer.update(round_trip_peer(path, 20_000))
        ours.update(counting(path, 1_000_000))
        peer.update(counting_peer(1_000_000))
        ours.update(pipelined(path, 50_000))
        peer.update(pipelined_peer(path, 50_000))
    finally:
        if agent is not None:
            agent.stop()
            folder.cleanup()
    if args.json:
        print(json.dumps({"crosscut": ours, "peer": peer}))
        return
    print("%-30s %14s %14s %8s" % ("figure", "crosscut", "peer", "x"))
    for name, value in ours.items():
        if name not in peer:
            print("%-30s %14.1f" % (name, value))
            continue
        # x above 1 means the client is better: lower latency, or more per second.
        x = peer[name] / value if name.endswith("_us") else value / peer[name]
        print("%-30s %14.1f %14.1f %7.2fx" % (name, value, peer[name], x))

if __name__ == "__main__":
    main()
