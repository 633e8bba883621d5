"""The synchronous client against a real agent: breakers shared and refused when OPEN, counts,
errors and log records (extra fields, exceptions) arriving exactly."""

import logging
import re
from pathlib import Path

import pytest

import crosscut

TARGET = {"exchange": "upbit", "region": "korea", "request_type": "ticker"}
MINUTE_MS = 1737619200000  # a fixed past minute: its batch is published at shutdown


class ExchangeDown(Exception):
    pass


def test_the_guard_opens_the_shared_breaker_and_is_then_refused(agent):
    with crosscut.Client(agent.socket) as c, crosscut.Client(agent.socket) as other:
        b = c.breaker("upbit/korea/ticker")
        assert b.allow() is True
        assert b.state() == "CLOSED"
        for _ in range(3):  # failure_threshold: 3
            with pytest.raises(ExchangeDown):
                with b.guard():
                    raise ExchangeDown("502")
        with pytest.raises(crosscut.CircuitOpenError) as refused:
            with b.guard():
                pytest.fail("the body must not run while the breaker is open")
        assert refused.value.resource == "upbit/korea/ticker"
        assert refused.value.state == "OPEN"
        # Another client (another process, in production) asks the same breaker.
        shared = other.breaker("upbit/korea/ticker")
        assert shared.allow() is False
        info = shared.info()
        assert info["state"] == "OPEN" and info["failures"] == 3
        assert isinstance(info["opened_at_ms"], int) and info["opened_at_ms"] > 1_700_000_000_000
        assert info["open_until_ms"] > info["opened_at_ms"], "when the trial may start"
        # A guarded body that returns records a success: a different breaker stays CLOSED.
        fine = c.breaker("bithumb/korea/orderbook")
        for _ in range(5):
            with fine.guard():
                pass
        assert fine.state() == "CLOSED"


def test_a_retry_after_holds_the_breaker_open_for_every_client(agent):
    with crosscut.Client(agent.socket) as c, crosscut.Client(agent.socket) as other:
        b = c.breaker("binance/global/depth")
        assert b.allow() is True
        b.record_failure(retry_after_ms=3_600_000)  # one failure, below the threshold of 3
        c.flush()
        info = other.breaker("binance/global/depth").info()
        assert info["state"] == "OPEN"
        assert info["failures"] == 1
        assert other.breaker("binance/global/depth").allow() is False
        for bad in (-1, 1.5, "60", True, crosscut._protocol.MAX_RETRY_AFTER_MS + 1):
            with pytest.raises(ValueError):
                b.record_failure(retry_after_ms=bad)


def test_call_durations_feed_a_rate_mode_slow_call_rule(agent):
    with crosscut.Client(agent.socket) as c:
        b = c.breaker("slow/korea/ticker")
        with b.guard():
            pass  # fast: not slow
        b.record_success(duration_ms=150)
        c.flush()
        assert b.state() == "CLOSED", "one of two calls slow, below slow_call_rate 0.75"
        b.record_failure(duration_ms=100)  # a failure, and slow: two of three
        c.flush()
        assert b.state() == "CLOSED"
        b.record_success(duration_ms=5000)  # three of four slow: the rate exactly
        c.flush()
        assert b.state() == "OPEN"
        for bad in (-1, 1.5, "60", True, crosscut._protocol.MAX_DURATION_MS + 1):
            with pytest.raises(ValueError):
                b.record_success(duration_ms=bad)


def test_counts_and_errors_arrive_exactly(agent):
    with crosscut.Client(agent.socket) as c:
        for i in range(3000):
            c.count(TARGET, "BTC", ts_ms=MINUTE_MS + i)
        for i in range(2000):
            c.count(("upbit", "korea", "ticker"), "ETH", ts_ms=MINUTE_MS + 59_999)
        for attempt in range(3):
            try:
                raise ConnectionError("refused %d" % attempt)
            except ConnectionError as e:
                c.error(e, "ws_connection", TARGET, context={"url": "wss://x", "attempt": attempt},
                        correlation_id="corr-%d" % attempt)
        c.flush()
        assert c.stats()["dropped"] == 0
        assert c.stats()["sent"] == 5003
    assert agent.stop() == 0
    counts = agent.counts()
    assert counts == {("upbit", "korea", "ticker", MINUTE_MS // 1000, "BTC_COUNT"): 3000,
                      ("upbit", "korea", "ticker", MINUTE_MS // 1000, "ETH_COUNT"): 2000}
    errors = sorted(agent.records_of("ws.error"), key=lambda e: e["correlation_id"])
    assert [e["correlation_id"] for e in errors] == ["corr-0", "corr-1", "corr-2"]
    for attempt, e in enumerate(errors):
        assert e["kind"] == "ws_connection"
        assert e["exception"] == {"type": "ConnectionError", "message": "refused %d" % attempt}
        assert e["target"] == TARGET
        assert e["context"] == {"url": "wss://x", "attempt": attempt}


def test_the_log_handler_sends_extra_fields_and_exceptions(agent):
    with crosscut.Client(agent.socket) as c:
        handler = crosscut.LogHandler(c)
        log = logging.getLogger("collector.sync-test")
        log.setLevel(logging.DEBUG)
        log.propagate = False
        log.addHandler(handler)
        try:
            log.info("subscribed %s", "BTC", extra={"correlation_id": "c-1", "attempt": 2})
            try:
                {}["missing"]
            except KeyError:
                log.exception("lookup failed", extra={"correlation_id": "c-2"})
            log.log(25, "between info and warning")  # a custom level: the nearest below
            c.flush()
        finally:
            log.removeHandler(handler)
        assert handler.failed == 0
    records = {r["message"]: r for r in agent.log_records() if r["logger"] == "collector.sync-test"}
    info = records["subscribed BTC"]
    assert info["level"] == "INFO"
    assert info["extra"] == {"correlation_id": "c-1", "attempt": 2}
    failed = records["lookup failed"]
    assert failed["level"] == "ERROR"
    assert failed["extra"]["correlation_id"] == "c-2"
    exc = failed["extra"]["exception"]
    assert exc["type"] == "KeyError" and exc["message"] == "'missing'"
    assert "Traceback (most recent call last)" in exc["traceback"]
    assert "test_sync_client.py" in exc["traceback"]
    assert records["between info and warning"]["level"] == "INFO"


def test_many_threads_share_one_client(agent):
    import threading

    with crosscut.Client(agent.socket) as c:
        answers = []

        def work(n):
            for i in range(500):
                c.count(TARGET, "T%d" % n, ts_ms=MINUTE_MS)
                answers.append(c.breaker("threads/%d/x" % n).allow())

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        c.flush()
        assert answers.count(True) == 2000
    assert agent.stop() == 0
    counts = agent.counts()
    for n in range(4):
        assert counts[("upbit", "korea", "ticker", MINUTE_MS // 1000, "T%d_COUNT" % n)] == 500


def test_the_version_is_the_projects():
    cmake = (Path(__file__).resolve().parents[3] / "CMakeLists.txt").read_text()
    assert re.search(r"project\(crosscut VERSION ([0-9.]+)", cmake).group(1) == crosscut.__version__
