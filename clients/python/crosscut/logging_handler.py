"""crosscut.LogHandler: the standard logging module's records, sent to the agent."""

import logging
import traceback
from typing import Any, Dict, Optional

from . import _protocol

# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


class LogHandler(logging.Handler):
    """Sends each record as a `log` event: the level, the logger's name, the formatted
    message, the `extra=` fields (correlation_id among them) as the record's extra, and
    exc_info as its exception {type, message, traceback}. Works with crosscut.Client and
    crosscut.aio.Client; only buffers, never blocks and never raises into the application
    (what it could not send is counted in `failed`)."""

    def __init__(self, client: Any, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._client = client
        self.failed = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            extra: Dict[str, Any] = {k: v for k, v in vars(record).items()
                                     if k not in _STANDARD and not k.startswith("_")}
            exception: Optional[Dict[str, str]] = None
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                exception = _protocol.exception_object(
                    exc, "".join(traceback.format_exception(*record.exc_info)))
            self._client.log(_protocol.level_name(record.levelno), record.getMessage(),
                             logger=record.name, extra=extra, exception=exception)
        except Exception:  # noqa: BLE001 - a log call must never break the application
            self.failed += 1

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.failed += 1
