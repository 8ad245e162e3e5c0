"""The dashboard, where ``/ui/`` opens: opt-outs and opt-ins a day over the last 30 or
90 days as a bar chart drawn on the server (SVG), each by method and by language;
replies flagged and waiting for review; refused sends by reason; unread texts; and
the home page's cards (look-up, "May I send?", sends in doubt, the ledger's check,
the latest messages, the senders).

Every number comes from the ledger (:meth:`Engine.activity`) or the same counts the
API gives (open flags, sends in doubt), so the two never disagree.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from optline.api.deps import CheckedRoute
from optline.domain.activity import SPANS
from optline.web.chart import bar_chart
from optline.web.inbox import REFUSALS
from optline.web.pages import PREFIX, _page
from optline.web.session import _signed_in
from optline.web.upkeep import _minutes

router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=CheckedRoute)


@router.get("/")
async def dashboard(request: Request) -> Response:
    engine, account = await _signed_in(request)
    asked = request.query_params.get("days", "")
    days = int(asked) if asked in {str(n) for n in SPANS} else SPANS[0]
    activity = await run_in_threadpool(engine.activity, account.id, days)
    flagged = await run_in_threadpool(engine.open_flags, account.id)
    unread, _ = await run_in_threadpool(engine.unread, account.id)
    senders = await run_in_threadpool(engine.senders, account.id)
    recent = await run_in_threadpool(engine.recent_messages, account.id, 20)
    unsettled = await run_in_threadpool(engine.unsettled_counts, account.id)
    chart = bar_chart(
        activity.days,
        {"opt-outs": activity.opt_outs.by_day, "opt-ins": activity.opt_ins.by_day},
    )
    return _page(
        request,
        "dashboard.html",
        account=account,
        days=days,
        spans=SPANS,
        activity=activity,
        chart=chart,
        flagged=flagged,
        unread=unread,
        refusals=REFUSALS,
        senders=senders,
        recent=recent,
        unsettled=unsettled,
        queued_minutes=_minutes(),
    )
