"""crosscut: the Python client of the crosscut agent.

    import crosscut
    c = crosscut.Client()                       # $CROSSCUT_SOCKET or /run/crosscut/events.sock
    with c.breaker("upbit/korea/ticker").guard():
        call_exchange()
    c.count(("upbit", "korea", "ticker"), "BTC")

crosscut.aio has the asyncio client. The protocol is in the repository's docs/protocol.md.
"""

from . import aio
from .client import Breaker, Client
from .errors import AgentError, AgentUnavailableError, CircuitOpenError, CrosscutError
from .logging_handler import LogHandler

__version__ = "1.0.0"

__all__ = ["Client", "Breaker", "LogHandler", "CircuitOpenError", "AgentUnavailableError",
           "AgentError", "CrosscutError", "aio", "__version__"]
