"""The asyncio client against a real agent: pipelined requests, the async guard, counts and the
log handler, and an agent that is away."""

import asyncio
import logging

import pytest

import crosscut
import crosscut.aio

TARGET = ("upbit", "korea", "ticker")
MINUTE_MS = 1737619200000


def run(coroutine):
    return asyncio.run(coroutine)


def test_thousands_of_pipelined_requests_and_the_async_guard(agent):
    async def main():
        ac = await crosscut.aio.Client.connect(agent.socket)
        try:
            b = ac.breaker("binance/global/trades")
            # All in flight at once on one connection, each resolved by its own reply.
            answers = await asyncio.gather(*[b.allow() for _ in range(5000)],
                                           *[ac.breaker("r/%d/x" % i).state() for i in range(500)])
            assert answers[:5000] == [True] * 5000
            assert answers[5000:] == ["CLOSED"] * 500
            for _ in range(3):
                with pytest.raises(TimeoutError):
                    async with b.guard():
                        raise TimeoutError("exchange did not answer")
            with pytest.raises(crosscut.CircuitOpenError):
                async with b.guard():
                    pytest.fail("refused calls do not run")
            assert await b.state() == "OPEN"
            for i in range(4000):
                ac.count(TARGET, "XRP", ts_ms=MINUTE_MS + i)
            await ac.flush()
            assert ac.stats()["dropped"] == 0
        finally:
            await ac.close()

    run(main())
    assert agent.stop() == 0
    assert agent.counts() == {("upbit", "korea", "ticker", MINUTE_MS // 1000, "XRP_COUNT"): 4000}


def test_the_log_handler_works_with_the_aio_client(agent):
    async def main():
        ac = await crosscut.aio.Client.connect(agent.socket)
        handler = crosscut.LogHandler(ac)
        log = logging.getLogger("collector.aio-test")
        log.propagate = False
        log.addHandler(handler)
        try:
            try:
                raise ConnectionResetError("peer reset")
            except ConnectionResetError:
                log.error("socket lost", exc_info=True, extra={"correlation_id": "a-1"})
            await ac.flush()
        finally:
            log.removeHandler(handler)
            await ac.close()
        assert handler.failed == 0

    run(main())
    records = [r for r in agent.log_records() if r["logger"] == "collector.aio-test"]
    assert len(records) == 1
    assert records[0]["extra"]["correlation_id"] == "a-1"
    assert records[0]["extra"]["exception"]["type"] == "ConnectionResetError"
    assert "peer reset" in records[0]["extra"]["exception"]["traceback"]


def test_an_agent_that_is_away_answers_from_on_unavailable(tmp_path, caplog):
    async def main():
        caplog.set_level(logging.WARNING, logger="crosscut")
        allow = await crosscut.aio.Client.connect(str(tmp_path / "nobody.sock"))
        deny = await crosscut.aio.Client.connect(str(tmp_path / "nobody.sock"),
                                                 on_unavailable="deny")
        try:
            assert await allow.breaker("a/b/c").allow() is True
            assert await deny.breaker("a/b/c").allow() is False
            with pytest.raises(crosscut.CircuitOpenError):
                async with deny.breaker("a/b/c").guard():
                    pass
            with pytest.raises(crosscut.AgentUnavailableError):
                await allow.breaker("a/b/c").state()
            allow.count(TARGET, "BTC")
        finally:
            await allow.close()
            await deny.close()
        # The count could not go anywhere: it is counted, not lost unseen.
        assert allow.stats()["dropped"] == 1

    run(main())
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 2  # once per client, not once per call
