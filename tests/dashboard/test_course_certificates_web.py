"""The dashboard's attendance tick is the chat's: an attendee ticked on the web after the course was
marked held gets their certificate of attendance, once."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import BotApplication
from db.models import CourseCertificate, Registration
from fakeapi.simulator import Simulator
from tests import coursekit as kit
from tests.dashboard.conftest import Client, sign_in
from tests.factories import add_association, add_course, add_profile, add_staff

STAFF = 7301


async def test_a_late_tick_on_the_web_sends_the_certificate_once(
    app: BotApplication, sim: Simulator, client: Client
) -> None:
    association = await add_association(app)
    await add_staff(app, STAFF, association)
    cid = await add_course(app, title="بازاریابی دیجیتال", association_id=association)
    attendee = await kit.started(sim, 7302)
    await attendee.press_data(f"courses:join:{cid}")
    await add_profile(app, 7302, "نرگس حیدری")
    await (await kit.started(sim, STAFF)).press_data(f"cadm:finish:{cid}")  # nobody ticked yet
    async with app.bot_data.sessionmaker() as session:
        rid = await session.scalar(select(Registration.id).where(Registration.user_id == 7302))
    await sign_in(client, sim.user(STAFF))
    csrf = await client.csrf(f"/courses/{cid}")
    await client.post(f"/courses/{cid}/attendance/{rid}", {"csrf": csrf})
    await app.bot_data.delivery.drain_notices()
    documents = [m for m in attendee.messages if m.document is not None]
    assert len(documents) == 1 and "گواهی حضور شما" in documents[0].content
    # Untick and tick again: still one certificate.
    await client.post(f"/courses/{cid}/attendance/{rid}", {"csrf": csrf})
    await client.post(f"/courses/{cid}/attendance/{rid}", {"csrf": csrf})
    await app.bot_data.delivery.drain_notices()
    assert len([m for m in attendee.messages if m.document is not None]) == 1
    async with app.bot_data.sessionmaker() as session:
        assert len(list(await session.scalars(select(CourseCertificate)))) == 1
