"""Bounded exponential backoff for outbound sends (tenacity).

Adapters raise :class:`ProviderUnavailable` for failures worth another try (timeouts,
connection errors, 5xx); everything else, including :class:`ProviderOptedOut` and any
4xx, goes straight to the caller.

Every attempt is a hand-over of its own: consent may change while a send waits to be
retried, so the caller's ``before_retry`` check runs after each wait, right before the
next attempt, and stops the send by raising :class:`SendWithdrawn`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Self, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from optline.providers.base import BeforeRetry, ProviderError, RetryPolicy

T = TypeVar("T")


class ProviderUnavailable(ProviderError):
    """A transient failure (timeout, connection error, 5xx); raised once retries run out."""


def with_retries(
    attempt: Callable[[], T], policy: RetryPolicy, before_retry: BeforeRetry | None = None
) -> T:
    """Call ``attempt`` up to ``policy.attempts`` times while it raises ProviderUnavailable,
    calling ``before_retry`` before every attempt but the first."""
    attempts = 0

    def checked_attempt() -> T:
        nonlocal attempts
        attempts += 1
        if attempts > 1 and before_retry is not None:
            before_retry()  # SendWithdrawn is not retried: it ends the send here
        return attempt()

    retrying = Retrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        wait=wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait),
        retry=retry_if_exception_type(ProviderUnavailable),
        reraise=True,
    )
    try:
        return retrying(checked_attempt)
    except ProviderUnavailable as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        raise ProviderUnavailable(
            f"{exc} (gave up after {tries} attempts)", status=exc.status, code=exc.code
        ) from exc


class RetryingAdapter(ABC):
    """An outbound adapter: one attempt per :meth:`_attempt`, retried per ``retry``."""

    retry: RetryPolicy

    def send(self, from_: str, to: str, body: str, before_retry: BeforeRetry | None = None) -> str:
        """Send one text; return the provider's message id. Raises ProviderOptedOut when
        the provider reports the recipient opted out (never retried), and SendWithdrawn
        when ``before_retry`` stops a retry."""
        return with_retries(lambda: self._attempt(from_, to, body), self.retry, before_retry)

    @abstractmethod
    def _attempt(self, from_: str, to: str, body: str) -> str: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
