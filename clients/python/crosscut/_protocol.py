"""The agent's socket protocol (docs/protocol.md): building lines, reading replies.

One JSON object per line in both directions. A line with an ``id`` is a request and gets
exactly one reply on the same connection, in request order; the others are one-way.
"""

import functools
import json
from typing import Any, Dict, Mapping, Optional, Tuple, Union

PROTOCOL_VERSION = 1
DEFAULT_SOCKET = "/run/crosscut/events.sock"

Target = Union[Mapping[str, str], Tuple[str, str, str]]

_LEVELS = ((50, "critical"), (40, "error"), (30, "warning"), (20, "info"), (0, "debug"))


def _dumps(value: Any) -> str:
    # default=str: a value JSON cannot carry (a datetime, an object) is sent as its text
    # rather than making the call fail.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def target_tuple(target: Target) -> Tuple[str, str, str]:
    """(exchange, region, request_type) from a mapping with those keys or a 3-tuple."""
    if isinstance(target, tuple):
        if len(target) != 3:
            raise ValueError("a target tuple is (exchange, region, request_type)")
        return target
    try:
        return (target["exchange"], target["region"], target["request_type"])
    except (KeyError, TypeError):
        raise ValueError(
            "a target is a mapping with exchange, region and request_type, or a 3-tuple"
        ) from None


def _target_json(t: Tuple[str, str, str]) -> str:
    return _dumps({"exchange": t[0], "region": t[1], "request_type": t[2]})


class MessageLines:
    """The `message` lines of count(), cached: counting is the hot path, and a collector
    counts the same few targets and symbols millions of times. The cache is bounded."""

    _MAX_CACHED = 65536

    def __init__(self) -> None:
        self._whole: Dict[Any, bytes] = {}  # (target, symbol) -> the line, without ts_ms
        self._prefix: Dict[Any, bytes] = {}  # (target, symbol) -> the line up to ts_ms

    def line(self, target: Target, symbol: str, ts_ms: Optional[int]) -> bytes:
        key = (target if isinstance(target, tuple) else target_tuple(target), symbol)
        if ts_ms is None:
            line = self._whole.get(key)
            if line is None:
                line = self._build(key, None)
                self._remember(self._whole, key, line)
            return line
        prefix = self._prefix.get(key)
        if prefix is None:
            prefix = self._build(key, "")
            self._remember(self._prefix, key, prefix)
        if type(ts_ms) is not int:
            raise TypeError("ts_ms must be an integer (epoch milliseconds)")
        return b"%s%d}\n" % (prefix, ts_ms)

    def _build(self, key: Any, ts: Optional[str]) -> bytes:
        t, symbol = key
        t = target_tuple(t)
        if not isinstance(symbol, str):
            raise TypeError("symbol must be a string")
        head = '{"event":"message","target":%s,"symbol":%s' % (_target_json(t), _dumps(symbol))
        if ts is None:
            return (head + "}\n").encode()
        return (head + ',"ts_ms":').encode()

    def _remember(self, cache: Dict[Any, bytes], key: Any, line: bytes) -> None:
        if len(cache) >= self._MAX_CACHED:
            cache.clear()
        cache[key] = line


def outcome_line(resource: str, success: bool, retry_after_ms: Optional[int] = None,
                 duration_ms: Optional[int] = None) -> bytes:
    line = '{"event":"outcome","resource":%s,"success":%s' % (
        _dumps(resource), "true" if success else "false")
    if retry_after_ms is not None:
        if isinstance(retry_after_ms, bool) or not isinstance(retry_after_ms, int) \
                or not 0 <= retry_after_ms <= MAX_RETRY_AFTER_MS:
            raise ValueError("retry_after_ms must be an integer from 0 to %d" % MAX_RETRY_AFTER_MS)
        line += ',"retry_after_ms":%d' % retry_after_ms
    if duration_ms is not None:
        if isinstance(duration_ms, bool) or not isinstance(duration_ms, int) \
                or not 0 <= duration_ms <= MAX_DURATION_MS:
            raise ValueError("duration_ms must be an integer from 0 to %d" % MAX_DURATION_MS)
        line += ',"duration_ms":%d' % duration_ms
    return (line + "}\n").encode()


# The longest call duration the agent takes (to 2099-12-31 in ms, as its breakers).
MAX_DURATION_MS = 4_102_444_799_999

# The longest Retry-After the agent takes (30 days).
MAX_RETRY_AFTER_MS = 30 * 24 * 3600 * 1000


def exception_object(exc: BaseException, traceback_text: Optional[str] = None) -> Dict[str, str]:
    out = {"type": type(exc).__name__, "message": str(exc)}
    if traceback_text:
        out["traceback"] = traceback_text
    return out


def error_line(exc: Optional[BaseException], kind: str, target: Optional[Target],
               context: Optional[Mapping[str, Any]], correlation_id: Optional[str]) -> bytes:
    event: Dict[str, Any] = {"event": "error", "kind": kind}
    if exc is not None:
        event["exception"] = exception_object(exc)
    if target is not None:
        t = target_tuple(target)
        event["target"] = {"exchange": t[0], "region": t[1], "request_type": t[2]}
    if context:
        event["context"] = dict(context)
    if correlation_id is not None:
        event["correlation_id"] = correlation_id
    return (_dumps(event) + "\n").encode()


def level_name(levelno: int) -> str:
    """A logging level number as the agent's level: custom levels go to the nearest below."""
    for number, name in _LEVELS:
        if levelno >= number:
            return name
    return "debug"


def log_line(level: str, logger: str, message: str, extra: Optional[Mapping[str, Any]],
             exception: Optional[Mapping[str, str]]) -> bytes:
    event: Dict[str, Any] = {"event": "log", "level": level, "logger": logger,
                             "message": message}
    if extra:
        event["extra"] = dict(extra)
    if exception:
        event["exception"] = dict(exception)
    return (_dumps(event) + "\n").encode()


@functools.lru_cache(maxsize=4096)
def _request_start(event: str, resource: Optional[str]) -> bytes:
    # A breaker asks about the same few resources all the time: render their part once.
    if resource is None:
        return b'{"event":"%s","id":' % event.encode()
    return ('{"event":"%s","resource":%s,"id":' % (event, _dumps(resource))).encode()


def request_line(event: str, request_id: int, resource: Optional[str] = None) -> bytes:
    return b"%s%d}\n" % (_request_start(event, resource), request_id)


def hello_line(request_id: int, client: str) -> bytes:
    return ('{"event":"hello","id":%d,"protocol":%d,"client":%s}\n'
            % (request_id, PROTOCOL_VERSION, _dumps(client))).encode()


class ProtocolError(Exception):
    """The agent said something this client cannot follow: the connection is dropped."""


def parse_reply(line: bytes, expected_id: int) -> Dict[str, Any]:
    try:
        reply = json.loads(line)
    except ValueError:
        raise ProtocolError("reply is not JSON: %r" % line[:200]) from None
    if not isinstance(reply, dict) or reply.get("id") != expected_id:
        raise ProtocolError("expected the reply to request %d, got %r" % (expected_id, line[:200]))
    return reply


def check_hello(reply: Mapping[str, Any]) -> None:
    if not reply.get("ok") or not isinstance(reply.get("protocol"), int) \
            or reply["protocol"] < PROTOCOL_VERSION:
        raise ProtocolError("the agent does not speak protocol %d: %r" % (PROTOCOL_VERSION, reply))
