"""Errors that callers can act on. Each maps to "bad input" (CLI exit 2, HTTP 4xx)."""

from __future__ import annotations


class OptlineError(Exception):
    """Base class: a request that cannot be carried out; nothing was written."""

    code = "bad_request"


class NotFound(OptlineError):
    code = "not_found"


class UnknownAccount(NotFound):
    code = "unknown_account"


class UnknownSender(NotFound):
    code = "unknown_sender"


class UnknownList(NotFound):
    code = "unknown_list"


class UnknownPurpose(NotFound):
    code = "unknown_purpose"


class UnknownMessage(NotFound):
    code = "unknown_message"


class UnknownContact(NotFound):
    code = "unknown_contact"


class UnknownUser(NotFound):
    code = "unknown_user"


class BadInput(OptlineError):
    code = "bad_input"


class TextTooLong(BadInput):
    """An inbound text longer than any carrier delivers
    (:data:`optline.domain.inputs.MAX_INBOUND_CHARS`); nothing of it is kept."""

    code = "text_too_long"


class BadRows(BadInput):
    """Rows of a file (a contacts import) that cannot be applied, as ``(line, what is
    wrong)`` in the file's order; nothing of the file was written."""

    code = "bad_rows"

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        count = len(problems)
        super().__init__(f"{count} bad row{'' if count == 1 else 's'}, nothing imported")
        self.problems = sorted(problems)

    def lines(self) -> list[str]:
        return [f"line {line}: {problem}" for line, problem in self.problems]


class MissingField(BadInput):
    """A setting the request leaves empty that the account cannot do without."""

    code = "missing_field"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyExists(OptlineError):
    code = "conflict"


class UnknownFlag(NotFound):
    code = "unknown_flag"


class AlreadyResolved(AlreadyExists):
    """A flagged reply that a person or a later opt-out has already resolved."""

    code = "already_resolved"


class IdempotencyKeyReused(AlreadyExists):
    """An idempotency key given again with a request other than its first one."""

    code = "idempotency_key_reused"


class ProviderIdConflict(AlreadyExists):
    """A provider's message id that already names another message of the account."""

    code = "provider_id_conflict"


class NumberHasHistory(AlreadyExists):
    """A contact's move onto a number that has consent history of its own, not
    confirmed (``replace_history``): the move would overwrite it."""

    code = "number_has_history"


class AlreadySettled(AlreadyExists):
    """A message that is not a send left unsettled (``queued`` or ``sending``): its
    outcome is already on record."""

    code = "already_settled"


class AlreadyRedacted(AlreadyExists):
    """A message whose body was redacted already."""

    code = "already_redacted"


class NotAllowed(OptlineError):
    """The policy refuses the change (e.g. a manual re-opt-in under ``never``)."""

    code = "refused_by_policy"


class ConfirmationRequired(OptlineError):
    """A change that would also change contacts' consent (``changes`` of them) and
    was not confirmed; nothing was written."""

    code = "confirmation_required"

    def __init__(self, message: str, changes: int) -> None:
        super().__init__(message)
        self.changes = changes


class CredentialsUnavailable(OptlineError):
    """A stored secret is sealed and no configured key opens it: a set-up problem of
    the service (``OPTLINE_SECRET_KEY``), not of the request."""

    code = "credentials_unavailable"
