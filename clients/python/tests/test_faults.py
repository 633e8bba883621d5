"""The clients across an agent restart and with a stopped (SIGSTOP) agent: calls never
raise or block, allow() follows on_unavailable and says so once, buffered lines arrive after
the reconnection, and what had to be dropped is counted."""

import asyncio
import logging
import time

import crosscut
import crosscut.aio
from conftest import Agent

TARGET = ("upbit", "korea", "ticker")
MINUTE_MS = 1737619200000


def wait_until(condition, limit=30.0):
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met within %s s" % limit
        time.sleep(0.01)


def test_the_client_reconnects_across_an_agent_restart(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="crosscut")
    first = Agent(tmp_path).start()
    c = crosscut.Client(first.socket, reconnect_max=0.2)
    try:
        b = c.breaker("upbit/korea/ticker")
        assert b.allow() is True
        for _ in range(100):
            c.count(TARGET, "BTC", ts_ms=MINUTE_MS)
        c.flush()
        assert first.stop() == 0
        assert first.counts()[("upbit", "korea", "ticker", MINUTE_MS // 1000, "BTC_COUNT")] == 100

        # Away: nothing raises, allow() follows on_unavailable, one-way lines wait.
        answers = [b.allow() for _ in range(20)]
        assert answers == [True] * 20
        for _ in range(250):
            c.count(TARGET, "ETH", ts_ms=MINUTE_MS)
        warnings = [r for r in caplog.records
                    if r.levelno == logging.WARNING and "unavailable" in r.getMessage()]
        assert len(warnings) == 1

        second = Agent(tmp_path).start()  # the same socket path
        try:
            wait_until(lambda: c.stats()["buffered"] == 0 and c.stats()["reconnects"] >= 1)
            assert b.state() == "CLOSED"
            c.flush()
            assert c.stats()["dropped"] == 0
        finally:
            assert second.stop() == 0
        # The second agent appends to the first one's records file.
        assert second.counts() == {("upbit", "korea", "ticker", MINUTE_MS // 1000, "BTC_COUNT"): 100,
                                   ("upbit", "korea", "ticker", MINUTE_MS // 1000, "ETH_COUNT"): 250}
        assert any("reachable again" in r.getMessage() for r in caplog.records)
    finally:
        c.close()


def test_a_stopped_agent_neither_blocks_nor_breaks_the_caller(tmp_path):
    agent = Agent(tmp_path).start()
    c = crosscut.Client(agent.socket, timeout=0.3, buffer_size=1000, on_unavailable="deny")
    try:
        b = c.breaker("upbit/korea/ticker")
        assert b.allow() is True
        agent.pause()
        # The kernel still takes some lines; then the buffer fills and the rest are dropped.
        started = time.monotonic()
        for i in range(200_000):
            c.count(TARGET, "BTC", ts_ms=MINUTE_MS)
        assert time.monotonic() - started < 5.0, "count() waited on the stopped agent"
        started = time.monotonic()
        assert b.allow() is False  # no reply within the timeout: on_unavailable="deny"
        assert time.monotonic() - started < 3.0
        dropped = c.stats()["dropped"]
        assert dropped > 0
        agent.resume()
        wait_until(lambda: c.stats()["reconnects"] >= 1 or c.stats()["buffered"] == 0)
        wait_until(lambda: _state_or_none(b) == "CLOSED")
        c.flush()
        stats = c.stats()
        assert stats["buffered"] == 0
        # Everything is accounted for: sent, or counted as dropped.
        assert stats["sent"] + stats["dropped"] == 200_000
    finally:
        c.close()
        assert agent.stop() == 0
    counted = agent.counts().get(("upbit", "korea", "ticker", MINUTE_MS // 1000, "BTC_COUNT"), 0)
    # Exactly what the kernel took whole arrived: the client counts the rest as dropped.
    assert counted == stats["sent"]


def _state_or_none(breaker):
    try:
        return breaker.state()
    except crosscut.AgentUnavailableError:
        return None


def test_the_aio_client_with_a_stopped_agent_accounts_for_every_line(tmp_path):
    async def main(agent):
        # A request's timeout runs from when it is queued, behind what the client buffered
        # while the agent was away: the agent must handle the buffered lines within it (a
        # sanitizer build of the agent handles a few thousand a second), so both stay modest.
        ac = await crosscut.aio.Client.connect(agent.socket, timeout=1.0, buffer_size=5_000,
                                               on_unavailable="deny")
        try:
            b = ac.breaker("upbit/korea/ticker")
            assert await b.allow() is True
            agent.pause()
            # More than the socket's buffers hold: the write to the stopped agent times out
            # part way, and the client reconnects once the agent is back.
            for _ in range(200_000):
                ac.count(TARGET, "BTC", ts_ms=MINUTE_MS)
            assert await b.allow() is False  # no reply within the timeout: "deny"
            agent.resume()
            deadline = time.monotonic() + 30
            while await _aio_state_or_none(b) != "CLOSED":
                assert time.monotonic() < deadline, "the client did not reconnect"
                await asyncio.sleep(0.01)
            await ac.flush()
            return ac.stats()
        finally:
            await ac.close()

    agent = Agent(tmp_path).start()
    try:
        stats = asyncio.run(main(agent))
    finally:
        agent.resume()
        assert agent.stop() == 0
    assert stats["buffered"] == 0
    assert stats["sent"] + stats["dropped"] == 200_000
    assert stats["dropped"] > 0
    counted = agent.counts().get(("upbit", "korea", "ticker", MINUTE_MS // 1000, "BTC_COUNT"), 0)
    # Exactly what the kernel took whole arrived: the client counts the rest as dropped.
    assert counted == stats["sent"]


async def _aio_state_or_none(breaker):
    try:
        return await breaker.state()
    except crosscut.AgentUnavailableError:
        return None
