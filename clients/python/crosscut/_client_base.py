"""What the sync and the asyncio client share: their options, the one-way calls that build a
line and hand it to the client's buffer, and the accounting of those lines."""

import os
from typing import Any, Mapping, Optional

from . import _protocol
from ._availability import Availability


class ClientBase:
    """Options, as documented on crosscut.Client. Subclasses provide _send(line): buffer one
    one-way line, or drop and count it when the buffer is full; it never waits on I/O."""

    def __init__(self, path: Optional[str], on_unavailable: str, timeout: float,
                 buffer_size: int, reconnect_min: float, reconnect_max: float) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if buffer_size < 1:
            raise ValueError("buffer_size must be at least 1")
        self.path = path or os.environ.get("CROSSCUT_SOCKET") or _protocol.DEFAULT_SOCKET
        self._timeout = timeout
        self._availability = Availability(self.path, on_unavailable, reconnect_min, reconnect_max)
        self._lines = _protocol.MessageLines()
        self._limit = buffer_size  # one-way lines held at most
        self._dropped = 0
        self._sent = 0

    def count(self, target: _protocol.Target, symbol: str = "", ts_ms: Optional[int] = None) -> None:
        """One market-data message of `target` ((exchange, region, request_type) or a mapping
        with those keys), in the minute of ts_ms (epoch ms) or the minute it arrives."""
        self._send(self._lines.line(target, symbol, ts_ms))

    def error(self, exc: Optional[BaseException], kind: str = "unknown",
              target: Optional[_protocol.Target] = None,
              context: Optional[Mapping[str, Any]] = None,
              correlation_id: Optional[str] = None) -> None:
        """Dispatch an error through the agent's rules, breaker and error sink."""
        self._send(_protocol.error_line(exc, kind, target, context, correlation_id))

    def log(self, level: str, message: str, logger: str = "app",
            extra: Optional[Mapping[str, Any]] = None,
            exception: Optional[Mapping[str, str]] = None) -> None:
        """One log record (what LogHandler sends): level debug|info|warning|error|critical."""
        self._send(_protocol.log_line(level, logger, message, extra, exception))

    def _send(self, line: bytes) -> None:
        raise NotImplementedError
