"""The asyncio client: the same calls as crosscut.Client, as coroutines where they wait.

    ac = await crosscut.aio.Client.connect(path)
    if await ac.breaker("upbit/korea/ticker").allow(): ...
    async with ac.breaker("upbit/korea/ticker").guard(): ...
    ac.count(target, "BTC")            # plain calls: buffered, never wait
    await ac.flush(); await ac.close()

Requests are pipelined: any number may be in flight on the one connection, each resolved by
its reply in order. One-way lines and requests share one queue, so they reach the agent in the
order they were made. record_success(), record_failure(), count(), error() and log() are plain
methods (they only buffer), so crosscut.LogHandler works with this client too.
"""

import asyncio
import collections
import os
from typing import Any, Deque, Dict, Mapping, Optional, Tuple

from . import _protocol
from ._availability import Availability
from .client import _CLIENT_NAME, _FLUSH_TIMEOUT
from .errors import AgentError, AgentUnavailableError, CircuitOpenError

__all__ = ["Client", "Breaker"]


class _Request(bytes):
    """A request line in the queue (the rest are one-way lines)."""


class Breaker:
    def __init__(self, client: "Client", resource: str) -> None:
        if not isinstance(resource, str) or not resource:
            raise ValueError("a breaker's resource key is a non-empty string")
        self._client = client
        self.resource = resource

    async def allow(self) -> bool:
        reply = await self._client._request("acquire", self.resource)
        if reply is None:
            return self._client._availability.allow_when_away
        return bool(reply["allowed"])

    def record_success(self) -> None:
        self._client._send(_protocol.outcome_line(self.resource, True))

    def record_failure(self) -> None:
        self._client._send(_protocol.outcome_line(self.resource, False))

    async def state(self) -> str:
        return (await self.info())["state"]

    async def info(self) -> Dict[str, Any]:
        reply = await self._client._request("breaker", self.resource)
        if reply is None:
            raise AgentUnavailableError("crosscut agent unavailable at %s" % self._client.path)
        return reply

    def guard(self) -> "_Guard":
        return _Guard(self)


class _Guard:
    def __init__(self, breaker: Breaker) -> None:
        self._breaker = breaker

    async def __aenter__(self) -> Breaker:
        if not await self._breaker.allow():
            raise CircuitOpenError(self._breaker.resource,
                                   None if self._breaker._client._availability.away else "OPEN")
        return self._breaker

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self._breaker.record_success()
        else:
            self._breaker.record_failure()
        return False


