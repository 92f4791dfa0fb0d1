"""`python -m bot check`: settings, catalog and database in a few lines."""

from __future__ import annotations

from bot.config import Settings
from bot.i18n import CatalogMissing, load_translations
from bot.services.users import count_users
from db.migrate import current_revision, head_revision
from db.session import create_engine, create_sessionmaker


async def check(settings: Settings) -> tuple[bool, list[str]]:
    """Return (healthy, report lines)."""
    ok = True
    lines = [f"settings: ok (api {settings.telegram_api_base_url}, timezone {settings.timezone})"]
    lines.append(f"admins: {len(settings.admin_ids)}")
    try:
        load_translations()
        lines.append("catalog: fa loaded")
    except CatalogMissing as exc:
        ok = False
        lines.append(f"catalog: {exc}")
    engine = create_engine(settings.database_url)
    try:
        current, head = await current_revision(engine), head_revision()
        async with create_sessionmaker(engine)() as session:
            users = await count_users(session) if current else 0
        state = (
            "up to date" if current == head else f"at {current}, head is {head}: run `python -m bot migrate`"
        )
        lines.append(f"database: reachable, {state}, {users} users")
    except Exception as exc:  # report, don't crash: this is the diagnostic command
        ok = False
        lines.append(f"database: {type(exc).__name__}: {exc}")
    finally:
        await engine.dispose()
    return ok, lines
