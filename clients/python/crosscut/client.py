"""The synchronous client: a connection to the agent's socket shared by every thread.

One-way calls (count, error, record_success/record_failure, logging) append a line to a
bounded buffer and return: a writer thread sends the buffer in batches. Requests (allow,
state, flush) take the connection's lock, send what is buffered and then the request, and read
its reply, so a request never overtakes a one-way line sent before it.
"""

import collections
import socket
import struct
import threading
import time
from typing import Any, Dict, Optional

from . import _protocol
from ._client_base import ClientBase
from .errors import AgentError, AgentUnavailableError, CircuitOpenError

__all__ = ["Client", "Breaker"]

_CLIENT_NAME = "crosscut-python"
# What a flush may wait: the agent answers it within 5 s (ok:false when its log sinks lag).
_FLUSH_TIMEOUT = 10.0
# Lines sent per write by the writer thread.
_BATCH = 16384
_READ_CHUNK = 65536


def _set_kernel_timeout(sock: socket.socket, option: int, seconds: float) -> None:
    """Bounds each blocking send or receive on `sock` (EAGAIN when it passes).

    The socket stays in blocking mode: a Python timeout would poll() before every receive,
    which costs a wakeup more per request than a receive that sleeps in the kernel.
    """
    seconds = max(seconds, 0.001)
    whole = int(seconds)
    sock.setsockopt(socket.SOL_SOCKET, option,
                    struct.pack("ll", whole, int((seconds - whole) * 1_000_000)))


class Breaker:
    """One resource's breaker, kept by the agent and shared with every process that asks it."""

    def __init__(self, client: "Client", resource: str) -> None:
        if not isinstance(resource, str) or not resource:
            raise ValueError("a breaker's resource key is a non-empty string")
        self._client = client
        self.resource = resource

    def allow(self) -> bool:
        """Whether a call may proceed now (the breaker's acquire: a HALF_OPEN permit is taken,
        so report the call's outcome). While the agent is away: the on_unavailable choice."""
        reply = self._client._request("acquire", self.resource)
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

    def state(self) -> str:
        """"CLOSED", "OPEN" or "HALF_OPEN". Raises AgentUnavailableError while the agent is away."""
        return self.info()["state"]

    def info(self) -> Dict[str, Any]:
        """The agent's `breaker` reply: state, failures, opened_at_ms, open_until_ms, forced_open."""
        reply = self._client._request("breaker", self.resource)
        if reply is None:
            raise AgentUnavailableError("crosscut agent unavailable at %s" % self._client.path)
        return reply

    def guard(self) -> "_Guard":
        """with breaker.guard(): call() — raises CircuitOpenError when refused; records a
        success when the body returns and a failure when it raises (and re-raises)."""
        return _Guard(self)


class _Guard:
    def __init__(self, breaker: Breaker) -> None:
        self._breaker = breaker
        self._started = 0.0

    def __enter__(self) -> Breaker:
        if not self._breaker.allow():
            raise CircuitOpenError(self._breaker.resource,
                                   None if self._breaker._client._availability.away else "OPEN")
        self._started = time.monotonic()
        return self._breaker

    def __exit__(self, exc_type, exc, tb) -> bool:
        # How long the body took, for a rate-mode slow-call rule.
        took_ms = int((time.monotonic() - self._started) * 1000)
        if exc_type is None:
            self._breaker.record_success(duration_ms=took_ms)
        else:
            self._breaker.record_failure(duration_ms=took_ms)
        return False


