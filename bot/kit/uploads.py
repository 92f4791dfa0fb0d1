"""A document someone sent, downloaded from the Bot API (before any transaction)."""

from __future__ import annotations

from telegram import Document, Update
from telegram.error import TelegramError

from bot.context import BotContext
from bot.kit.reply import answer


async def downloaded(
    update: Update, context: BotContext, document: Document, max_bytes: int, too_big: str
) -> bytes | None:
    """The file's bytes; None when it is over `max_bytes` (they are told `too_big`, already
    translated) or the download failed (they are asked to send it again)."""
    if (document.file_size or 0) > max_bytes:
        await answer(update, too_big)
        return None
    try:
        return bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError:
        _ = context.gettext
        await answer(update, _("I could not download the file. Please send it again."))
        return None
