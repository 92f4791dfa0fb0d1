"""How a broadcast reads in Persian, in the chat's reports and on the dashboard: its kind, its
status, the time left."""

from __future__ import annotations

from bot.formatting import fa_digits
from bot.i18n import N_, Gettext
from bot.services.broadcasts import CANCELLED, DONE, PAUSED, PENDING, RUNNING

STATUS = {
    PENDING: N_("waiting"),
    RUNNING: N_("sending"),
    PAUSED: N_("paused"),
    CANCELLED: N_("cancelled"),
    DONE: N_("finished"),
}
KIND = {
    "news": N_("News item"),
    "announcement": N_("Announcement"),
    "reminder": N_("Course reminder"),
    "council": N_("Dialogue council"),
}


def time_left(_: Gettext, seconds: int) -> str:
    """An estimate in plain words: «حدود ۲ ثانیه» under a minute, else «حدود ۵ دقیقه»."""
    if seconds < 60:
        return _("about {n} seconds").format(n=fa_digits(max(1, seconds)))
    return _("about {n} minutes").format(n=fa_digits(round(seconds / 60)))
