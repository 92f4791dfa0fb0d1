"""PTB persistence over our own database: conversation state survives restarts and fail-overs.

Only conversations are stored: everything else a user tells the bot lives in real tables (drafts,
applications), never in pickled dicts. Writes from many users are grouped into one transaction.

A state is written once: the persistence remembers what the database holds and skips a state that
is already there. The form engine writes the state inside the step's own transaction (`stage`), so
entering or leaving a form costs no transaction of its own; PTB's later report of the same state
is then a no-op.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from db.models import ConversationState
from db.upsert import upsert

State = object | None


def encode_key(key: ConversationKey) -> str:
    """A conversation key (a tuple of ids) as a compact JSON string."""
    return json.dumps(list(key), separators=(",", ":"))


def decode_key(text: str) -> ConversationKey:
    """The inverse of encode_key."""
    return tuple(json.loads(text))


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Stores ConversationHandler states in the `conversation_states` table."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], update_interval: float = 60):
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessionmaker = sessionmaker
        self._pending: dict[tuple[str, str], State] = {}
        self._stored: dict[tuple[str, str], State] = {}  # what the database holds (absent: no row)
        self._write_lock = asyncio.Lock()

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self._sessionmaker() as session:
            rows = await session.execute(
                select(ConversationState.key, ConversationState.state).where(ConversationState.name == name)
            )
            found = {key: json.loads(state) for key, state in rows}
        for key, state in found.items():
            self._stored[(name, key)] = state
        return {decode_key(key): state for key, state in found.items()}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        entry = (name, encode_key(key))
        if self._stored.get(entry) == new_state and entry not in self._pending:
            return
        self._pending[entry] = new_state
        await self._write_pending()

    async def stage(
        self, session: AsyncSession, name: str, key: ConversationKey, new_state: object | None
    ) -> bool:
        """Write a conversation's state in the caller's transaction (skipped when already stored);
        call `staged` once that transaction committed. Returns whether anything was written."""
        entry = (name, encode_key(key))
        if self._stored.get(entry) == new_state and entry not in self._pending:
            return False
        await _write(session, [(entry, new_state)])
        return True

    def staged(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        """The transaction that staged this state committed: the database holds it now."""
        entry = (name, encode_key(key))
        self._pending.pop(entry, None)
        self._remember(entry, new_state)

    def _remember(self, entry: tuple[str, str], state: State) -> None:
        if state is None:
            self._stored.pop(entry, None)
        else:
            self._stored[entry] = state

    async def _write_pending(self) -> None:
        # Group commit: whoever holds the lock writes everything queued so far in one transaction;
        # callers whose entries were taken by an earlier writer find nothing left and return.
        async with self._write_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, {}
            try:
                async with self._sessionmaker() as session, session.begin():
                    await _write(session, batch.items())
            except BaseException:
                # Keep what failed so the next write retries it (newer states win).
                self._pending = batch | self._pending
                raise
            for entry, state in batch.items():
                self._remember(entry, state)

    async def flush(self) -> None:
        await self._write_pending()

    # Nothing below is stored: the bot keeps its data in tables, not in PTB's dicts.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None


async def _write(session: AsyncSession, items: Iterable[tuple[tuple[str, str], State]]) -> None:
    for (name, key), state in items:
        if state is None:
            await session.execute(
                delete(ConversationState).where(ConversationState.name == name, ConversationState.key == key)
            )
        else:
            await upsert(
                session,
                ConversationState,
                {"name": name, "key": key, "state": json.dumps(state)},
                index=["name", "key"],
                update=["state", "updated_at"],
            )
