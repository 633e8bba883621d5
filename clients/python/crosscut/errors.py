"""Exceptions raised by the crosscut clients."""

from typing import Any, Dict, Optional


class CrosscutError(Exception):
    """Base class of every exception the client raises."""


class AgentUnavailableError(CrosscutError):
    """The agent could not answer a request: unreachable, stopped, or too slow.

    Raised by the requests that have no documented default (``state()``, ``flush()``);
    ``allow()`` answers from ``on_unavailable`` instead.
    """


class AgentError(CrosscutError):
    """The agent answered a request with ``ok: false``: nothing of it was carried out."""

    def __init__(self, message: str, reply: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.reply = reply or {}


class CircuitOpenError(CrosscutError):
    """A breaker refused the call ``guard()`` was about to make."""

    def __init__(self, resource: str, state: Optional[str] = None) -> None:
        detail = state if state is not None else "agent unavailable, on_unavailable=deny"
        super().__init__("circuit breaker %r refused the call (%s)" % (resource, detail))
        self.resource = resource
        self.state = state
