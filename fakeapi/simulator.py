"""Simulated users: build real Bot API updates and feed them to a PTB Application (or to the fake's
getUpdates queue when the bot runs in another process), then read what the bot answered.

`Simulator(app, state).user(42)` gives a `SimUser` whose `send`, `command`, `press`… return once the
update is fully processed through `app.update_processor`; `HttpSimUser` pushes the same updates to a
`FakeTelegram` served over HTTP and waits for replies.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext

from fakeapi.builders import (
    UserUpdates,
    command_entity,
    group_chat_dict,
    make_update_dict,
    private_chat_dict,
    user_dict,
)
from fakeapi.records import PreCheckoutAnswer, StoredMessage
from fakeapi.state import FakeTelegram
from fakeapi.wire import JSON

__all__ = [
    "HttpSimUser",
    "SimUser",
    "Simulator",
    "UserUpdates",
    "command_entity",
    "group_chat_dict",
    "make_update_dict",
    "private_chat_dict",
    "user_dict",
]

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class SimUser(UserUpdates):
    """A user talking to an in-process Application; each action returns when it is fully handled,
    with the bot messages to this user that were sent or edited meanwhile."""

    def __init__(self, sim: Simulator, user_id: int, **profile: Any) -> None:
        super().__init__(sim.state, user_id, **profile)
        self.sim = sim

    async def _deliver(self, update: JSON) -> list[StoredMessage]:
        mark = self.mark()
        self.last_update = update
        await self.sim.feed(update)
        return self.messages_since(mark)

    async def redeliver(self) -> list[StoredMessage]:
        """Send this user's last update again, same update_id: Telegram redelivers an update whose
        getUpdates confirmation was lost (or whose webhook call failed)."""
        if self.last_update is None:
            raise AssertionError(f"user {self.id} has sent nothing to redeliver")
        return await self._deliver(self.last_update)

    async def send(self, text: str) -> list[StoredMessage]:
        return await self._deliver(self.text_update(text))

    async def command(self, cmd: str, args: str = "") -> list[StoredMessage]:
        return await self._deliver(self.command_update(cmd, args))

    async def share_contact(self, phone: str, own: bool = True) -> list[StoredMessage]:
        return await self._deliver(self.contact_update(phone, own))

    async def send_photo(
        self, file_size: int = 50_000, caption: str | None = None, *, content: bytes | None = None
    ) -> list[StoredMessage]:
        return await self._deliver(self.photo_update(file_size, caption, content=content))

    async def send_document(
        self,
        file_name: str = "licence.pdf",
        mime_type: str = "application/pdf",
        file_size: int = 100_000,
        *,
        content: bytes | None = None,
    ) -> list[StoredMessage]:
        return await self._deliver(self.document_update(file_name, mime_type, file_size, content=content))

    async def send_sticker(self) -> list[StoredMessage]:
        return await self._deliver(self.sticker_update())

    async def send_location(
        self, latitude: float = 29.5918, longitude: float = 52.5837
    ) -> list[StoredMessage]:
        return await self._deliver(self.location_update(latitude, longitude))

    async def edit_last(self, text: str) -> list[StoredMessage]:
        return await self._deliver(self.edit_update(text))

    async def press(self, label: str) -> list[StoredMessage]:
        return await self._deliver(self.press_update(label))

    async def press_data(self, data: str, message_id: int | None = None) -> list[StoredMessage]:
        return await self._deliver(self.callback_update(data, message_id))

    # ------------------------------------------------------------------ payments

    async def pre_checkout(
        self, invoice_payload: str, total_amount: int, currency: str
    ) -> PreCheckoutAnswer | None:
        """Press Pay: send a `pre_checkout_query` and return the bot's answer (None: no answer)."""
        update = self.pre_checkout_update(invoice_payload, total_amount, currency)
        await self._deliver(update)
        return self.state.pre_checkout_answers.get(update["pre_checkout_query"]["id"])

    async def pay(
        self, invoice_payload: str, total_amount: int, currency: str, charge_id: str | None = None
    ) -> list[StoredMessage]:
        """The payment went through: send the `successful_payment` message, with this
        telegram_payment_charge_id or a fresh one (`redeliver()` sends the same update again)."""
        update = self.successful_payment_update(invoice_payload, total_amount, currency, charge_id)
        return await self._deliver(update)

    successful_payment = pay

    async def checkout(
        self, invoice: StoredMessage | None = None
    ) -> tuple[PreCheckoutAnswer | None, list[StoredMessage]]:
        """Pay an invoice the bot sent (the latest one by default) the way Telegram does: the
        pre-checkout query, then the payment only if the bot answered ok. Returns the answer and the
        bot's messages after the payment (none when it did not go ahead)."""
        invoice = invoice or self.latest_invoice()
        details = invoice.invoice or {}
        payload = str(invoice.params["payload"])
        total, currency = int(details["total_amount"]), str(details["currency"])
        answer = await self.pre_checkout(payload, total, currency)
        if answer is None or not answer.ok:
            return answer, []
        return answer, await self.pay(payload, total, currency)


