"""One factory turns a Form into a persistent conversation: its questions, buttons, step counter,
summary, "edit one answer", resume, cancel and submit.

Every step is one unit of work: one transaction runs the step's use case (bot/forms/flow.py) and
writes the conversation state with it; the reply goes out after the commit. The conversation has a
single state per form: which question is being answered is on the draft row, so a restart resumes
from the row and nothing has to be written ahead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.forms import exits, flow
from bot.forms.flow import Answer, NoDraft, Screen
from bot.forms.render import Actions, Presenter, Reply
from bot.forms.spec import Form
from bot.kit.callbacks import Router
from bot.kit.guards import allows, mark_guarded, public, refuse
from bot.kit.markup import to_json
from bot.kit.reply import ack, alert_and_say, answer
from bot.services import outbox
from bot.services.actor import Actor
from bot.services.drafts import FileRef
from bot.services.errors import DomainError
from bot.services.staff import StaffScope, scope_of
from db.persistence import DatabasePersistence

END = ConversationHandler.END
Step = Callable[[AsyncSession, Actor], Awaitable[Screen]]
AfterSubmit = Callable[[Update, BotContext, Any], Awaitable[None]]
# What a form step takes: anything but commands, edits of old messages, service messages and payments.
ANSWERS = (
    ~filters.COMMAND & ~filters.UpdateType.EDITED & ~filters.StatusUpdate.ALL & ~filters.SUCCESSFUL_PAYMENT
)


class _Refused(Exception):
    """The sender may not use this (staff) form."""


def conversation_key(update: Update) -> tuple[int, int]:
    """The key PTB's ConversationHandler uses for a private conversation: (chat id, user id)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    return (chat.id, user.id)


