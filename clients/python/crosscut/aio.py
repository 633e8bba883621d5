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
import time
from typing import Any, Deque, Dict, List, Optional, Tuple

from . import _protocol
from ._client_base import ClientBase
from .client import _CLIENT_NAME, _FLUSH_TIMEOUT
from .errors import AgentError, AgentUnavailableError, CircuitOpenError

__all__ = ["Client", "Breaker"]


class _Request(bytes):
    """A request line in the queue (the rest are one-way lines)."""


def _one_way_lines_within(batch: List[bytes], written: int) -> int:
    """How many one-way lines of `batch` lie whole within its first `written` bytes."""
    taken = 0
    for line in batch:
        written -= len(line)
        if written < 0:
            break
        if not isinstance(line, _Request):
            taken += 1
    return taken


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

    def record_success(self, duration_ms: Optional[int] = None) -> None:
        """A successful call; duration_ms (how long it took) feeds a rate-mode slow-call rule."""
        self._client._send(_protocol.outcome_line(self.resource, True, None, duration_ms))

    def record_failure(self, retry_after_ms: Optional[int] = None,
                       duration_ms: Optional[int] = None) -> None:
        """A failed call. With retry_after_ms (a server's Retry-After or ban, in ms) the breaker
        is also held OPEN that long for every instance. Raises ValueError for a value the agent
        would refuse (not an integer from 0 to 30 days; a duration from 0 to MAX_DURATION_MS)."""
        self._client._send(_protocol.outcome_line(self.resource, False, retry_after_ms,
                                                  duration_ms))

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
        self._started = 0.0

    async def __aenter__(self) -> Breaker:
        if not await self._breaker.allow():
            raise CircuitOpenError(self._breaker.resource,
                                   None if self._breaker._client._availability.away else "OPEN")
        self._started = time.monotonic()
        return self._breaker

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        # How long the body took, for a rate-mode slow-call rule.
        took_ms = int((time.monotonic() - self._started) * 1000)
        if exc_type is None:
            self._breaker.record_success(duration_ms=took_ms)
        else:
            self._breaker.record_failure(duration_ms=took_ms)
        return False


class Client(ClientBase):
    """Options as for crosscut.Client. Create with `await Client.connect(...)`; use from one
    event loop."""

    def __init__(self, path: Optional[str] = None, *, on_unavailable: str = "allow",
                 timeout: float = 1.0, buffer_size: int = 100_000,
                 reconnect_min: float = 0.05, reconnect_max: float = 2.0) -> None:
        super().__init__(path, on_unavailable, timeout, buffer_size, reconnect_min,
                         reconnect_max)
        self._queue: Deque[bytes] = collections.deque()  # one-way lines and requests, in order
        self._one_way = 0  # of which one-way (bounded by buffer_size)
        # Requests in flight, oldest first: id, the future its reply resolves, its deadline
        # (loop time). Replies come in order, so only the oldest deadline needs a timer.
        self._pending: Deque[Tuple[int, "asyncio.Future[Optional[Dict[str, Any]]]",
                                   float]] = collections.deque()
        self._watchdog: Optional[asyncio.TimerHandle] = None
        # The batch being written and its count of one-way lines, until drain() returns.
        self._in_flight: Optional[Tuple[List[bytes], int]] = None
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
        self._pending.append((request_id, future, loop.time() + (timeout or self._timeout)))
        if self._watchdog is None:
            self._watch()
        # Requests are not one-way lines: never dropped, not counted against buffer_size.
        self._queue.append(_Request(_protocol.request_line(event, request_id, resource)))
        self._kick()
        reply = await future
        if reply is not None and not reply.get("ok"):
            raise AgentError("crosscut agent refused %s: %s" % (event, reply.get("error")), reply)
        return reply

    def _watch(self) -> None:
        """Arms the timer for the oldest request in flight, or breaks the connection when
        that request is past its deadline: the replies after it would be read as the wrong
        ones, so the client starts over."""
        self._watchdog = None
        if not self._pending:
            return
        loop = asyncio.get_event_loop()
        deadline = self._pending[0][2]
        if loop.time() >= deadline:
            self._broken("no reply within the timeout")
            return
        self._watchdog = loop.call_at(deadline, self._watch)

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
        # drain() returns only once the kernel has taken everything: what a broken
        # connection's transport still holds is then the last batch's tail alone.
        writer.transport.set_write_buffer_limits(high=0)
        self._reader, self._writer = reader, writer
        self._reading = asyncio.ensure_future(self._read_replies(reader))
        self._availability.connected()
        return True

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        received = b""
        try:
            while True:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    raise ConnectionResetError("the agent closed the connection")
                lines = (received + chunk).split(b"\n")
                received = lines.pop()  # the start of a line still on its way
                pending = self._pending
                for line in lines:
                    if not pending:
                        raise _protocol.ProtocolError("a reply nobody asked for: %r" % line[:200])
                    request_id, future, _ = pending.popleft()
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
            transport = self._writer.transport
            if self._in_flight is not None:
                self._account_for_in_flight(transport)
            # Abort rather than close: what the transport still holds is dropped now (and
            # counted so), not sent later behind the client's back.
            transport.abort()
        self._reader = self._writer = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        # Requests in flight cannot be answered on a new connection; what is still queued
        # of them neither.
        while self._pending:
            _, future, _ = self._pending.popleft()
            if not future.done():
                future.set_result(None)
        kept: Deque[bytes] = collections.deque(
            line for line in self._queue if not isinstance(line, _Request))
        self._queue = kept
        self._one_way = len(kept)

    def _account_for_in_flight(self, transport: asyncio.WriteTransport) -> None:
        """The batch being written when the connection broke: the lines the kernel took
        whole reach the agent, the rest (a partial line included, which the agent counts as a
        bad line) are dropped."""
        assert self._in_flight is not None
        batch, one_way = self._in_flight
        self._in_flight = None
        if transport.is_closing():
            # The transport closed itself on an error and emptied its buffer: how much of
            # the batch got through is unknown, so none of it is claimed.
            taken = 0
        else:
            unsent = transport.get_write_buffer_size()
            taken = _one_way_lines_within(batch, sum(map(len, batch)) - unsent)
        self._sent += taken
        self._dropped += one_way - taken

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
        self._in_flight = (batch, one_way)
        try:
            writer.write(b"".join(batch))
            await asyncio.wait_for(writer.drain(), self._timeout)
        except (OSError, asyncio.TimeoutError) as e:
            self._broken(str(e) or type(e).__name__)  # accounts for the batch
            return
        if self._in_flight is not None:  # else the connection broke meanwhile, and drain()
            self._in_flight = None      # returned only because the transport was aborted
            self._sent += one_way

    async def _sleep(self, seconds: float) -> None:
        """Sleeps until the next connection attempt, or until close()."""
        self._wake.clear()
        self._wake_pending = False
        try:
            await asyncio.wait_for(self._wake.wait(), max(seconds, 0.01))
        except asyncio.TimeoutError:
            pass
