"""A scripted conversation on a fresh SQLite file: ``make run`` / ``python -m optline.demo``.

Each step prints the text in, the reply out and the contact's consent afterwards, then
what a send would do, and finally the ledger check.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from optline.engine import Engine

ACCOUNT = "Bright Smile Dental"
LONG_CODE = "+14155550100"
TOLL_FREE = "+18005550199"
PATIENT = "+14155552671"
NEIGHBOUR = "+12025550143"

CONVERSATION: list[tuple[str, str]] = [
    (LONG_CODE, "Hi, is my cleaning still on Tuesday?"),
    (LONG_CODE, "HELP"),
    (LONG_CODE, "Stop."),
    (LONG_CODE, "STOP"),  # a repeat: recorded, not confirmed twice
    (LONG_CODE, "ok thanks"),
    (TOLL_FREE, "YES"),  # toll-free numbers opt back in only with START or UNSTOP
    (TOLL_FREE, "UNSTOP"),
    (LONG_CODE, "MARKETING OFF"),
]


def run(database_url: str, console: Console) -> bool:
    with Engine.open(database_url) as engine:
        engine.create_account(
            ACCOUNT,
            "default",
            {"brand": "Bright Smile Dental", "support_contact": "(415) 555-0100"},
        )
        engine.add_sender(ACCOUNT, LONG_CODE, "long_code")
        engine.add_sender(ACCOUNT, TOLL_FREE, "toll_free")
        engine.create_list(ACCOUNT, "marketing", "MARKETING OFF")
        engine.add_to_list(ACCOUNT, "marketing", [PATIENT, NEIGHBOUR])
        # Marketing needs consent on record (the default profile's no_consent).
        engine.opt_in(ACCOUNT, NEIGHBOUR, "new-patient form, signed 2026-03-02", method="web_form")

        table = Table(title=f"Conversation with {PATIENT} (profile: default)", show_lines=True)
        for column in ("to", "text in", "intent", "reply out", "consent after"):
            table.add_column(column)
        for n, (sender, text) in enumerate(CONVERSATION, start=1):
            result = engine.receive(ACCOUNT, PATIENT, sender, text, provider_id=f"demo-{n}")
            table.add_row(sender, text, result.intent, result.reply or "-", result.status)
        console.print(table)

        sends = Table(title="Outbound decisions", show_lines=True)
        for column in ("to", "list", "campaign", "body out", "decision"):
            sends.add_column(column)
        offer = "20% off whitening this week!"
        attempts = [
            (PATIENT, None, False, "Your cleaning is confirmed for Tuesday 10am."),
            (PATIENT, "marketing", True, f"{offer} Reply STOP to opt out."),
            (NEIGHBOUR, "marketing", True, offer),
            (NEIGHBOUR, "marketing", True, f"{offer} Reply STOP to opt out."),
        ]
        for to, list_name, campaign, body in attempts:
            decision = engine.send(ACCOUNT, LONG_CODE, to, body, list_name, campaign)
            verdict = "sent" if decision.allowed else f"refused: {decision.reason}"
            sends.add_row(to, list_name or "-", str(campaign), decision.body, verdict)
        console.print(sends)

        events, _ = engine.history(ACCOUNT, PATIENT)
        console.print(f"Ledger: {len(events)} events for {PATIENT}:")
        for event in events:
            console.print(f"  #{event.seq} {event.type} {event.hash[:12]}…")
        ok = all(result.ok for result in engine.verify())
        console.print(f"Ledger verify: {'intact' if ok else 'BROKEN'}")
        return ok


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="optline-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        console.print(f"[bold]optline demo[/bold] on a fresh database: {url}\n")
        ok = run(url, console)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
