"""A small market-data collector on crosscut, in the shape of the collectors it serves:
subscribe to a ticker feed, count every message, guard each exchange call with the shared
breaker, dispatch the failures, log through the standard logging module.

The feed is simulated (no network): an async generator of ticker messages, and a REST call that
fails for a while, so the breaker opens and refuses calls. Run it next to an agent:

    CROSSCUT_SOCKET=/tmp/events.sock python3 clients/python/examples/collector.py
"""

import asyncio
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import crosscut  # noqa: E402
import crosscut.aio  # noqa: E402

TARGET = {"exchange": "upbit", "region": "korea", "request_type": "ticker"}
SYMBOLS = ("BTC", "ETH", "XRP")
log = logging.getLogger("collector")


class ExchangeError(Exception):
    pass


async def ticker_feed(messages: int):
    """What a WebSocket subscription would yield: one ticker message at a time."""
    for i in range(messages):
        yield {"code": "KRW-" + SYMBOLS[i % len(SYMBOLS)], "trade_price": 100 + i}
        if i % 100 == 0:
            await asyncio.sleep(0)


async def fetch_orderbook(attempt: int) -> dict:
    """A REST call that fails its first five attempts: the exchange is having a bad minute."""
    await asyncio.sleep(0)
    if attempt < 5:
        raise ExchangeError("HTTP 502 from the exchange")
    return {"bids": [], "asks": []}


async def main() -> None:
    client = await crosscut.aio.Client.connect()
    handler = crosscut.LogHandler(client)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    breaker = client.breaker("upbit/korea/orderbook")
    counted = ok = failed = refused = 0
    try:
        log.info("subscribed", extra={"symbols": list(SYMBOLS), "correlation_id": "run-1"})
        async for message in ticker_feed(3000):
            client.count(TARGET, message["code"].split("-")[1])
            counted += 1
        for attempt in range(10):
            try:
                async with breaker.guard():
                    await fetch_orderbook(attempt)
                ok += 1
            except crosscut.CircuitOpenError:
                refused += 1
            except ExchangeError as e:
                failed += 1
                client.error(e, "rest_call", TARGET,
                             context={"endpoint": "/v1/orderbook", "attempt": attempt})
                log.warning("orderbook call failed", exc_info=True, extra={"attempt": attempt})
        state = await breaker.state()
        log.info("done", extra={"counted": counted, "breaker": state})
        await client.flush()
    finally:
        log.removeHandler(handler)
        await client.close()
    print("counted %d messages; orderbook calls: %d ok, %d failed, %d refused; breaker %s; "
          "dropped %d" % (counted, ok, failed, refused, state, client.stats()["dropped"]))


if __name__ == "__main__":
    asyncio.run(main())
