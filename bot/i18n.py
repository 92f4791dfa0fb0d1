"""Translations: the Babel catalog for Persian (the default and, for now, only language)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "fa"

# A msgid that every real catalog translates; if it comes back unchanged, the .mo did not load.
_PROBE = "Main menu"

Gettext = Callable[[str], str]


class CatalogMissing(RuntimeError):
    """The compiled catalog (.mo) is missing or empty: the bot would silently speak English."""


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (labels defined at import time)."""
    return message


def load_translations(locale: str = DEFAULT_LOCALE) -> Translations:
    """Load the compiled catalog for `locale`, refusing to fall back to untranslated English."""
    translations = Translations.load(str(LOCALE_DIR), [locale], domain=DOMAIN)
    if not isinstance(translations, Translations) or type(translations) is NullTranslations:
        raise CatalogMissing(
            f"the compiled {locale} catalog is missing under {LOCALE_DIR}; run `make catalog` "
            "(pybabel compile -d bot/locale -D messages)"
        )
    if translations.gettext(_PROBE) == _PROBE:
        raise CatalogMissing(f"the {locale} catalog loaded but has no translations; run `make catalog`")
    return translations
