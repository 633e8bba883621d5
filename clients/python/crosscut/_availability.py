"""When to try the agent again, and saying once per outage that it is away.

Shared by the synchronous and the asyncio client; not thread-safe on its own (each client
calls it under its lock, or on its event loop).
"""

import logging
import time

log = logging.getLogger("crosscut")

ON_UNAVAILABLE = ("allow", "deny")


class Availability:
    def __init__(self, path: str, on_unavailable: str, reconnect_min: float,
                 reconnect_max: float) -> None:
        if on_unavailable not in ON_UNAVAILABLE:
            raise ValueError("on_unavailable must be 'allow' or 'deny', not %r" % (on_unavailable,))
        if not 0 < reconnect_min <= reconnect_max:
            raise ValueError("reconnect delays must satisfy 0 < reconnect_min <= reconnect_max")
        self.path = path
        self.allow_when_away = on_unavailable == "allow"
        self._min = reconnect_min
        self._max = reconnect_max
        self._delay = reconnect_min
        self._next_try = 0.0
        self.away = False
        self.ever_connected = False
        self.reconnects = 0

    def may_try(self) -> bool:
        return time.monotonic() >= self._next_try

    def seconds_to_next_try(self) -> float:
        return max(0.0, self._next_try - time.monotonic())

    def failed(self, reason: str) -> None:
        """A connection attempt failed, or the connection broke."""
        if not self.away:
            self.away = True
            log.warning("crosscut agent unavailable at %s (%s); allow() answers %s until it is "
                        "back, one-way calls are buffered", self.path, reason,
                        "True" if self.allow_when_away else "False")
        self._next_try = time.monotonic() + self._delay
        self._delay = min(self._delay * 2, self._max)

    def connected(self) -> None:
        if self.away:
            log.info("crosscut agent reachable again at %s", self.path)
        if self.ever_connected:
            self.reconnects += 1
        self.ever_connected = True
        self.away = False
        self._delay = self._min
        self._next_try = 0.0
