"""No bearer token in the server's logs.

uvicorn writes every request's path with its query string: HTTP requests to ``uvicorn.access``,
WebSocket handshakes (``"WebSocket /api/live?token=…" [accepted]``) to ``uvicorn.error``. Old
live clients still put their token in the URL, and anyone may send ``?access_token=`` to any
path, so the values of such parameters are replaced before a record reaches any handler. The
filter sits on the loggers themselves, installed by the app factory in every server process,
after uvicorn has configured its logging, whichever way the server was started.

>>> redact('127.0.0.1:5 - "GET /api/live?after=3&token=abc.def HTTP/1.1" 101')
'127.0.0.1:5 - "GET /api/live?after=3&token=[redacted] HTTP/1.1" 101'
>>> redact("/x?Access_Token=s3cr3t&tok%65n=s3cr3t#y")
'/x?Access_Token=[redacted]&tok%65n=[redacted]#y'
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

LOGGERS = ("uvicorn.access", "uvicorn.error")
SECRET_NAMES = frozenset({"token", "access_token"})
REDACTED = "[redacted]"

# A query parameter: what precedes it, its name, its value (up to the next separator, space
# or quote, as a log line ends the path there).
_PARAMETER = re.compile(r"([?&;])([^=&;#\s\"']*)=([^&;#\s\"']*)")


def redact(text: str) -> str:
    """``text`` with the value of every token parameter replaced; the name is compared
    decoded, as the server reads it (``tok%65n`` is ``token``)."""
    if "=" not in text:
        return text

    def hide(match: re.Match[str]) -> str:
        if unquote_plus(match[2]).lower() in SECRET_NAMES:
            return f"{match[1]}{match[2]}={REDACTED}"
        return match[0]

    return _PARAMETER.sub(hide, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def redact_server_logs() -> None:
    """Put the filter on uvicorn's loggers, once per process."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
