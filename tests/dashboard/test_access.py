"""Who gets in, and who does not: each refused way in answers 401 or 403 and leaves every table of
the database exactly as it was. Init data is checked as Telegram's Mini Apps documentation says."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import update

from bot.context import BotApplication
from bot.services import web_access
from bot.services.web_access import SignInRefused
from db.models import WebTicket
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID, TOKEN
from tests.dashboard.conftest import PUBLIC, Client, init_data, login_link, sign_in, snapshot
from tests.factories import add_association, add_staff

STAFF_A, STAFF_B, STRANGER, APPLICANT = 7001, 7002, 7050, 7100


# ---------------------------------------------------------------------------------------- init data


def test_init_data_signed_with_the_bot_token_is_trusted() -> None:
    user = web_access.verify_init_data(init_data(STAFF_A), TOKEN)
    assert user.id == STAFF_A and user.first_name == "مریم"


def test_the_check_follows_telegrams_documented_example() -> None:
    """Telegram's algorithm, written out independently: secret = HMAC_SHA256(key="WebAppData",
    msg=token); hash = hex HMAC_SHA256(key=secret, msg=the sorted key=value lines)."""
    import hashlib
    import hmac

    fields = {"auth_date": str(int(time.time())), "user": '{"id":7001}', "query_id": "AAQ", "signature": "x"}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    signed = urlencode({**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})
    assert web_access.verify_init_data(signed, TOKEN).id == STAFF_A


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.replace("7001", "7002"),  # another user, same hash
        lambda data: init_data(STAFF_A, token="654321:ANOTHER-bots-token"),  # another bot's signature
        lambda data: urlencode([(k, v) for k, v in parse_qsl(data) if k != "hash"]),  # no hash
        lambda data: data + "&extra=1",  # a field added after signing
        lambda data: "not init data at all",
        lambda data: "",
    ],
)
def test_forged_init_data_is_refused(tamper: object) -> None:
    with pytest.raises(SignInRefused) as refused:
        web_access.verify_init_data(tamper(init_data(STAFF_A)), TOKEN)  # type: ignore[operator]
    assert refused.value.reason == "forged"


def test_init_data_older_than_an_hour_is_refused() -> None:
    web_access.verify_init_data(init_data(STAFF_A, age=3500), TOKEN)
    with pytest.raises(SignInRefused) as refused:
        web_access.verify_init_data(init_data(STAFF_A, age=3700), TOKEN)
    assert refused.value.reason == "expired"


# ---------------------------------------------------------------------------------------- over HTTP


async def _staff_of_two(app: BotApplication, sim: Simulator) -> tuple[int, int]:
    first = await add_association(app)
    second = await add_association(app, "انجمن پسته‌کاران رفسنجان")
    await add_staff(app, STAFF_A, first)
    await add_staff(app, STAFF_B, second)
    return first, second


async def _refused(app: BotApplication, client: Client, method: str, path: str, data: dict[str, str]) -> int:
    before = await snapshot(app)
    response = await client.request(method, path, data=data) if method == "POST" else await client.get(path)
    assert await snapshot(app) == before, f"{method} {path} changed the database"
    assert "پیشخوان" in client.last  # a Persian page, not a traceback
    return response.status


async def test_forged_expired_and_replayed_init_data_are_refused(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _staff_of_two(app, sim)
    assert (
        await _refused(
            app, client, "POST", "/auth/telegram", {"init_data": "user=%7B%22id%22%3A7001%7D&hash=00"}
        )
        == 401
    )
    assert (
        await _refused(app, client, "POST", "/auth/telegram", {"init_data": init_data(STAFF_A, age=7200)})
        == 401
    )
    good = init_data(STAFF_A)
    response = await client.post("/auth/telegram", {"init_data": good})
    assert response.status == 303 and client.cookie
    client.cookie = ""
    assert await _refused(app, client, "POST", "/auth/telegram", {"init_data": good}) == 401  # replayed
    assert not client.cookie


async def test_a_non_staff_telegram_user_is_refused(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _staff_of_two(app, sim)
    assert await _refused(app, client, "POST", "/auth/telegram", {"init_data": init_data(STRANGER)}) == 403
    assert not client.cookie
    # …and a stranger's forged button in the chat gets no link either.
    await sim.user(STRANGER).command("/dashboard")
    assert "/login/" not in sim.user(STRANGER).last_text


async def test_a_used_or_expired_login_link_is_refused(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _staff_of_two(app, sim)
    path = urlsplit(await login_link(sim.user(STAFF_A))).path
    assert (await client.post(path)).status == 303
    client.cookie = ""
    assert await _refused(app, client, "GET", path, {}) == 401
    assert await _refused(app, client, "POST", path, {}) == 401
    assert "پیش‌تر به کار رفته" in client.last

    late = urlsplit(await login_link(sim.user(STAFF_A))).path
    async with app.bot_data.sessionmaker() as session, session.begin():
        await session.execute(
            update(WebTicket)
            .where(WebTicket.digest == web_access.digest(late.rsplit("/", 1)[1]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await _refused(app, client, "POST", late, {}) == 401
    assert "تمام شده" in client.last
    assert await _refused(app, client, "POST", "/login/made-up-token", {}) == 401


async def test_a_link_of_someone_no_longer_staff_opens_nothing(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _staff_of_two(app, sim)
    path = urlsplit(await login_link(sim.user(STAFF_A))).path
    await sim.user(ADMIN_ID).command("/staff", f"remove {STAFF_A}")
    assert await _refused(app, client, "POST", path, {}) == 403


async def test_staff_of_one_association_never_reach_anothers_application(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    from tests.dashboard.conftest import apply_with_documents

    _first, second = await _staff_of_two(app, sim)
    await apply_with_documents(sim.user(APPLICANT), second)
    await sign_in(client, sim.user(STAFF_A))
    csrf = await client.csrf()
    other = "/applications/1"
    assert await _refused(app, client, "GET", other, {}) == 403
    assert await _refused(app, client, "GET", other + "/documents/1", {}) == 403
    for action in ("approve", "reject", "more"):
        status = await _refused(
            app, client, "POST", f"{other}/{action}", {"csrf": csrf, "reason": "دلیل کافی", "fields": "city"}
        )
        assert status == 403
    assert await _refused(app, client, "GET", f"/members/export/{second}/members.csv", {}) == 403
    await client.get("/applications?status=all")
    assert "/applications/1" not in client.last
    await client.get(f"/applications?status=all&association={second}")
    assert "/applications/1" not in client.last


async def test_a_post_without_the_csrf_token_is_refused(
    app: BotApplication, sim: Simulator, client: Client, api: FakeTelegram
) -> None:
    from tests.dashboard.conftest import apply_with_documents

    first, _second = await _staff_of_two(app, sim)
    await apply_with_documents(sim.user(APPLICANT), first)
    await sign_in(client, sim.user(STAFF_A))
    assert await _refused(app, client, "POST", "/applications/1/approve", {}) == 403
    assert await _refused(app, client, "POST", "/applications/1/approve", {"csrf": "guessed"}) == 403
    assert await _refused(app, client, "POST", "/logout", {}) == 403


async def test_pages_without_a_session_are_refused(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _staff_of_two(app, sim)
    for path in ("/", "/applications", "/applications/1", "/members", "/courses", "/broadcasts", "/council"):
        assert await _refused(app, client, "GET", path, {}) == 401
    client.cookie = "made-up-session"
    assert await _refused(app, client, "GET", "/", {}) == 401


async def test_sessions_are_cookies_the_page_script_cannot_read(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    await _staff_of_two(app, sim)
    path = urlsplit(await login_link(sim.user(STAFF_A))).path
    response = await client.post(path)
    cookie = response.cookies["tashakkol_dashboard"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["secure"]  # PUBLIC is https
    assert PUBLIC.startswith("https://")
    page = await client.get("/")
    assert page.status == 200
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csrf = await client.csrf()
    assert (await client.post("/logout", {"csrf": csrf})).status == 200
    assert (await client.get("/")).status == 401  # the cookie no longer opens anything
