"""Settings read once from the environment (and an optional `.env`), validated before anything starts."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
TELEGRAM_API_FILE_URL = "https://api.telegram.org/file/bot"
BALE_API_BASE_URL = "https://tapi.bale.ai/bot"
BALE_API_FILE_URL = "https://tapi.bale.ai/file/bot"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/tashakkol.db"

_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{10,}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{3,22}[0-9]$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = Field(default="", repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str = TELEGRAM_API_BASE_URL
    telegram_api_file_url: str = TELEGRAM_API_FILE_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    timezone: str = "Asia/Tehran"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # "telegram" or "bale"; empty: detected from TELEGRAM_API_BASE_URL.
    platform: Literal["", "telegram", "bale"] = ""
    # Webhook mode when WEBHOOK_URL is set (the public https URL the Bot API posts to).
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: str = Field(default="", repr=False)
    # The staff dashboard (bot/web): in webhook mode on the webhook's server, in polling mode on its own
    # address (WEB_PORT=0: no dashboard in polling mode). PUBLIC_URL is where browsers reach it (empty:
    # derived from WEBHOOK_URL, else http://WEB_LISTEN:WEB_PORT); Telegram opens Mini Apps only over https.
    web_listen: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""
    # Updates a second one user may send before the bot paces them (0: no pacing).
    user_rate_limit: float = Field(default=10.0, ge=0)
    # Messages a second the bot posts in all (Telegram allows about 30; only a local test server wants more).
    send_rate: float = Field(default=30.0, gt=0, le=10_000)
    # Hours an answered update is kept in the inbox before it is deleted.
    inbox_retention_hours: int = Field(default=72, ge=1, le=24 * 90)
    # The chamber associations office's phone number, shown in the welcome and help when set.
    chamber_phone: str = ""
    # Weights of the five rating indicators (governance, policy, membership, regulation, services).
    rating_weights: Annotated[tuple[float, float, float, float, float], NoDecode] = (1.0, 1.0, 1.0, 1.0, 1.0)
    # The key that signs tickets' and certificates' verification codes (empty: derived from the bot
    # token; set it to keep issued codes valid when the token changes).
    documents_secret: str = Field(default="", repr=False)
    # Dues paid in the chat (sendInvoice): the payment provider's token (on Bale, the wallet token).
    # Empty: members pay by bank transfer and send a photo of the receipt for staff to confirm.
    payment_provider_token: str = Field(default="", repr=False)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, value: str) -> str:
        value = value.strip()
        if value and not _TOKEN.match(value):
            raise ValueError("must look like <digits>:<text>, as @BotFather gives it")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("telegram_api_base_url", "telegram_api_file_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org/bot")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        if value and not value.startswith("https://") and not value.startswith("http://127.0.0.1"):
            raise ValueError(
                "must be an https:// URL the Bot API can reach (e.g. https://bot.example.ir/telegram)"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        local = value.startswith(("http://127.0.0.1", "http://localhost"))
        if (value and not (value.startswith("https://") or local)) or not _URL.match(value or "https://x"):
            raise ValueError(
                "must be the https:// address browsers reach the dashboard at (e.g. https://bot.example.ir), "
                "or http://127.0.0.1:PORT for local use"
            )
        return value

    @field_validator("chamber_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        value = value.strip()
        if value and not _PHONE.match(value):
            raise ValueError("must be a phone number such as 034-3222 3344 or +98 34 3222 3344")
        return value

    @field_validator("documents_secret")
    @classmethod
    def _documents_secret(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError("must be at least 16 characters (random letters and digits)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        if value and not _SECRET.match(value):
            raise ValueError("must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _platform_and_webhook(self) -> Settings:
        if not self.platform:
            self.platform = "bale" if "bale.ai" in self.telegram_api_base_url else "telegram"
        if self.platform == "bale":
            if self.telegram_api_base_url == TELEGRAM_API_BASE_URL:
                self.telegram_api_base_url = BALE_API_BASE_URL
            if self.telegram_api_file_url == TELEGRAM_API_FILE_URL:
                self.telegram_api_file_url = BALE_API_FILE_URL
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET must be set with WEBHOOK_URL, so forged updates are refused")
        if not self.public_url:
            if self.webhook_url:
                parts = urlsplit(self.webhook_url)
                self.public_url = f"{parts.scheme}://{parts.netloc}"
            else:
                self.public_url = f"http://{self.web_listen}:{self.web_port}"
        return self

    @property
    def dashboard_served(self) -> bool:
        """Whether the process serves the dashboard (always with a webhook; in polling unless WEB_PORT=0)."""
        return bool(self.webhook_url) or self.web_port != 0

    @property
    def mini_app_url(self) -> str | None:
        """The Mini App's address for `web_app` buttons: only over https (Telegram refuses others)."""
        return f"{self.public_url}/app" if self.public_url.startswith("https://") else None

    @property
    def inbox_retention(self) -> timedelta:
        """How long answered updates stay in the inbox."""
        return timedelta(hours=self.inbox_retention_hours)

    @property
    def document_key(self) -> bytes:
        """The HMAC key of verification codes (bot/documents/codes.py)."""
        seed = self.documents_secret or f"tashakkol-documents:{self.telegram_bot_token}"
        return hashlib.sha256(seed.encode()).digest()

    @property
    def is_bale(self) -> bool:
        """Talking to Bale's Bot API (which has no HTML parse mode)."""
        return self.platform == "bale"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admins(cls, value: object) -> frozenset[int]:
        if isinstance(value, (set, frozenset, list, tuple)):
            return frozenset(int(v) for v in value)
        text = str(value or "").strip()
        if not text:
            return frozenset()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not all(p.isdecimal() for p in parts):
            raise ValueError("must be Telegram user ids separated by commas, e.g. 12345,67890")
        return frozenset(int(p) for p in parts)

    @field_validator("rating_weights", mode="before")
    @classmethod
    def _rating_weights(cls, value: object) -> tuple[float, ...]:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return (1.0,) * 5
            try:
                value = json.loads(text) if text.startswith("[") else text.split(",")
            except ValueError:
                value = None
        try:
            weights = tuple(float(str(v).strip()) for v in value) if isinstance(value, (list, tuple)) else ()
        except ValueError:
            weights = ()
        if len(weights) != 5 or any(not w >= 0 or w == float("inf") for w in weights) or sum(weights) <= 0:
            raise ValueError(
                "must be 5 non-negative numbers with a positive sum, in the order governance, policy, "
                "membership, regulation, services (e.g. 20,20,20,20,20)"
            )
        return weights

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known time zone such as Asia/Tehran") from None
        return value

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite (None for PostgreSQL or in-memory)."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url[len(prefix) :].split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(path)


def load_settings(*, require_token: bool = True, **overrides: object) -> Settings:
    """Read and validate the settings; raise SettingsError with one clear line on any problem."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a rule across settings names them itself
            raise SettingsError(message) from None
        raise SettingsError(f"{str(error['loc'][0]).upper()} {message}") from None
    if require_token and not settings.telegram_bot_token:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set; get one from @BotFather and export it")
    return settings
