"""Tests of the fake Bot API itself (payments included), driven by a tiny real PTB Application (not the
project's bot)."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LabeledPrice,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from fakeapi import (
    BOT_ID,
    FakeBotAPIServer,
    FakeRequest,
    FakeTelegram,
    HttpSimUser,
    Simulator,
    group_chat_dict,
    make_update_dict,
)
from fakeapi.payments import PRE_CHECKOUT_TIMEOUT

TOKEN = "123:ABC"
REFUSAL = "ظرفیت این دوره پر شده است."
AnyApp = Application[Any, Any, Any, Any, Any, Any]
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("بله", callback_data="answer:yes"),
            InlineKeyboardButton("خیر", callback_data="answer:no"),
        ]
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the /start payload with a yes/no keyboard."""
    assert update.effective_message is not None
    payload = " ".join(context.args or [])
    await update.effective_message.reply_text(f"سلام {payload}".strip(), reply_markup=KEYBOARD)


async def fail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    raise RuntimeError("boom")


async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A non-blocking handler: the simulator must still wait for its reply."""
    await asyncio.sleep(0.05)
    assert update.effective_message is not None
    await update.effective_message.reply_text("دیر ولی رسید")


async def choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and replace the keyboard message by the choice."""
    query = update.callback_query
    assert query is not None
    await query.answer("ثبت شد")
    await query.edit_message_text(f"انتخاب: {query.data}")


