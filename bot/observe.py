"""One structured log line per update: id, hashed user, handler, duration, outcome."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable, Coroutine, Iterable
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler

log = logging.getLogger("bot.updates")

current_handler: ContextVar[str] = ContextVar("current_handler", default="-")
outcome: ContextVar[str] = ContextVar("outcome", default="ok")
# Set by the error handler when an update failed only because the database was busy; the update
# processor then runs it again. `final_attempt` tells the error handler to apologise instead.
_retry: ContextVar[bool] = ContextVar("retry", default=False)
_final_attempt: ContextVar[bool] = ContextVar("final_attempt", default=False)
# Set by the error handler: why this attempt failed (a handler raised), or that the update's effects
# had already been committed before (a replay after a crash).
_failure: ContextVar[str | None] = ContextVar("failure", default=None)
_handled_before: ContextVar[bool] = ContextVar("handled_before", default=False)
_attempt: ContextVar[int] = ContextVar("attempt", default=1)


def user_hash(user_id: int, key: str) -> str:
    """A stable pseudonym for a user id: keyed with a secret, so logs cannot be reversed to ids."""
    return hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()[:12]


def _walk(handlers: Iterable[BaseHandler[Any, Any, Any]]) -> Iterable[BaseHandler[Any, Any, Any]]:
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield from _walk(handler.entry_points)
            for state in handler.states.values():
                yield from _walk(state)
            yield from _walk(handler.fallbacks)
        else:
            yield handler


def handler_name(callback: Callable[..., Any]) -> str:
    """How a callback is named in the update's log line: `module.function`."""
    module = getattr(callback, "__module__", "") or ""
    return f"{module.removeprefix('bot.handlers.')}.{getattr(callback, '__qualname__', '?')}"


def name_handler(callback: Callable[..., Any]) -> None:
    """Name the callback that really handles the update (a router picks it after PTB's match)."""
    current_handler.set(handler_name(callback))


def _named(callback: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Coroutine[Any, Any, Any]]:
    name = handler_name(callback)

    @functools.wraps(callback)
    async def named(*args: Any, **kwargs: Any) -> Any:
        current_handler.set(name)
        return await callback(*args, **kwargs)

    setattr(named, "_observed", True)  # noqa: B010 (a marker mypy cannot see on a wrapper)
    return named


def instrument(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Make every registered handler record its name for the update's log line."""
    for group in application.handlers.values():
        for handler in _walk(group):
            callback = getattr(handler, "callback", None)
            if callback is not None and not getattr(callback, "_observed", False):
                handler.callback = _named(callback)


def begin() -> None:
    """Reset the per-update fields (an update's processing runs in one task)."""
    current_handler.set("-")
    outcome.set("ok")
    _retry.set(False)
    _final_attempt.set(False)
    _failure.set(None)
    _handled_before.set(False)
    _attempt.set(1)


def begin_retry(*, last: bool) -> None:
    """Another attempt at the same update."""
    outcome.set("retried")
    _retry.set(False)
    _final_attempt.set(last)
    _failure.set(None)
    _attempt.set(_attempt.get() + 1)


def first_attempt() -> bool:
    """Whether this is the update's first attempt (the user is told of a failure only once)."""
    return _attempt.get() == 1


def failure() -> str | None:
    """Why this attempt failed, if a handler raised."""
    return _failure.get()


def mark_already_handled() -> None:
    """The update's effects were committed before (a replay): it is answered again, not re-applied."""
    _handled_before.set(True)
    outcome.set("replayed")


def already_handled() -> bool:
    """Whether the update turned out to be handled already."""
    return _handled_before.get()


def request_retry() -> bool:
    """Ask for the update to be run again; False when this was already the last attempt."""
    if _final_attempt.get():
        return False
    _retry.set(True)
    return True


def retry_requested() -> bool:
    """Whether the error handler asked for another attempt."""
    return _retry.get()


def mark_error(error: object = None) -> None:
    """The error handler saw an exception for this update."""
    outcome.set("error")
    _failure.set(repr(error)[:300] if error is not None else "error")


def log_update(update: object, seconds: float, key: str) -> None:
    """Write the update's line."""
    if not isinstance(update, Update):
        return
    user = update.effective_user
    log.info(
        "update=%s user=%s handler=%s duration_ms=%.1f outcome=%s",
        update.update_id,
        user_hash(user.id, key) if user is not None else "-",
        current_handler.get(),
        seconds * 1000,
        outcome.get(),
    )