class Simulator:
    """Feeds simulated updates to an initialized Application through its update processor.

    With `capture_errors`, an error handler is added that collects handler exceptions in `errors`.
    With `wait_app_tasks`, an action also waits (up to `task_timeout`) for tasks the handlers started.
    """

    def __init__(
        self,
        app: AnyApplication,
        state: FakeTelegram,
        *,
        capture_errors: bool = True,
        wait_app_tasks: bool = True,
        task_timeout: float = 5.0,
    ) -> None:
        self.app = app
        self.state = state
        self.wait_app_tasks = wait_app_tasks
        self.task_timeout = task_timeout
        self.errors: list[tuple[object, BaseException]] = []
        self.users: dict[tuple[int, int], SimUser] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._snapshot: set[asyncio.Task[Any]] | None = None
        self._batch: list[Update] = []  # enqueued, not stored yet
        if capture_errors:
            app.add_error_handler(self._record_error)

    def user(
        self,
        user_id: int,
        first_name: str = "علی",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fa",
        chat: JSON | None = None,
    ) -> SimUser:
        """The simulated user with this id, in their private chat or in `chat` (one object per pair)."""
        key = (user_id, int(chat["id"]) if chat is not None else user_id)
        if key not in self.users:
            self.users[key] = SimUser(
                self,
                user_id,
                first_name=first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
                chat=chat,
            )
        return self.users[key]

    async def feed(self, data: JSON) -> None:
        """Process one update dict the way the running bot would, and wait until it is done."""
        update = self._parse(data)
        before = asyncio.all_tasks() if self.wait_app_tasks else set()
        await self._process(update, json.dumps(data, ensure_ascii=False))
        if self.wait_app_tasks:
            await self._settle(before)

    def _parse(self, data: JSON) -> Update:
        self.state.observe_update(data)
        update = Update.de_json(data, self.app.bot)
        if getattr(self.app.bot, "callback_data_cache", None) is not None:
            self.app.bot.insert_callback_data(update)  # what the Updater does for polled updates
        return update

    async def _process(self, update: Update, raw: str | None = None) -> None:
        # The way the running bot takes an update: stored in the inbox first (an update delivered
        # again is stored once and handled once), then processed in this user's order.
        inbox = getattr(self.app.bot_data, "inbox", None)
        if inbox is not None and not await inbox.store([update], [raw] if raw else None):
            return
        await self._handle_stored(update)

    async def _handle_stored(self, update: Update) -> None:
        await self.app.update_processor.process_update(update, self.app.process_update(update))
        # Notices the update queued (staff told of an application, an applicant of a decision) go
        # out through the outbox's notice sender; deliver them before the test looks.
        delivery = getattr(self.app.bot_data, "delivery", None)
        if delivery is not None:
            await delivery.drain_notices()

    async def _settle(self, before: set[asyncio.Task[Any]]) -> None:
        """Wait for tasks started while the update was processed (non-blocking handlers, create_task)."""
        current = asyncio.current_task()
        started = {
            t for t in asyncio.all_tasks() - before - self._pending if t is not current and not t.done()
        }
        if not started:
            return
        _, still_running = await asyncio.wait(started, timeout=self.task_timeout)
        if still_running:
            names = sorted(task.get_name() for task in still_running)
            warnings.warn(f"tasks still running after {self.task_timeout} s: {names}", stacklevel=3)

    def enqueue_update(self, data: JSON) -> None:
        """Hand an update over without waiting: to `app.update_queue` when the app is running,
        else to a task of its own. `drain()` waits for all of them."""
        update = self._parse(data)
        if self._snapshot is None:
            self._snapshot = asyncio.all_tasks()
        if self.app.running:
            self.app.update_queue.put_nowait(update)
            return
        # Like a polled batch: everything enqueued before the loop runs again is stored in one
        # transaction, in order, then handed to the processor in that order (users concurrently).
        self._batch.append(update)
        if len(self._batch) == 1:
            task = asyncio.create_task(self._store_batch(), name=f"sim-batch-{update.update_id}")
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _store_batch(self) -> None:
        await asyncio.sleep(0)  # let the rest of the batch be enqueued
        batch, self._batch = self._batch, []
        inbox = getattr(self.app.bot_data, "inbox", None)
        fresh = await inbox.store(batch) if inbox is not None else batch
        for update in fresh:
            task = asyncio.create_task(self._handle_stored(update), name=f"sim-update-{update.update_id}")
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def enqueue(self, user: UserUpdates, text: str) -> None:
        self.enqueue_update(user.text_update(text))

    def enqueue_command(self, user: UserUpdates, cmd: str, args: str = "") -> None:
        self.enqueue_update(user.command_update(cmd, args))

    def enqueue_press(self, user: UserUpdates, label: str) -> None:
        self.enqueue_update(user.press_update(label))

    def enqueue_contact(self, user: UserUpdates, phone: str, own: bool = True) -> None:
        self.enqueue_update(user.contact_update(phone, own))

    async def drain(self) -> None:
        """Wait until every enqueued update has been processed."""
        while self._pending:
            await asyncio.gather(*list(self._pending))
        if self.app.running:
            await self.app.update_queue.join()
        if self.wait_app_tasks and self._snapshot is not None:
            await self._settle(self._snapshot)
        self._snapshot = None

    async def _record_error(self, update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        if context.error is not None:
            self.errors.append((update, context.error))

    def assert_no_errors(self) -> None:
        if self.errors:
            update, error = self.errors[0]
            raise AssertionError(
                f"{len(self.errors)} handler error(s); first: {error!r} on {update}"
            ) from error


class HttpSimUser(UserUpdates):
    """A user of a bot running elsewhere (e.g. `python -m bot run` against FakeBotAPIServer):
    actions push updates to the fake's getUpdates queue; `wait_for_reply` waits for the answer."""

    def __init__(self, state: FakeTelegram, user_id: int, **profile: Any) -> None:
        super().__init__(state, user_id, **profile)
        self.sent_mark = state.seq

    def _push(self, update: JSON) -> int:
        self.last_update = update
        self.sent_mark = self.state.seq
        return self.state.push_update(update)

    def send(self, text: str) -> int:
        return self._push(self.text_update(text))

    def command(self, cmd: str, args: str = "") -> int:
        return self._push(self.command_update(cmd, args))

    def press(self, label: str) -> int:
        return self._push(self.press_update(label))

    def press_data(self, data: str, message_id: int | None = None) -> int:
        return self._push(self.callback_update(data, message_id))

    def share_contact(self, phone: str, own: bool = True) -> int:
        return self._push(self.contact_update(phone, own))

    def send_photo(self, file_size: int = 50_000) -> int:
        return self._push(self.photo_update(file_size))

    def send_document(
        self, file_name: str = "licence.pdf", mime_type: str = "application/pdf", file_size: int = 100_000
    ) -> int:
        return self._push(self.document_update(file_name, mime_type, file_size))

    def redeliver(self) -> int:
        """Push this user's last update again, same update_id (see `SimUser.redeliver`)."""
        if self.last_update is None:
            raise AssertionError(f"user {self.id} has sent nothing to redeliver")
        return self._push(self.last_update)

    async def pre_checkout(
        self,
        invoice_payload: str,
        total_amount: int,
        currency: str,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> PreCheckoutAnswer:
        """Push a `pre_checkout_query` and wait for the bot's answer."""
        update = self.pre_checkout_update(invoice_payload, total_amount, currency)
        query_id = update["pre_checkout_query"]["id"]
        self._push(update)
        try:
            await self.state.wait_until(lambda: query_id in self.state.pre_checkout_answers, timeout)
        except TimeoutError:
            raise AssertionError(f"no answer to pre-checkout query {query_id} within {timeout} s") from None
        return self.state.pre_checkout_answers[query_id]

    def pay(
        self, invoice_payload: str, total_amount: int, currency: str, charge_id: str | None = None
    ) -> int:
        """Push the `successful_payment` message (`redeliver()` pushes it again)."""
        return self._push(self.successful_payment_update(invoice_payload, total_amount, currency, charge_id))

    def _new_messages(self) -> list[StoredMessage]:
        return [m for m in self.messages if m.seq > self.sent_mark]

    async def wait_for_reply(self, timeout: float = 10.0) -> StoredMessage:  # noqa: ASYNC109
        """The first bot message to this user sent after the last push (waits for it)."""
        try:
            await self.state.wait_until(lambda: bool(self._new_messages()), timeout)
        except TimeoutError:
            raise AssertionError(self._no_reply(timeout)) from None
        return self._new_messages()[0]

    async def wait_for_change(self, timeout: float = 10.0) -> list[StoredMessage]:  # noqa: ASYNC109
        """Bot messages here sent or edited after the last push (waits for at least one)."""
        try:
            await self.state.wait_until(lambda: bool(self.messages_since(self.sent_mark)), timeout)
        except TimeoutError:
            raise AssertionError(self._no_reply(timeout)) from None
        return self.messages_since(self.sent_mark)

    async def wait_for_text(self, fragment: str, timeout: float = 10.0) -> StoredMessage:  # noqa: ASYNC109
        """The first bot message since the last push whose text holds `fragment` (waits for it; an
        earlier message, e.g. a question repeated after a restart, is passed over)."""

        def found() -> list[StoredMessage]:
            return [m for m in self._new_messages() if fragment in m.content]

        try:
            await self.state.wait_until(lambda: bool(found()), timeout)
        except TimeoutError:
            raise AssertionError(self._no_reply(timeout) + f" (waiting for {fragment!r})") from None
        return found()[0]

    async def ask(self, text: str, timeout: float = 10.0) -> StoredMessage:  # noqa: ASYNC109
        self.send(text)
        return await self.wait_for_reply(timeout)

    def _no_reply(self, timeout: float) -> str:
        recent = [f"{c.method}({c.status})" for c in self.state.calls[-8:]]
        return (
            f"no reply to user {self.id} within {timeout} s; last bot text: {self.last_text!r}; "
            f"pending updates: {len(self.state.pending_updates)}; recent calls: {recent}"
        )
