"""Logging for the bot: one format, and no secret ever printed, whatever the level."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from assistant.redaction import redact_secrets

REDACTED = "[redacted]"


class SecretRedactingFilter(logging.Filter):
    """Replaces configured secret values, and anything shaped like a credential, in every record
    that passes through a handler.

    Libraries log at DEBUG what they send (slack_sdk headers, litellm request params); filtering
    at the handler catches them all, not just the bot's own lines.
    """

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        # Also anything shaped like a credential that the bot was not configured with (a token
        # a user pasted, a key in a library's debug line).
        return redact_secrets(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretRedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx"):
        library_logger = logging.getLogger(name)
        # litellm attaches its own handlers, which would print every line twice and unredacted;
        # everything goes through the root handler's redaction instead.
        library_logger.handlers.clear()
        library_logger.propagate = True
        # Chatty at INFO; their warnings and errors still reach the bot's log.
        library_logger.setLevel(max(logging.WARNING, root.level))