class Client(ClientBase):
    """A client of the crosscut agent. Thread-safe; also a context manager (closes on exit).

    path: the agent's Unix socket; default $CROSSCUT_SOCKET, else /run/crosscut/events.sock.
    on_unavailable: what allow() answers while the agent cannot be reached: "allow" or "deny".
    timeout: seconds a request waits for its reply (and a write for the socket) before the
        agent counts as unavailable and the connection is dropped.
    buffer_size: one-way lines held while they wait to be sent; beyond it they are dropped and
        counted (stats()["dropped"]).
    """

    def __init__(self, path: Optional[str] = None, *, on_unavailable: str = "allow",
                 timeout: float = 1.0, buffer_size: int = 100_000,
                 reconnect_min: float = 0.05, reconnect_max: float = 2.0) -> None:
        super().__init__(path, on_unavailable, timeout, buffer_size, reconnect_min,
                         reconnect_max)
        self._buffer: "collections.deque[bytes]" = collections.deque()
        self._counts_lock = threading.Lock()  # _dropped and _sent
        self._lock = threading.Lock()  # the connection: writing, and each request's reply
        self._sock: Optional[socket.socket] = None
        self._received = b""
        self._next_id = 1
        self._wake = threading.Event()
        self._wake_pending = False
        self._closed = False
        with self._lock:
            self._ensure_connected()
        self._writer = threading.Thread(target=self._write_loop, name="crosscut-writer",
                                        daemon=True)
        self._writer.start()

    # --- the API ------------------------------------------------------------------------
    def breaker(self, resource: str) -> Breaker:
        return Breaker(self, resource)

    def count(self, target: _protocol.Target, symbol: str = "", ts_ms: Optional[int] = None) -> None:
        # _send() inlined: this is the call made for every message.
        line = self._lines.line(target, symbol, ts_ms)
        buffer = self._buffer
        if len(buffer) >= self._limit:
            self._drop(1)
            return
        buffer.append(line)
        if not self._wake_pending:
            self._wake_pending = True
            self._wake.set()

    count.__doc__ = ClientBase.count.__doc__

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends what is buffered and returns once the agent has handled it and its log sinks
        have written it. Raises AgentUnavailableError, or AgentError when the agent's sinks did
        not take the records in time."""
        reply = self._request("flush", None, timeout or max(self._timeout, _FLUSH_TIMEOUT))
        if reply is None:
            raise AgentUnavailableError("crosscut agent unavailable at %s" % self.path)

    def stats(self) -> Dict[str, int]:
        """sent: one-way lines the kernel took whole; dropped: lines given up (the buffer was
        full, or a write failed before they were taken); buffered: waiting; reconnects."""
        with self._counts_lock:
            return {"sent": self._sent, "dropped": self._dropped, "buffered": len(self._buffer),
                    "reconnects": self._availability.reconnects}

    @property
    def dropped(self) -> int:
        with self._counts_lock:
            return self._dropped

    def close(self) -> None:
        """Sends what is buffered (for about `timeout` at most if the agent is away or
        stuck), then closes the connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._writer.join(max(2 * self._timeout, 1.0))
        with self._lock:
            self._disconnect()
            # The agent was away until the end: what could not be sent is counted.
            self._drop(len(self._take(len(self._buffer))))

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- the connection -----------------------------------------------------------------
    def _send(self, line: bytes) -> None:
        if len(self._buffer) >= self._limit:
            self._drop(1)
            return
        self._buffer.append(line)
        if not self._wake_pending:
            self._wake_pending = True
            self._wake.set()

    def _drop(self, n: int) -> None:
        with self._counts_lock:
            self._dropped += n

    def _request(self, event: str, resource: Optional[str],
                 timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The reply to one request, or None when the agent cannot answer in time."""
        timeout = timeout or self._timeout
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            return None
        try:
            if not self._ensure_connected():
                return None
            request_id = self._next_id
            self._next_id += 1
            try:
                one_way = self._take(len(self._buffer))
                self._write(one_way + [_protocol.request_line(event, request_id, resource)],
                            deadline, len(one_way))
                reply = _protocol.parse_reply(self._read_line(deadline), request_id)
            except (OSError, _protocol.ProtocolError) as e:
                self._broken(str(e) or type(e).__name__)
                return None
        finally:
            self._lock.release()
        if not reply.get("ok"):
            raise AgentError("crosscut agent refused %s: %s" % (event, reply.get("error")), reply)
        return reply

    def _take(self, n: int) -> list:
        popleft = self._buffer.popleft
        return [popleft() for _ in range(min(n, len(self._buffer)))]

    def _write(self, lines: list, deadline: float, one_way: int) -> None:
        """Writes `lines`, of which the first `one_way` are one-way lines (counted)."""
        sock = self._sock
        assert sock is not None
        joined = b"".join(lines)
        data = memoryview(joined)
        narrowed = False
        try:
            while data:
                try:
                    data = data[sock.send(data):]
                    if not data:
                        break
                except BlockingIOError:
                    pass
                # The agent reads slower than we write: wait for it, up to the deadline.
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("the agent did not read within the timeout")
                _set_kernel_timeout(sock, socket.SO_SNDTIMEO, left)
                narrowed = True
            if narrowed:
                _set_kernel_timeout(sock, socket.SO_SNDTIMEO, self._timeout)
        except OSError:
            # The lines the kernel took whole reach the agent; the rest (a partial line
            # included, which the agent counts as a bad line) are dropped.
            taken = min(joined.count(b"\n", 0, len(joined) - len(data)), one_way)
            with self._counts_lock:
                self._sent += taken
                self._dropped += one_way - taken
            raise
        with self._counts_lock:
            self._sent += one_way

    def _read_line(self, deadline: float) -> bytes:
        sock = self._sock
        assert sock is not None
        narrowed = False
        while True:
            newline = self._received.find(b"\n")
            if newline >= 0:
                line = self._received[:newline]
                self._received = self._received[newline + 1:]
                if narrowed:
                    _set_kernel_timeout(sock, socket.SO_RCVTIMEO, self._timeout)
                return line
            try:
                chunk = sock.recv(_READ_CHUNK)
                if not chunk:
                    raise ConnectionResetError("the agent closed the connection")
                self._received += chunk
                if b"\n" in chunk:
                    continue
            except BlockingIOError:
                pass
            # No whole line yet: wait for it only as long as is left (a flush may wait longer
            # than the socket's timeout).
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no reply within the timeout")
            _set_kernel_timeout(sock, socket.SO_RCVTIMEO, left)
            narrowed = True

    def _ensure_connected(self) -> bool:
        """Under the lock: a connection that has said hello, or False (backing off)."""
        if self._sock is not None:
            return True
        if not self._availability.may_try():
            return False
        deadline = time.monotonic() + self._timeout
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._timeout)
            sock.connect(self.path)
            sock.settimeout(None)
            _set_kernel_timeout(sock, socket.SO_RCVTIMEO, self._timeout)
            _set_kernel_timeout(sock, socket.SO_SNDTIMEO, self._timeout)
            self._sock = sock
            self._received = b""
            request_id = self._next_id
            self._next_id += 1
            sock.sendall(_protocol.hello_line(request_id, _CLIENT_NAME))
            _protocol.check_hello(_protocol.parse_reply(self._read_line(deadline), request_id))
        except (OSError, _protocol.ProtocolError) as e:
            self._sock = None
            sock.close()
            self._availability.failed(str(e) or type(e).__name__)
            return False
        self._availability.connected()
        return True

    def _broken(self, reason: str) -> None:
        self._disconnect()
        self._availability.failed(reason)

    def _disconnect(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._received = b""

    def _write_loop(self) -> None:
        while True:
            self._wake.wait(0.05)
            self._wake.clear()
            self._wake_pending = False
            closing = self._closed
            while self._buffer:
                if not self._send_batch():
                    break
            if closing:
                return

    def _send_batch(self) -> bool:
        """Sends one batch of the buffer; False when the agent is away (the lines stay)."""
        with self._lock:
            if not self._ensure_connected():
                return False
            lines = self._take(_BATCH)
            if not lines:
                return True
            try:
                self._write(lines, time.monotonic() + self._timeout, len(lines))
            except OSError as e:
                self._broken(str(e) or type(e).__name__)
                return False
        return True