class Client:
    """Options as for crosscut.Client. Create with `await Client.connect(...)`; use from one
    event loop."""

    def __init__(self, path: Optional[str] = None, *, on_unavailable: str = "allow",
                 timeout: float = 1.0, buffer_size: int = 100_000,
                 reconnect_min: float = 0.05, reconnect_max: float = 2.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if buffer_size < 1:
            raise ValueError("buffer_size must be at least 1")
        self.path = path or os.environ.get("CROSSCUT_SOCKET") or _protocol.DEFAULT_SOCKET
        self._timeout = timeout
        self._availability = Availability(self.path, on_unavailable, reconnect_min, reconnect_max)
        self._lines = _protocol.MessageLines()
        self._queue: Deque[bytes] = collections.deque()  # one-way lines and requests, in order
        self._one_way = 0  # of which one-way (bounded by buffer_size)
        self._limit = buffer_size
        self._dropped = 0
        self._sent = 0
        # Requests in flight, oldest first: id, the future its reply resolves, its timer.
        self._pending: Deque[Tuple[int, "asyncio.Future[Optional[Dict[str, Any]]]",
                                   asyncio.TimerHandle]] = collections.deque()
        self._next_id = 1
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._reading: Optional["asyncio.Task[None]"] = None
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._closed = False
        self._pump: Optional["asyncio.Task[None]"] = None

    @classmethod
    async def connect(cls, path: Optional[str] = None, **options: Any) -> "Client":
        """A client that has tried to connect once (an agent that is away is not an error:
        the client keeps trying in the background)."""
        client = cls(path, **options)
        await client._open()
        client._pump = asyncio.ensure_future(client._run())
        return client

    # --- the API ------------------------------------------------------------------------
    def breaker(self, resource: str) -> Breaker:
        return Breaker(self, resource)

    def count(self, target: _protocol.Target, symbol: str = "", ts_ms: Optional[int] = None) -> None:
        self._send(self._lines.line(target, symbol, ts_ms))

    def error(self, exc: Optional[BaseException], kind: str = "unknown",
              target: Optional[_protocol.Target] = None,
              context: Optional[Mapping[str, Any]] = None,
              correlation_id: Optional[str] = None) -> None:
        self._send(_protocol.error_line(exc, kind, target, context, correlation_id))

    def log(self, level: str, message: str, logger: str = "app",
            extra: Optional[Mapping[str, Any]] = None,
            exception: Optional[Mapping[str, str]] = None) -> None:
        self._send(_protocol.log_line(level, logger, message, extra, exception))

    async def flush(self, timeout: Optional[float] = None) -> None:
        reply = await self._request("flush", None, timeout or max(self._timeout, _FLUSH_TIMEOUT))
        if reply is None:
            raise AgentUnavailableError("crosscut agent unavailable at %s" % self.path)

    def stats(self) -> Dict[str, int]:
        return {"sent": self._sent, "dropped": self._dropped, "buffered": self._one_way,
                "reconnects": self._availability.reconnects}

    @property
    def dropped(self) -> int:
        return self._dropped

    async def close(self) -> None:
        """Sends what is queued (for about `timeout` at most), then closes. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._pump is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._pump), max(2 * self._timeout, 1.0))
            except asyncio.TimeoutError:
                self._pump.cancel()
        self._disconnect("closed")
        # The agent was away until the end: what could not be sent is counted, not lost unseen.
        self._dropped += self._one_way
        self._queue.clear()
        self._one_way = 0

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # --- the connection -----------------------------------------------------------------
    def _send(self, line: bytes) -> None:
        if self._one_way >= self._limit:
            self._dropped += 1
            return
        self._queue.append(line)
        self._one_way += 1
        self._kick()

    def _kick(self) -> None:
        if not self._wake_pending:
            self._wake_pending = True
            self._wake.set()

    async def _request(self, event: str, resource: Optional[str],
                       timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        if self._writer is None or self._closed:
            return None
        request_id = self._next_id
        self._next_id += 1
        loop = asyncio.get_event_loop()
        future = loop.create_future()
        # A timer rather than wait_for(): thousands of requests may be in flight.
        timer = loop.call_later(timeout or self._timeout, self._expire, future)
        self._pending.append((request_id, future, timer))
        # Requests are not one-way lines: never dropped, not counted against buffer_size.
        self._queue.append(_Request(_protocol.request_line(event, request_id, resource)))
        self._kick()
        reply = await future
        if reply is not None and not reply.get("ok"):
            raise AgentError("crosscut agent refused %s: %s" % (event, reply.get("error")), reply)
        return reply

    def _expire(self, future: "asyncio.Future[Optional[Dict[str, Any]]]") -> None:
        if not future.done():
            # The replies after this one would be read as the wrong ones: start over.
            self._broken("no reply within the timeout")

    async def _open(self) -> bool:
        if not self._availability.may_try():
            return False
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.path, limit=1 << 22), self._timeout)
        except (OSError, asyncio.TimeoutError) as e:
            self._availability.failed(str(e) or type(e).__name__)
            return False
        try:
            request_id = self._next_id
            self._next_id += 1
            writer.write(_protocol.hello_line(request_id, _CLIENT_NAME))
            line = await asyncio.wait_for(reader.readline(), self._timeout)
            _protocol.check_hello(_protocol.parse_reply(line, request_id))
        except (OSError, asyncio.TimeoutError, _protocol.ProtocolError) as e:
            writer.close()
            self._availability.failed(str(e) or type(e).__name__)
            return False
        self._reader, self._writer = reader, writer
        self._reading = asyncio.ensure_future(self._read_replies(reader))
        self._availability.connected()
        return True

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    raise ConnectionResetError("the agent closed the connection")
                if not self._pending:
                    raise _protocol.ProtocolError("a reply nobody asked for: %r" % line[:200])
                request_id, future, timer = self._pending.popleft()
                timer.cancel()
                reply = _protocol.parse_reply(line, request_id)
                if not future.done():
                    future.set_result(reply)
        except asyncio.CancelledError:
            raise
        except (OSError, ValueError, _protocol.ProtocolError) as e:
            if self._reader is reader:
                self._broken(str(e) or type(e).__name__)

    def _broken(self, reason: str) -> None:
        self._disconnect(reason)
        self._availability.failed(reason)

    def _disconnect(self, reason: str) -> None:
        if self._reading is not None and self._reading is not asyncio.current_task():
            self._reading.cancel()
        self._reading = None
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
        # Requests in flight cannot be answered on a new connection; what is still queued
        # of them neither.
        while self._pending:
            _, future, timer = self._pending.popleft()
            timer.cancel()
            if not future.done():
                future.set_result(None)
        kept: Deque[bytes] = collections.deque(
            line for line in self._queue if not isinstance(line, _Request))
        self._queue = kept
        self._one_way = len(kept)

    async def _run(self) -> None:
        while True:
            if self._writer is None:
                if self._closed:
                    return
                if not await self._open():
                    await self._sleep(self._availability.seconds_to_next_try())
                    continue
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                self._wake_pending = False
                if not self._queue:
                    await self._wake.wait()
                continue
            await self._write_queued()

    async def _write_queued(self) -> None:
        writer = self._writer
        assert writer is not None
        batch = []
        one_way = 0
        queue = self._queue
        while queue and len(batch) < 4096:
            line = queue.popleft()
            batch.append(line)
        for line in batch:
            if not isinstance(line, _Request):
                one_way += 1
        self._one_way -= one_way
        try:
            writer.write(b"".join(batch))
            await asyncio.wait_for(writer.drain(), self._timeout)
        except (OSError, asyncio.TimeoutError) as e:
            self._dropped += one_way
            self._broken(str(e) or type(e).__name__)
            return
        self._sent += one_way

    async def _sleep(self, seconds: float) -> None:
        """Sleeps until the next connection attempt, or until close()."""
        self._wake.clear()
        self._wake_pending = False
        try:
            await asyncio.wait_for(self._wake.wait(), max(seconds, 0.01))
        except asyncio.TimeoutError:
            pass
