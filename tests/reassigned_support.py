"""A local fake of the reassigned-numbers check (optline.domain.reassigned): numbers
with the date each was permanently disconnected, and every question it was asked.
Nothing here calls a real service."""

from __future__ import annotations

from datetime import date


class FakeReassigned:
    """Answers as the FCC Reassigned Numbers Database does: yes, no, or no data."""

    def __init__(self, disconnected: dict[str, date] | None = None, no_data: bool = False) -> None:
        self.disconnected = dict(disconnected or {})
        self.no_data = no_data
        self.asked: list[tuple[str, date]] = []

    def reassigned_since(self, phone: str, since: date) -> bool | None:
        self.asked.append((phone, since))
        if self.no_data:
            return None
        when = self.disconnected.get(phone)
        return when is not None and when >= since


def make_fake() -> FakeReassigned:
    """The factory ``OPTLINE_REASSIGNED_NUMBERS=reassigned_support:make_fake`` names."""
    return FakeReassigned({"+14155552671": date(2026, 1, 1)})