class FormHandler(ConversationHandler[BotContext]):
    """The ConversationHandler of a form, knowing its form (to show where a user is after a restart)."""

    __slots__ = ("form_ui",)

    def __init__(self, form_ui: FormConversation, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.form_ui = form_ui


class FormConversation:
    """A form in the chat. `enter(update, context, **target)` opens it from a feature's handler."""

    def __init__(
        self,
        form: Form,
        presenter: Presenter | None = None,
        routes: Router | None = None,
        after_submit: AfterSubmit | None = None,
    ) -> None:
        self.form = form
        self.presenter = presenter or Presenter()
        # Bot API work a submission needs besides its reply (e.g. a new staff member's command menu):
        # run after the commit and the reply, with the submit use case's result.
        self._after_submit = after_submit
        self.actions = Actions(form.name)
        # The form's buttons share a router with the feature's own (which may be declared elsewhere).
        self.routes = routes or Router(form.name)
        if self.routes.prefix != form.name:
            raise ValueError("a form's router has the form's name as its prefix")
        self._handler: FormHandler | None = None
        routes = self.routes
        steps: Mapping[str, tuple[tuple[type[str], ...], Callable[..., Awaitable[object]]]] = {
            "set": ((str, str), self._choose),
            "pick": ((str, str), self._toggle),
            "skip": ((str,), self._skip),
            "done": ((str,), self._done),
            "edit": ((str,), self._edit),
            "fields": ((), self._fields),
            "back": ((), self._back),
            "go": ((), self._go),
            "submit": ((), self._submit),
            "discard": ((), self._discard),
            "drop": ((), self._drop),
            "cancel": ((), self._drop),
        }
        for verb, (types, callback) in steps.items():
            routes.on(routes.action(verb, *types))(self.guarded(callback))

    # ------------------------------------------------------------------ wiring

    def guarded(
        self, callback: Callable[..., Awaitable[object]]
    ) -> Callable[..., Coroutine[Any, Any, object]]:
        """Mark a callback of this form for the authorisation walk: staff forms check the role
        inside each step's own transaction (see `actor`)."""

        async def step(update: Update, context: BotContext, *args: Any) -> object:
            return await callback(update, context, *args)

        step.__name__ = step.__qualname__ = f"{self.form.name}_{getattr(callback, '__name__', 'step')}"
        step.__module__ = getattr(callback, "__module__", __name__)
        if self.form.audience == "everyone":
            return public(step)
        guarded: Callable[..., Coroutine[Any, Any, object]] = mark_guarded(step, self.form.audience)
        return guarded

    def handler(self, entry_points: Sequence[BaseHandler[Update, BotContext, Any]] = ()) -> FormHandler:
        """The persistent ConversationHandler: the feature's entry points, then this form's buttons."""
        receive = MessageHandler(ANSWERS, self.guarded(self._receive))
        self._handler = FormHandler(
            self,
            entry_points=[*entry_points, self.routes.handler()],
            states={self.form.state: [receive]},
            fallbacks=exits.handlers(),
            name=self.form.name,
            persistent=True,
            allow_reentry=True,
        )
        return self._handler

    # ------------------------------------------------------------------ running a step

    async def enter(self, update: Update, context: BotContext, **target: Any) -> object:
        """Open (or take up) a draft for `target` and show where it stands."""
        return await self.run(update, context, lambda s, a: flow.open_draft(s, self.form, a, target))

    async def run(
        self,
        update: Update,
        context: BotContext,
        step: Step | None,
        *,
        edit: bool = False,
        alert_errors: bool = False,
    ) -> object:
        """One step: its use case and the conversation state in one transaction, then the reply.
        A form that submits itself does so in the same transaction as its last answer; with no
        `step`, the step is "submit" (the summary's button)."""
        _ = context.gettext
        result: Any = None
        try:
            async with context.transaction() as session:
                actor = await self.actor(session, update, context)
                screen = await step(session, actor) if step is not None else None
                if screen is None or (
                    screen.field is None and screen.error is None and self.form.submits_itself(screen.draft)
                ):
                    screen, result = await self._submitting(session, actor, context)
                self.stage(update, context, self.form.state if result is None else END)
        except _Refused:
            await refuse(update, context)
            return None
        except NoDraft:
            return await self.no_draft(update, context)
        except DomainError as exc:
            await self.refuse(update, self.presenter.refused(_, exc, self.actions))
            return END if step is not None and not self.form.auto_submit else self.form.state
        if result is not None:
            await self.say(update, self.submitted(update, context, screen, result))
            await self.after_submit(update, context, result)
            return END
        if alert_errors and screen.error is not None and screen.field is not None and update.callback_query:
            # A refused press on a step that stays open (e.g. "next" with nothing chosen): an alert
            # keeps the message and its buttons as they are.
            await ack(update.callback_query, self.presenter.error(_, screen.field, screen.error), alert=True)
            return self.form.state
        await self.show(update, context, screen, edit=edit)
        return self.form.state

    async def _submitting(
        self, session: AsyncSession, actor: Actor, context: BotContext
    ) -> tuple[Screen, Any]:
        """Submit the draft and queue what goes to other people, inside the caller's transaction."""
        screen, result = await flow.submit(session, self.form, actor)
        if result is not None:
            await self.on_submit(session, context, result)
        return screen, result

    async def on_submit(self, session: AsyncSession, context: BotContext, result: Any) -> None:
        """In the submitting transaction, after the form's submit use case: queue the presenter's
        notices. A form whose submission queues more (a broadcast in the user's words) extends this."""
        for notice in self.presenter.notices(context.gettext, result):
            await outbox.notify(
                session,
                notice.recipients,
                notice.text,
                buttons=to_json(notice.buttons),
                media_kind=notice.media_kind,
                media_file_id=notice.media_file_id,
            )
        await self.presenter.queue(context.gettext, session, result)

    async def after_submit(self, update: Update, context: BotContext, result: Any) -> None:
        """Once the submission is committed and its reply sent (e.g. a live progress message); the
        constructor's `after_submit` callback, or a subclass, says what."""
        if self._after_submit is not None:
            await self._after_submit(update, context, result)

    async def actor(self, session: AsyncSession, update: Update, context: BotContext) -> Actor:
        """Who is filling in the form; for a staff form, refused unless they are staff now."""
        user = update.effective_user
        assert user is not None
        scope = StaffScope(user.id)
        if self.form.audience != "everyone":
            scope = await scope_of(session, user.id, context.settings.admin_ids)
            if not allows(scope, self.form.audience):
                raise _Refused
            context.staff = scope
        name = " ".join(part for part in (user.first_name, user.last_name) if part)
        return Actor(user.id, name, scope, context.settings.timezone, context.settings.admin_ids)

    def stage(self, update: Update, context: BotContext, state: object) -> None:
        """Write the conversation state (and leave the user's other forms) with this transaction."""
        persistence = context.application.persistence
        if not isinstance(persistence, DatabasePersistence) or update.effective_chat is None:
            return
        key = conversation_key(update)
        mine = None if state == END else state
        others = [
            handler
            for group in context.application.handlers.values()
            for handler in group
            if isinstance(handler, ConversationHandler)
            and handler.name != self.form.name
            and mine is not None
            and key in handler._conversations
        ]

        async def write(session: AsyncSession) -> None:
            await persistence.stage(session, self.form.name, key, mine)
            for other in others:
                await persistence.stage(session, str(other.name), key, None)

        own = self._handler

        def written() -> None:
            persistence.staged(self.form.name, key, mine)
            if own is not None:
                # Entered from a button outside this conversation (e.g. a staff decision button):
                # PTB learns the state only from its own handlers, so set it here as they would.
                own._update_state(END if mine is None else mine, key)
            for other in others:
                persistence.staged(str(other.name), key, None)
                # PTB has no public way to end another handler's conversation; _update_state(END)
                # is what the handler itself does (its persistence sees a state already stored).
                other._update_state(END, key)

        context.before_commit(write)
        context.after_commit(written)

    async def show(self, update: Update, context: BotContext, screen: Screen, *, edit: bool = False) -> None:
        """The question, or the summary."""
        _ = context.gettext
        if screen.field is None:
            reply = self.presenter.summary(_, screen, self.actions)
            message = update.message
            if message is not None and not edit and (message.text or message.contact):
                # A typed step ended the form: take away its one-tap keyboard first.
                await message.reply_text(_("Saved."), reply_markup=ReplyKeyboardRemove())
        else:
            reply = self.presenter.question(_, screen, self.actions)
        await self.say(update, reply, edit=edit)

    async def show_current(self, update: Update, context: BotContext) -> None:
        """Show the question the user's draft is at, changing nothing (after a restart)."""
        try:
            async with context.reading() as session:
                screen = await flow.resume(session, self.form, await self.actor(session, update, context))
        except (_Refused, DomainError):
            return
        await self.show(update, context, screen, edit=False)

    def submitted(self, update: Update, context: BotContext, screen: Screen, result: Any) -> Reply:
        """What the user sees once the form is sent: the presenter's reply (a subclass may add what
        only the update or the context knows, e.g. a link with the bot's username)."""
        return self.presenter.submitted(context.gettext, screen, result)

    async def say(self, update: Update, reply: Reply, *, edit: bool = False) -> None:
        await answer(update, reply.text, reply.markup, edit=edit)

    async def refuse(self, update: Update, reply: Reply) -> None:
        """A rule said no: on a pressed button also an alert, so the press visibly did something."""
        if update.callback_query is not None and reply.markup is None:
            await alert_and_say(update, reply.text)
        else:
            await self.say(update, reply)

    async def no_draft(self, update: Update, context: BotContext) -> int:
        await self.say(update, self.presenter.no_draft(context.gettext))
        return END

    # ------------------------------------------------------------------ the steps

    async def _receive(self, update: Update, context: BotContext) -> object:
        given = answer_of(update)
        return await self.run(update, context, lambda s, a: flow.answer(s, self.form, a, given))

    async def _choose(self, update: Update, context: BotContext, name: str, key: str) -> object:
        _ = context.gettext
        return await self.run(update, context, lambda s, a: flow.choose(s, self.form, a, name, key, _))

    async def _toggle(self, update: Update, context: BotContext, name: str, key: str) -> object:
        return await self.run(
            update, context, lambda s, a: flow.toggle(s, self.form, a, name, key), edit=True
        )

    async def _skip(self, update: Update, context: BotContext, name: str) -> object:
        return await self.run(update, context, lambda s, a: flow.skip(s, self.form, a, name))

    async def _done(self, update: Update, context: BotContext, name: str) -> object:
        multi = (field := self.form.field(name)) is not None and field.kind == "multi"
        return await self.run(
            update, context, lambda s, a: flow.done(s, self.form, a, name), alert_errors=multi
        )

    async def _edit(self, update: Update, context: BotContext, name: str) -> object:
        return await self.run(update, context, lambda s, a: flow.edit(s, self.form, a, name))

    async def _back(self, update: Update, context: BotContext) -> object:
        return await self.run(update, context, lambda s, a: flow.summary(s, self.form, a), edit=True)

    async def _go(self, update: Update, context: BotContext) -> object:
        return await self.run(update, context, lambda s, a: flow.resume(s, self.form, a))

    async def _fields(self, update: Update, context: BotContext) -> object:
        _ = context.gettext
        screens: list[Screen] = []

        async def step(session: AsyncSession, actor: Actor) -> Screen:
            screens.append(await flow.summary(session, self.form, actor))
            return screens[-1]

        state = await self.run_quiet(update, context, step)
        if screens and state is not None:
            await self.say(update, self.presenter.fields_menu(_, screens[0], self.actions), edit=True)
        return state

    async def run_quiet(self, update: Update, context: BotContext, step: Step) -> object:
        """Like `run`, without showing the screen (the caller shows something else)."""
        try:
            async with context.transaction() as session:
                await step(session, await self.actor(session, update, context))
                self.stage(update, context, self.form.state)
        except _Refused:
            await refuse(update, context)
            return None
        except NoDraft:
            return await self.no_draft(update, context)
        return self.form.state

    async def _submit(self, update: Update, context: BotContext) -> object:
        return await self.run(update, context, None)

    async def _discard(self, update: Update, context: BotContext) -> object:
        if self.form.audience != "everyone":
            # Only a question, but a staff form's screen all the same: the staff check first.
            try:
                async with context.reading() as session:
                    await self.actor(session, update, context)
            except _Refused:
                await refuse(update, context)
                return None
        await self.say(update, self.presenter.confirm_discard(context.gettext, self.actions), edit=True)
        return self.form.state

    async def _drop(self, update: Update, context: BotContext) -> object:
        try:
            async with context.transaction() as session:
                await flow.discard(session, self.form, await self.actor(session, update, context))
                self.stage(update, context, END)
        except _Refused:
            await refuse(update, context)
            return None
        except NoDraft:
            return await self.no_draft(update, context)
        await self.say(update, self.presenter.discarded(context.gettext), edit=True)
        return END


def answer_of(update: Update) -> Answer:
    """What a message offers as an answer: text, the sender's own phone number, or a file."""
    message = update.effective_message
    user = update.effective_user
    if not isinstance(message, Message):
        return Answer()
    if message.text is not None:
        return Answer(text=message.text, html=message.text_html)
    if message.contact is not None:
        if user is None or message.contact.user_id != user.id:
            return Answer(refused="not_own_contact")
        return Answer(contact=message.contact.phone_number)
    if message.photo:
        photo = message.photo[-1]
        return Answer(
            file=FileRef(photo.file_id, photo.file_unique_id, "photo", "image/jpeg", photo.file_size)
        )
    if message.document is not None:
        doc = message.document
        return Answer(
            file=FileRef(
                doc.file_id,
                doc.file_unique_id,
                "document",
                (doc.mime_type or "").lower(),
                doc.file_size,
                doc.file_name,
            )
        )
    return Answer()