async def buy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An invoice for 50 Stars for the course in the command's argument."""
    assert update.effective_chat is not None
    await context.bot.send_invoice(
        update.effective_chat.id,
        title="دورهٔ بازاریابی",
        description="ثبت‌نام در دورهٔ بازاریابی دیجیتال",
        payload=f"course:{' '.join(context.args or ['7'])}",
        provider_token="",
        currency="XTR",
        prices=[LabeledPrice("شهریه", 50)],
    )


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Course 7 has seats; every other course is full."""
    query = update.pre_checkout_query
    assert query is not None
    if query.invoice_payload == "course:7":
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=REFUSAL)


async def paid(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.successful_payment is not None
    payment = message.successful_payment
    await message.reply_text(f"پرداخت شد: {payment.total_amount} {payment.telegram_payment_charge_id}")


def build_app(request: FakeRequest, updates_request: FakeRequest) -> AnyApp:
    app_builder = ApplicationBuilder().token(TOKEN).request(request).get_updates_request(updates_request)
    app = app_builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("fail", fail))
    app.add_handler(CommandHandler("slow", slow, block=False))
    app.add_handler(CallbackQueryHandler(choice))
    return add_payment_handlers(app)


def add_payment_handlers(app: AnyApp) -> AnyApp:
    app.add_handler(CommandHandler("buy", buy))
    app.add_handler(PreCheckoutQueryHandler(confirm))
    app.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, paid))
    return app


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def tiny_app(fake: FakeTelegram) -> AsyncIterator[AnyApp]:
    app = build_app(FakeRequest(fake), FakeRequest(fake))
    await app.initialize()
    yield app
    await app.shutdown()


@pytest.fixture
def tiny_sim(tiny_app: AnyApp, fake: FakeTelegram) -> Simulator:
    return Simulator(tiny_app, fake)


# ---------------------------------------------------------------------- messages and buttons


async def test_initialize_calls_get_me(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    assert tiny_app.bot.id == BOT_ID
    assert tiny_app.bot.username == "tashakkol_test_bot"
    assert fake.calls_to("getMe")
    assert fake.tokens_seen == {TOKEN}


async def test_send_message_is_recorded_and_stored(tiny_sim: Simulator, fake: FakeTelegram) -> None:
    ali = tiny_sim.user(1001)
    replies = await ali.command("start", "apply_3")

    [call] = fake.calls_to("sendMessage", chat_id=1001)
    assert call.params["text"] == "سلام apply_3"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "answer:yes"
    assert [m.text for m in replies] == ["سلام apply_3"]
    assert ali.last_text == "سلام apply_3"
    assert ali.buttons() == ["بله", "خیر"]
    stored = fake.last_message(1001)
    assert stored is not None
    assert stored.message_id == 2  # the user's /start was message 1 in the same chat
    assert stored.to_api()["from"]["id"] == BOT_ID


async def test_press_by_label_answers_and_edits(tiny_sim: Simulator, fake: FakeTelegram) -> None:
    ali = tiny_sim.user(1001)
    await ali.command("start")
    mark = ali.mark()

    await ali.press("بله")

    assert ali.texts_since(mark) == ["انتخاب: answer:yes"]
    assert [call.params["text"] for call in ali.answers] == ["ثبت شد"]
    message = ali.messages[-1]
    assert len(message.edits) == 1
    assert message.buttons == []  # an edit without reply_markup drops the keyboard, as on Telegram
    assert fake.unanswered_callback_queries() == []


async def test_press_unknown_label_lists_the_available_ones(tiny_sim: Simulator) -> None:
    ali = tiny_sim.user(1001)
    await ali.command("start")
    with pytest.raises(AssertionError, match="بله"):
        await ali.press("شاید")


async def test_forged_press_data_reaches_the_handler(tiny_sim: Simulator) -> None:
    ali = tiny_sim.user(1001)
    await ali.command("start")
    await ali.press_data("review:approve:42")
    assert ali.last_text == "انتخاب: review:approve:42"


async def test_group_member_commands_and_presses(tiny_sim: Simulator, fake: FakeTelegram) -> None:
    staff = tiny_sim.user(9, first_name="کارشناس", chat=group_chat_dict(-1001500))
    await staff.command("start@tashakkol_test_bot", "review")
    assert staff.last_text == "سلام review"
    await staff.press("خیر")
    assert staff.last_text == "انتخاب: answer:no"
    assert fake.sent_to(9) == []


async def test_reply_keyboard_is_tracked(tiny_app: AnyApp, tiny_sim: Simulator) -> None:
    ali = tiny_sim.user(1001)
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("ارسال شماره", request_contact=True)], ["انصراف"]])
    await tiny_app.bot.send_message(1001, "شماره؟", reply_markup=keyboard)
    assert ali.reply_keyboard == ["ارسال شماره", "انصراف"]
    assert ali.buttons() == []  # reply keyboards are not inline buttons
    await tiny_app.bot.send_message(1001, "ممنون", reply_markup=ReplyKeyboardRemove())
    assert ali.reply_keyboard is None


async def test_handler_errors_are_captured(tiny_sim: Simulator) -> None:
    await tiny_sim.user(1001).command("fail")
    assert [type(error) for _, error in tiny_sim.errors] == [RuntimeError]
    with pytest.raises(AssertionError, match="boom"):
        tiny_sim.assert_no_errors()


async def test_non_blocking_handlers_are_awaited(tiny_sim: Simulator) -> None:
    replies = await tiny_sim.user(1001).command("slow")
    assert [m.text for m in replies] == ["دیر ولی رسید"]


async def test_enqueue_then_drain_processes_everything(tiny_sim: Simulator) -> None:
    users = [tiny_sim.user(2000 + n) for n in range(5)]
    for user in users:
        tiny_sim.enqueue_command(user, "start", str(user.id))
    tiny_sim.enqueue_command(users[0], "slow")
    await tiny_sim.drain()
    assert [user.last_text for user in users[1:]] == [f"سلام {user.id}" for user in users[1:]]
    assert users[0].texts_since(0) == [f"سلام {users[0].id}", "دیر ولی رسید"]


async def test_enqueue_goes_through_the_update_queue_when_running(
    tiny_app: AnyApp, tiny_sim: Simulator
) -> None:
    await tiny_app.start()
    try:
        ali = tiny_sim.user(1001)
        tiny_sim.enqueue_command(ali, "start", "1")
        tiny_sim.enqueue_command(ali, "start", "2")
        await tiny_sim.drain()
        assert ali.texts_since(0) == ["سلام 1", "سلام 2"]
    finally:
        await tiny_app.stop()


async def test_user_content_updates_are_valid(
    tiny_sim: Simulator, tiny_app: AnyApp, fake: FakeTelegram
) -> None:
    ali = tiny_sim.user(1001, first_name="علی", username="ali")
    for update in (
        ali.contact_update("+989121234567"),
        ali.contact_update("09121234567", own=False),
        ali.photo_update(),
        ali.document_update(),
        ali.sticker_update(),
        ali.location_update(),
        ali.edit_update("ویرایش"),
    ):
        parsed = Update.de_json(update, tiny_app.bot)
        assert parsed.effective_user is not None
        assert parsed.effective_user.id == 1001
    contact = ali.contact_update("+989121234567", own=False)["message"]["contact"]
    assert contact["user_id"] != ali.id
    document = ali.document_update()["message"]["document"]
    file = await tiny_app.bot.get_file(document["file_id"])
    assert (await file.download_as_bytearray()).startswith(b"%PDF")


# ---------------------------------------------------------------------- failures


async def test_blocked_chat_raises_forbidden(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    fake.block_chat(1001)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await tiny_app.bot.send_message(1001, "سلام")
    assert fake.calls_to("sendMessage", chat_id=1001, ok=False)[0].status == 403
    assert fake.sent_to(1001) == []


async def test_rate_limit_once_raises_retry_after(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    fake.rate_limit_once(7)
    with pytest.raises(RetryAfter) as caught:
        await tiny_app.bot.send_message(1001, "اول")
    assert caught.value.retry_after in (7, dtm.timedelta(seconds=7))
    await tiny_app.bot.send_message(1001, "دوم")
    assert fake.too_many_requests == 1
    assert [m.text for m in fake.sent_to(1001)] == ["دوم"]


async def test_strict_limits_answer_429(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    fake.enforce_limits(global_per_s=3, per_chat_per_s=1)
    await tiny_app.bot.send_message(1, "a")
    with pytest.raises(RetryAfter):
        await tiny_app.bot.send_message(1, "b")  # same chat within a second
    await tiny_app.bot.send_message(2, "c")
    await tiny_app.bot.send_message(3, "d")
    with pytest.raises(RetryAfter):
        await tiny_app.bot.send_message(4, "e")  # fourth message in the global window
    assert fake.too_many_requests == 2


async def test_migrated_and_failed_chats(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    fake.migrate_chat(-100, -1001234567890)
    with pytest.raises(ChatMigrated) as caught:
        await tiny_app.bot.send_message(-100, "x")
    assert caught.value.new_chat_id == -1001234567890
    fake.fail_chat(55, 400, "Bad Request: chat not found")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await tiny_app.bot.send_message(55, "x")
    fake.fail_next(method="sendMessage")
    with pytest.raises(NetworkError):
        await tiny_app.bot.send_message(56, "x")
    fake.clear_failures()
    await tiny_app.bot.send_message(55, "x")


async def test_wrong_token_is_refused() -> None:
    fake = FakeTelegram(token="999:other")
    app = build_app(FakeRequest(fake), FakeRequest(fake))
    with pytest.raises(InvalidToken):
        await app.initialize()


async def test_slow_answer_times_out_but_is_delivered(fake: FakeTelegram) -> None:
    app = build_app(FakeRequest(fake, read_timeout=0.05), FakeRequest(fake))
    await app.initialize()
    fake.latency = 0.15
    try:
        with pytest.raises(TimedOut):
            await app.bot.send_message(1001, "رسید؟")
        await fake.wait_until(lambda: bool(fake.sent_to(1001)), timeout=1)
    finally:
        fake.latency = 0
        await app.shutdown()


async def test_request_guard_sees_every_request_first_and_records_violations(
    tiny_app: AnyApp, fake: FakeTelegram
) -> None:
    transaction = {"open": False}
    seen: list[tuple[str, int]] = []

    def guard(method: str) -> str | None:
        seen.append((method, len(fake.calls)))  # how many calls were recorded before this one
        return f"{method} while a transaction is open" if transaction["open"] else None

    fake.request_guard = guard
    await tiny_app.bot.send_message(1001, "بیرون از تراکنش")
    assert fake.violations == []
    transaction["open"] = True
    sent = await tiny_app.bot.send_message(1001, "درون تراکنش")
    fake.block_chat(1001)
    with pytest.raises(Forbidden):
        await tiny_app.bot.send_message(1001, "مسدود")
    transaction["open"] = False
    fake.request_guard = None
    await tiny_app.bot.send_message(2002, "بی‌نگهبان")

    assert sent.text == "درون تراکنش"  # a violation is recorded; the request is still answered
    assert fake.violations == ["sendMessage while a transaction is open"] * 2
    assert [method for method, _ in seen] == ["sendMessage"] * 3
    # Called before the request is recorded or handled: the call it saw is the next one logged.
    assert [fake.calls[before].method for _, before in seen] == ["sendMessage"] * 3
    assert [fake.calls[before].ok for _, before in seen] == [True, True, False]


# ---------------------------------------------------------------------- edits, formatting, files, commands


async def test_edits_are_stored_and_unchanged_edit_is_refused(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    sent = await tiny_app.bot.send_message(1001, "یک", reply_markup=KEYBOARD)
    await tiny_app.bot.edit_message_text(
        "دو", chat_id=1001, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await tiny_app.bot.edit_message_text(
            "دو", chat_id=1001, message_id=sent.message_id, reply_markup=KEYBOARD
        )
    await tiny_app.bot.edit_message_reply_markup(chat_id=1001, message_id=sent.message_id)
    stored = fake.message(1001, sent.message_id)
    assert stored is not None
    assert (stored.text, stored.buttons, len(stored.edits)) == ("دو", [], 2)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await tiny_app.bot.edit_message_text("سه", chat_id=1001, message_id=999)
    assert await tiny_app.bot.delete_message(1001, sent.message_id)
    assert fake.sent_to(1001) == []


async def test_html_is_parsed_and_validated(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    message = await tiny_app.bot.send_message(
        1001, "<b>کد</b> &lt;۱۲&gt; <a href='https://example.org'>لینک</a>", parse_mode=ParseMode.HTML
    )
    assert message.text == "کد <۱۲> لینک"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 2), ("text_link", 8, 4)]
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "x"'):
        await tiny_app.bot.send_message(1001, "a <x> b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag"):
        await tiny_app.bot.send_message(1001, "<b>open", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await tiny_app.bot.send_message(1001, "ا" * 4097)


async def test_keyboards_are_validated(tiny_app: AnyApp) -> None:
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await tiny_app.bot.send_message(1001, "x", reply_markup=too_long)


async def test_photo_upload_and_download(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    content = b"\xff\xd8\xff\xe0 fake jpeg"
    message = await tiny_app.bot.send_photo(1001, content, caption="<i>عکس</i>", parse_mode=ParseMode.HTML)
    assert message.caption == "عکس"
    stored = fake.last_message(1001)
    assert stored is not None and stored.photo is not None
    assert list(fake.calls_to("sendPhoto")[0].files) == ["photo"]
    file = await tiny_app.bot.get_file(message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == content
    copied = await tiny_app.bot.copy_message(2002, from_chat_id=1001, message_id=message.message_id)
    copy = fake.message(2002, copied.message_id)
    assert copy is not None and copy.photo == stored.photo
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await tiny_app.bot.send_document(1001, "not-a-known-file-id")


async def test_commands_per_scope_and_language(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    await tiny_app.bot.set_my_commands([("start", "شروع"), ("help", "راهنما")], language_code="fa")
    commands = await tiny_app.bot.get_my_commands(language_code="fa")
    assert [c.command for c in commands] == ["start", "help"]
    assert await tiny_app.bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await tiny_app.bot.set_my_commands([("شروع", "شروع")])
    assert await tiny_app.bot.delete_my_commands(language_code="fa")
    assert fake.commands_for(language_code="fa") == []


async def test_menu_button_per_chat_with_a_web_app(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    app_button = MenuButtonWebApp("پرداخت", WebAppInfo("https://pay.example.ir/app"))
    assert await tiny_app.bot.set_chat_menu_button(chat_id=1001, menu_button=app_button)
    shown = await tiny_app.bot.get_chat_menu_button(chat_id=1001)
    assert isinstance(shown, MenuButtonWebApp) and shown.web_app.url == "https://pay.example.ir/app"
    assert isinstance(await tiny_app.bot.get_chat_menu_button(chat_id=2002), MenuButtonCommands)
    assert fake.menu_button_for(1001)["text"] == "پرداخت"
    with pytest.raises(BadRequest, match=r"(?i)only https"):
        await tiny_app.bot.set_chat_menu_button(
            chat_id=1001, menu_button=MenuButtonWebApp("x", WebAppInfo("http://pay.example.ir"))
        )
    await tiny_app.bot.set_chat_menu_button(chat_id=1001, menu_button=MenuButtonDefault())
    assert fake.menu_button_for(1001) == {"type": "commands"}  # "default" falls back to the bot's


async def test_unknown_methods_and_chat_info(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    assert await tiny_app.bot.do_api_request("someFutureMethod", api_kwargs={"chat_id": 5}) is True
    assert fake.calls_to("someFutureMethod")[0].chat_id == 5
    chat = await tiny_app.bot.get_chat(1001)
    assert chat.type == "private"
    assert await tiny_app.bot.send_chat_action(1001, "typing")


# ---------------------------------------------------------------------- getUpdates


async def test_get_updates_offset_semantics(fake: FakeTelegram) -> None:
    for n in range(3):
        fake.push_update({"message": {"message_id": n + 1, "date": 0, "chat": {"id": 1, "type": "private"}}})

    status, body = await fake.handle("getUpdates", {})
    assert status == 200
    assert [u["update_id"] for u in body["result"]] == [1, 2, 3]
    _, body = await fake.handle("getUpdates", {"offset": 2, "limit": 1})
    assert [u["update_id"] for u in body["result"]] == [2]
    _, body = await fake.handle("getUpdates", {"offset": "4"})  # form-encoded values are strings
    assert body["result"] == []
    assert fake.pending_updates == []
    _, body = await fake.handle("getUpdates", {"offset": 1})  # confirmed updates never come back
    assert body["result"] == []


async def test_get_updates_long_polls_until_an_update_arrives(fake: FakeTelegram) -> None:
    poll = asyncio.create_task(fake.handle("getUpdates", {"timeout": 5}))
    await asyncio.sleep(0.05)
    assert not poll.done()
    update_id = fake.push_update(
        {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    )
    _, body = await asyncio.wait_for(poll, 1)
    assert [u["update_id"] for u in body["result"]] == [update_id]

    started = asyncio.get_running_loop().time()
    _, body = await fake.handle("getUpdates", {"offset": update_id + 1, "timeout": 0.1})
    assert body["result"] == []
    assert asyncio.get_running_loop().time() - started >= 0.09


async def test_second_poller_terminates_the_first(fake: FakeTelegram) -> None:
    first = asyncio.create_task(fake.handle("getUpdates", {"timeout": 5}))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(fake.handle("getUpdates", {"timeout": 0.05}))
    status, body = await asyncio.wait_for(first, 1)
    assert status == 409 and "terminated by other getUpdates" in body["description"]
    assert (await second)[0] == 200


async def test_get_updates_refused_while_webhook_is_set(fake: FakeTelegram) -> None:
    await fake.handle("setWebhook", {"url": "https://bot.example.org/hook"})
    status, _ = await fake.handle("getUpdates", {})
    assert status == 409
    _, info = await fake.handle("getWebhookInfo", {})
    assert info["result"]["url"] == "https://bot.example.org/hook"


# ---------------------------------------------------------------------- HTTP server


async def test_http_server_with_polling_application(fake: FakeTelegram) -> None:
    async with FakeBotAPIServer(fake) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        async with polling_app(server) as app:
            maryam = HttpSimUser(fake, 3003, first_name="مریم")
            maryam.command("start", "apply_3")
            reply = await maryam.wait_for_reply(timeout=10)
            assert reply.text == "سلام apply_3"
            maryam.press("خیر")
            changed = await maryam.wait_for_change(timeout=10)
            assert changed[-1].text == "انتخاب: answer:no"
            sent = await app.bot.send_document(3003, b"%PDF-1.4 test", filename="form.pdf")
            assert sent.document is not None and sent.document.file_name == "form.pdf"
            file = await app.bot.get_file(sent.document.file_id)
            assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 test"
    assert server.tokens_seen == {TOKEN}
    assert fake.pending_updates == []  # the last getUpdates at shutdown confirmed everything


@asynccontextmanager
async def polling_app(server: FakeBotAPIServer) -> AsyncIterator[AnyApp]:
    """The tiny application polling the fake over HTTP; stopped (last getUpdates included) on exit."""
    builder = ApplicationBuilder().token(TOKEN).base_url(server.base_url)
    app = builder.base_file_url(server.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choice))
    add_payment_handlers(app)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_http_server_accepts_json_form_and_multipart(fake: FakeTelegram) -> None:
    async with FakeBotAPIServer(fake) as server, aiohttp.ClientSession() as session:
        async with session.get(f"{server.base_url}{TOKEN}/getMe") as response:
            assert (await response.json())["result"]["id"] == BOT_ID
        markup = {"inline_keyboard": [[{"text": "الف", "callback_data": "a"}]]}
        json_body = {"chat_id": 7, "text": "سلام", "reply_markup": markup}
        async with session.post(f"{server.base_url}{TOKEN}/sendMessage", json=json_body) as response:
            assert response.status == 200
        form = {
            "chat_id": "7",
            "text": "۱۲",
            "reply_markup": '{"inline_keyboard": [[{"text": "ب", "url": "https://x.org"}]]}',
        }
        async with session.post(f"{server.base_url}{TOKEN}/sendMessage", data=form) as response:
            assert (await response.json())["result"]["text"] == "۱۲"
        upload = aiohttp.FormData({"chat_id": "7"})
        upload.add_field("document", b"%PDF-1.4 x", filename="a.pdf", content_type="application/pdf")
        async with session.post(f"{server.base_url}{TOKEN}/sendDocument", data=upload) as response:
            document = (await response.json())["result"]["document"]
        _, file = await fake.handle("getFile", {"file_id": document["file_id"]})
        async with session.get(f"{server.base_file_url}{TOKEN}/{file['result']['file_path']}") as response:
            assert await response.read() == b"%PDF-1.4 x"
        async with session.post(f"{server.base_url}{TOKEN}/sendMessage", data={"chat_id": "7"}) as response:
            assert response.status == 400
    assert [m.text for m in fake.sent_to(7)] == ["سلام", "۱۲", None]
    assert fake.sent_to(7)[1].reply_markup == {"inline_keyboard": [[{"text": "ب", "url": "https://x.org"}]]}


async def test_make_update_dict_numbers_updates(fake: FakeTelegram) -> None:
    first = make_update_dict(fake, "message", {"message_id": 1})
    second = make_update_dict(fake, "message", {"message_id": 2})
    assert second["update_id"] == first["update_id"] + 1


def invoice(**changes: Any) -> dict[str, Any]:
    """sendInvoice parameters as on the wire, valid unless changed."""
    params: dict[str, Any] = {
        "chat_id": 1001,
        "title": "حق عضویت ۱۴۰۴",
        "description": "حق عضویت سالانه در اتحادیه",
        "payload": "membership:12:1404",
        "provider_token": "284685063:TEST:abc",
        "currency": "USD",
        "prices": [{"label": "حق عضویت", "amount": 1500}, {"label": "تخفیف", "amount": -500}],
    }
    params.update(changes)
    return params


# ---------------------------------------------------------------------- payments: sendInvoice


async def test_invoice_is_stored_and_parsed_by_ptb(tiny_app: AnyApp, fake: FakeTelegram) -> None:
    sent = await tiny_app.bot.send_invoice(
        1001,
        "حق عضویت ۱۴۰۴",
        "حق عضویت سالانه در اتحادیه",
        "membership:12:1404",
        "USD",
        [LabeledPrice("حق عضویت", 1500), LabeledPrice("تخفیف", -500)],
        provider_token="284685063:TEST:abc",
        max_tip_amount=500,
        suggested_tip_amounts=[100, 200],
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("پرداخت ۱۰ دلار", pay=True)]]),
    )
    assert sent.invoice is not None
    assert (sent.invoice.currency, sent.invoice.total_amount) == ("USD", 1000)
    [stored] = fake.invoices_to(1001)
    assert stored.kind == "invoice" and stored.params["payload"] == "membership:12:1404"
    assert stored.invoice == sent.invoice.to_dict()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": "ع" * 33}, "title"),
        ({"title": ""}, "title"),
        ({"description": "ت" * 256}, "description"),
        ({"payload": "پ" * 65}, "INVOICE_PAYLOAD_INVALID"),  # 130 bytes in UTF-8
        ({"currency": "ABC"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"prices": []}, "prices"),
        ({"prices": [{"label": "شهریه", "amount": 10.5}]}, "Integer"),
        ({"prices": [{"label": "", "amount": 1000}]}, "label"),
        ({"prices": [{"label": "شهریه", "amount": 99}]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"prices": [{"label": "شهریه", "amount": 1_000_001}]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"provider_token": ""}, "PAYMENT_PROVIDER_INVALID"),
        ({"currency": "XTR", "prices": [{"label": "شهریه", "amount": 50}]}, "STARS_INVOICE_INVALID"),
        ({"currency": "XTR", "provider_token": ""}, "STARS_INVOICE_INVALID"),  # two prices
        (
            {
                "currency": "XTR",
                "provider_token": "",
                "prices": [{"label": "a", "amount": 5}],
                "max_tip_amount": 5,
            },
            "STARS_INVOICE_INVALID",
        ),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [10, 20, 30, 40, 50]}, "at most 4"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [50, 20]}, "increasing"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [50, 200]}, "max_tip_amount"),
        ({"reply_markup": {"inline_keyboard": [[{"text": "لغو", "callback_data": "x"}]]}}, "BUY_EMPTY"),
    ],
)
async def test_invoice_rules(fake: FakeTelegram, changes: dict[str, Any], error: str) -> None:
    status, body = await fake.handle("sendInvoice", invoice(**changes))
    assert status == 400
    assert error.lower() in body["description"].lower()
    assert fake.invoices_to(1001) == []


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"currency": "EUR", "title": "ع" * 32, "description": "ت" * 255, "payload": "p" * 128},
        {"currency": "XTR", "provider_token": "", "prices": [{"label": "شهریه", "amount": 10_000}]},
        {"currency": "IRR", "prices": [{"label": "شهریه", "amount": 25_000_000}]},
    ],
)
async def test_valid_invoices(fake: FakeTelegram, changes: dict[str, Any]) -> None:
    status, body = await fake.handle("sendInvoice", invoice(**changes))
    assert status == 200, body
    assert body["result"]["invoice"]["currency"] == invoice(**changes)["currency"]


async def test_more_currencies_can_be_allowed(fake: FakeTelegram) -> None:
    assert (await fake.handle("sendInvoice", invoice(currency="GBP")))[0] == 400
    fake.currency_limits["GBP"] = (100, 1_000_000)
    assert (await fake.handle("sendInvoice", invoice(currency="GBP")))[0] == 200


# ---------------------------------------------------------------------- pre-checkout and payment


async def test_checkout_pays_and_a_redelivered_payment_keeps_its_update_id(tiny_sim: Simulator) -> None:
    ali = tiny_sim.user(1001)
    await ali.command("buy", "7")
    assert ali.latest_invoice().invoice == {
        "title": "دورهٔ بازاریابی",
        "description": "ثبت‌نام در دورهٔ بازاریابی دیجیتال",
        "start_parameter": "",
        "currency": "XTR",
        "total_amount": 50,
    }

    answer, replies = await ali.checkout()

    assert answer is not None and answer.ok and answer.error_message is None
    [reply] = replies
    assert reply.text is not None and reply.text.startswith("پرداخت شد: 50 fake_tg_charge_")
    payment_update = ali.last_update
    assert payment_update is not None and "successful_payment" in payment_update["message"]
    again = await ali.redeliver()  # this tiny bot does not deduplicate; the project's bot must
    assert ali.last_update is payment_update  # the same update, update_id included
    assert [m.text for m in again] == [reply.text]
    assert tiny_sim.state.unanswered_pre_checkout_queries() == []


async def test_refused_pre_checkout_needs_a_message_and_stops_the_payment(tiny_sim: Simulator) -> None:
    ali = tiny_sim.user(1001)
    await ali.command("buy", "9")
    answer, replies = await ali.checkout()
    assert answer is not None and not answer.ok and answer.error_message == REFUSAL
    assert replies == []
    accepted = await ali.pre_checkout("course:7", 50, "XTR")
    assert accepted is not None and accepted.ok
    assert [a.ok for a in tiny_sim.state.pre_checkout_answers.values()] == [False, True]


async def test_pay_with_chosen_charge_ids(tiny_sim: Simulator) -> None:
    ali = tiny_sim.user(1001)
    replies = await ali.successful_payment("course:7", 50, "XTR", charge_id="stxABC")
    assert [m.text for m in replies] == ["پرداخت شد: 50 stxABC"]


async def test_answer_pre_checkout_query_rules() -> None:
    now = [1_700_000_000.0]
    fake = FakeTelegram(clock=lambda: now[0])
    buyer = HttpSimUser(fake, 1001)
    for _ in range(4):
        fake.observe_update(buyer.pre_checkout_update("course:7", 50, "XTR"))
    first, second, third, late = list(fake.pre_checkout_queries)

    async def answer(query_id: str, **fields: Any) -> int:
        status, _ = await fake.handle("answerPreCheckoutQuery", {"pre_checkout_query_id": query_id, **fields})
        return status

    assert await answer(first, ok="true") == 200  # form-encoded, as PTB sends it
    assert await answer(first, ok=True) == 400  # answered once only
    assert await answer(second, ok=False) == 400  # a refusal needs error_message
    assert await answer(third, ok="false", error_message=REFUSAL) == 200
    now[0] += PRE_CHECKOUT_TIMEOUT + 1
    assert await answer(late, ok=True) == 400  # Telegram waits 10 seconds for the answer
    assert await answer("42", ok=True) == 400
    answers = [(a.ok, a.error_message) for a in fake.pre_checkout_answers.values()]
    assert answers == [(True, None), (False, REFUSAL)]
    assert fake.unanswered_pre_checkout_queries() == [second, late]


async def test_payments_over_http(fake: FakeTelegram) -> None:
    async with FakeBotAPIServer(fake) as server, polling_app(server):
        maryam = HttpSimUser(fake, 3003, first_name="مریم")
        answer = await maryam.pre_checkout("course:8", 50, "XTR")
        assert (answer.ok, answer.error_message) == (False, REFUSAL)
        update_id = maryam.pay("course:7", 50, "XTR", charge_id="stx1")
        assert (await maryam.wait_for_reply()).text == "پرداخت شد: 50 stx1"
        assert maryam.redeliver() == update_id
        await fake.wait_until(lambda: len(maryam.messages) == 2)


async def test_keeping_only_the_latest_history() -> None:
    """The benchmarks' mode: no call log, each chat's latest messages, answered queries forgotten,
    and the latest message still editable and a second answer to a query still refused."""
    fake = FakeTelegram()
    fake.keep_only_latest(messages_per_chat=2)
    user = {"id": 1001, "is_bot": False, "first_name": "علی"}
    fake.observe_update(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1001, "type": "private"},
                "from": user,
                "text": "/start",
            },
        }
    )
    for i in range(5):
        status, _ = await fake.handle("sendMessage", {"chat_id": 1001, "text": f"پیام {i}"})
        assert status == 200
    assert fake.calls == []
    assert [m.text for m in fake.sent_to(1001)] == ["پیام 3", "پیام 4"]
    latest = fake.last_message(1001)
    assert latest is not None
    edit = {"chat_id": 1001, "message_id": latest.message_id, "text": "ویرایش"}
    assert (await fake.handle("editMessageText", edit))[0] == 200
    fake.observe_update({"update_id": 2, "callback_query": {"id": "q1", "from": user, "chat_instance": "1"}})
    assert (await fake.handle("answerCallbackQuery", {"callback_query_id": "q1"}))[0] == 200
    assert (await fake.handle("answerCallbackQuery", {"callback_query_id": "q1"}))[0] == 400
    assert fake.callback_queries == {} and fake.callback_answers == {}
