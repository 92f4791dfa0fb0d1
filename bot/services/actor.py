"""Who is acting, as the services need to know it: the user, their name, their staff scope, the zone."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.staff import StaffScope


@dataclass(frozen=True)
class Actor:
    """The person an action is done for (a form's user, a staff member deciding)."""

    user_id: int
    name: str = ""
    scope: StaffScope = field(default_factory=lambda: StaffScope(user_id=0))
    tz: str = "Asia/Tehran"
    admin_ids: frozenset[int] = frozenset()  # ADMIN_IDS: told about what the admins must see
