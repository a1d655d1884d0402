"""No secret in a log line: every record is redacted as it is made, whatever handler writes it.

slack-sdk redacts the Authorization header, but at DEBUG it logs whole response bodies (an
`oauth.v2.access` answer carries the new tokens) and request bodies; a third-party library can log
anything. So the record factory itself formats each record's message and masks Slack tokens
(`xoxb-…`, `xoxp-…`, `xapp-…`, `xoxe-…`), HubSpot private-app tokens (`pat-…`) and every secret
value Baton was configured with, before any handler sees it.
"""

import logging
import re
import threading
from collections.abc import Iterable

TOKEN = re.compile(r"\b(?:xox[abeoprs](?:\.[a-z0-9]+)?|xapp|pat)-[A-Za-z0-9.-]{6,}")
MASK = "[redacted]"

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    text = TOKEN.sub(MASK, text)
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


def install(secrets: Iterable[str | None] = ()) -> None:
    """Redact these values (and anything shaped like a token) from every log record from now on."""
    global _installed
    with _lock:
        # Short values would mask ordinary words; real secrets are long.
        _secrets.update(s for s in secrets if s and len(s) >= 8)
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = make(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a malformed call: let logging report it as it always does
                return record
            record.msg, record.args = redact(message), None
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            return record

        logging.setLogRecordFactory(factory)
