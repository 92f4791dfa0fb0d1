"""The dialogue council's weekly digest for staff: a job that queues last week's digest once, through
the outbox (a quiet week, with nothing new and nothing open, sends nothing)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.context import BotApplication, BotContext
from bot.formatting import fa_digits, jalali_date
from bot.i18n import Gettext
from bot.kit.feature import Feature
from bot.kit.markup import button, keyboard, to_json
from bot.kit.reply import esc
from bot.services import council_digest as service
from bot.services.council import CouncilIssue
from bot.text import truncate
from bot.views import council as view

log = logging.getLogger(__name__)

DIGEST_JOB = "council-digest"
DIGEST_INTERVAL = timedelta(hours=1)


def _item(_: Gettext, issue: CouncilIssue, supporters: int) -> str:
    """One issue in the digest: number, topic, support, status and the start of its text."""
    return "• " + view.line(_, issue, supporters) + ": " + esc(truncate(issue.description or "", 80))


def render_digest(_: Gettext, digest: service.Digest, tz: str) -> str:
    """The weekly digest for staff."""
    start, end = service.week_bounds(digest.year, digest.week, tz)
    lines = [
        _("<b>Dialogue council — weekly digest</b>"),
        _("From {start} to {end}").format(
            start=jalali_date(start, tz), end=jalali_date(end - timedelta(seconds=1), tz)
        ),
        "",
    ]
    if digest.new_total:
        lines.append(_("<b>New issues this week: {count}</b>").format(count=fa_digits(digest.new_total)))
        lines += [_item(_, issue, n) for issue, n in digest.new]
        if digest.new_total > len(digest.new):
            lines.append(_("…and {count} more").format(count=fa_digits(digest.new_total - len(digest.new))))
    else:
        lines.append(_("No new issues were raised this week."))
    lines += [
        "",
        _("<b>Most supported open issues</b> (of {count} open)").format(count=fa_digits(digest.open_total)),
    ]
    lines += [_item(_, issue, n) for issue, n in digest.top] or [_("No open issues.")]
    return "\n".join(lines)


async def queue_digest(context: BotContext) -> None:
    """The repeating job: queue last week's digest once (the dedupe key makes repeats no-ops)."""
    _ = context.gettext
    tz = context.settings.timezone
    buttons = to_json(keyboard([[button(_("Council issues"), view.ISSUES(0))]]))
    async with context.transaction() as session:
        created = await service.queue_digest(
            session,
            lambda digest: render_digest(_, digest, tz),
            context.settings.admin_ids,
            tz,
            buttons=buttons,
        )
    if created is not None:
        log.info("Queued the council digest %s", created.dedupe_key)


def schedule(application: BotApplication) -> None:
    """Check every hour whether last week's digest is queued (it reads the database: restarts lose nothing)."""
    if application.job_queue is None:
        return
    application.job_queue.run_repeating(
        queue_digest, interval=DIGEST_INTERVAL, first=timedelta(seconds=30), name=DIGEST_JOB
    )


FEATURE = Feature(name="council_digest", schedule=schedule)
