"""Staff post a news item: whose news it is (an association or the whole chamber), the title, the
text with its Telegram formatting, a photo or file if any; then the preview exactly as subscribers
will see it, and publishing sends it to them with a live progress message."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import BotContext
from bot.formatting import fa_number, jalali_date
from bot.forms.flow import Screen
from bot.forms.render import Actions, Reply
from bot.forms.spec import Choice, Field, Form
from bot.handlers.composing import ATTACHMENT, BroadcastConversation, ComposePresenter, body
from bot.i18n import N_, Gettext
from bot.kit.markup import button, keyboard
from bot.kit.menu import HOME
from bot.kit.reply import esc
from bot.services import news
from bot.services.actor import Actor
from bot.services.news import NewsItem
from bot.text import truncate


async def _scopes(session: AsyncSession, draft: Any, actor: Actor) -> list[Choice]:
    """Chamber-wide first (for those who may), then their associations in Persian order."""
    chamber = [Choice(news.CHAMBER, N_("Chamber-wide"))] if actor.scope.covers(None) else []
    return chamber + [
        Choice(str(a.id), truncate(a.name, 40), plain=True) for a in await news.postable(session, actor.scope)
    ]


TOO_LONG = N_(
    "With the photo or file, the title and text together may have at most {limit} letters. Please "
    "shorten it, or first change «Attachment» to «No attachment» with «Edit an answer»."
)
FORM = Form(
    name="newspost",
    fields=(
        Field("scope", N_("Whose news is it?"), N_("Whose news"), kind="choice", choices=_scopes, columns=2),
        Field(
            "title",
            N_("Please type the title of the news item."),
            N_("Title"),
            clean=news.clean_title,
            errors={
                "title_too_short": N_("That title is too short. Please type a title of a few words."),
                "title_too_long": N_("That title is too long (at most 150 letters). Please shorten it."),
                "too_long_for_media": TOO_LONG,
            },
        ),
        body(
            N_(
                "Now type the text of the news item. You can use bold, italic and links with Telegram's "
                "formatting."
            ),
            N_("Please type the text of the news item."),
            news.clean_text,
        ),
        ATTACHMENT,
    ),
    store=news.STORE,
    audience="staff",
    submit=news.publish,
    submit_label=N_("Publish"),
)


def render_item(_: Gettext, item: NewsItem, source: str | None) -> str:
    """A news item as members read it (in the bot and in the message they receive)."""
    whose = esc(source) if source else _("Chamber of commerce")
    lines = [f"📰 <b>{esc(item.title)}</b>", f"<i>{whose}</i>", "", item.text]
    if item.published_at is not None:
        lines += ["", jalali_date(item.published_at)]
    return "\n".join(lines)


class NewsPresenter(ComposePresenter):
    """The news form's own words: the item as subscribers read it, and how many they are."""

    def preview(self, _: Gettext, screen: Screen) -> str:
        source = screen.extras.get("source")
        return render_item(_, screen.draft, source if isinstance(source, str) else None)

    def summary(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        count = int(str(screen.extras.get("count", 0)))
        lines = [
            _("<b>Preview</b>: above is how subscribers will see it."),
            _("Publish it? It will be sent to {count} subscribers.").format(count=fa_number(count)),
        ]
        return Reply("\n".join(lines), keyboard(self.summary_rows(_, screen, actions)))

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        published: news.Published = result
        return Reply(
            _("Published. It is being sent to {count} subscribers.").format(
                count=fa_number(len(published.recipients))
            )
        )

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(
            _("There is no news item in progress. Choose «Post news» in the menu to start one."),
            keyboard([[button(_("Main menu"), HOME)]]),
        )


class NewsConversation(BroadcastConversation):
    """Publishing also queues the item, rendered as subscribers will read it, in the same transaction."""

    async def on_submit(self, session: AsyncSession, context: BotContext, result: Any) -> None:
        published: news.Published = result
        text = render_item(context.gettext, published.item, published.source)
        await news.queue(session, published, text, created_by=published.item.author_id)
        await super().on_submit(session, context, result)


POSTING = NewsConversation(FORM, NewsPresenter())
post_news = POSTING.open  # also under the news list, for staff
FEATURE = POSTING.feature("news_post", "postnews", N_("Post news"), 120)
