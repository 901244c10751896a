"""Secrets never reach a log: a filter on every root handler blanks them out.

Libraries write tokens where we cannot stop them: python-telegram-bot logs the Bot API
URL (``…/bot<token>``) at debug and puts the token in ``InvalidToken``'s message. The
filter rewrites each record before any handler formats it: the message with its
arguments, the exception text and the stack, so whatever level or library logged it,
the token is replaced by ``[REDACTED]``.
"""

from __future__ import annotations

import logging
import sys
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any

from bot.config import Settings

MARKER = "[REDACTED]"
#: Shorter values are not redacted: they would blank out ordinary words.
MIN_SECRET = 8


def secrets_of(settings: Settings) -> list[str]:
    """The configured secrets: both platforms' tokens and the webhook's secret token."""
    found = [settings.discord.token, settings.telegram.token,
             settings.telegram.webhook.secret_token]
    return [s.get_secret_value() for s in found if s is not None]


def _variants(secret: str) -> set[str]:
    """The secret as written, URL-encoded, and a Telegram token's secret half alone."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}
    bot_id, colon, key = secret.partition(":")
    if colon and bot_id.isdigit():
        forms.add(key)
    return {f for f in forms if len(f) >= MIN_SECRET}


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms = set().union(*(_variants(s) for s in secrets if s))
        self._forms = sorted(forms, key=len, reverse=True)  # longest first

    @property
    def redact_anything(self) -> bool:
        return bool(self._forms)

    def redact(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MARKER)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # formatters print exc_text as it is; without exc_info no handler can
            # render the exception again from the live object
            record.exc_text, record.exc_info = self.redact(record.exc_text), None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install(secrets: Iterable[str]) -> RedactSecrets:
    """Put the filter on every handler of the root logger (call after configuring it),
    and send uncaught exceptions (of the main thread and of other threads) through the
    log too: Python prints those to stderr itself, token and all."""
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    log = logging.getLogger("tribebot")

    def uncaught(kind: type[BaseException], error: BaseException, trace: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        log.critical("uncaught error", exc_info=(kind, error, trace))

    def uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            log.error("uncaught error in thread %s", args.thread.name if args.thread else "?",
                      exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    if redactor.redact_anything:  # without a secret, Python's own printing is fine
        sys.excepthook = uncaught
        threading.excepthook = uncaught_in_thread
    return redactor
