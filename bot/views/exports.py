"""An association's members and applications as spreadsheet files (CSV, UTF-8 with a BOM), the same
for /export in the chat and the dashboard's export."""

from __future__ import annotations

from bot.formatting import jalali_date
from bot.i18n import Gettext
from bot.services import application_exports as exports
from bot.services.applications import FIELDS
from bot.views import membership as view


def member_sheet(_: Gettext, found: exports.Export) -> bytes:
    """The members, oldest first."""
    return exports.to_csv(
        [
            _("Member number"),
            _("Founding member"),
            _("Full name"),
            _("National ID"),
            _("Mobile"),
            _("City"),
            _("Start date"),
            _("User ID"),
        ],
        [
            [
                row.member.member_number or "",
                _("yes") if row.member.founding else _("no"),
                row.application.full_name if row.application else "",
                row.application.national_id if row.application else "",
                row.application.mobile if row.application else "",
                row.application.city if row.application else "",
                jalali_date(row.member.started_at),
                row.member.user_id,
            ]
            for row in found.members
        ],
    )


def application_sheet(_: Gettext, found: exports.Export) -> bytes:
    """Every application but unsent drafts, with its status (founding applications said so)."""
    return exports.to_csv(
        [_("Tracking code"), _("Status")]
        + [_(view.LABELS[f]) for f in FIELDS if f != "documents"]
        + [_("Sent"), _("Decided"), _("Reason")],
        [
            [
                a.tracking_code,
                view.status_text(_, a),
                _(view.TYPES.get(a.applicant_type or "", a.applicant_type or "")),
                a.full_name,
                a.national_id,
                a.mobile,
                a.business_name,
                a.activity,
                a.city,
                a.experience_years,
                _(view.EDUCATION.get(a.education or "", a.education or "")),
                a.permit_number,
                jalali_date(a.submitted_at) if a.submitted_at else "",
                jalali_date(a.decided_at) if a.decided_at else "",
                a.last_reason,
            ]
            for a in found.applications
        ],
    )
