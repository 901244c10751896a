"""The translation layer: gettext catalogs (Babel .po files), one per language.

Catalogs are compiled in memory from the bundled ``.po`` files at first use, so there is
no binary to keep in sync. Every sentence a user sees goes through ``Catalog.gettext``,
which also isolates substituted values for right-to-left languages.
"""

from __future__ import annotations

import gettext as _gettext
import io
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.core.text import RTL_LANGUAGES, RichText, Value, compose

DOMAIN = "tribebot"
SUPPORTED_LANGUAGES = ("en", "he")


class Catalog:
    """Translated, composed text for one language."""

    def __init__(self, language: str, translations: _gettext.NullTranslations) -> None:
        self.language = language
        self.rtl = language in RTL_LANGUAGES
        self._translations = translations

    def gettext(self, message: str, /, **values: Value) -> RichText:
        return compose(self._translations.gettext(message), values, isolate=self.rtl)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Value) -> RichText:
        return compose(
            self._translations.ngettext(singular, plural, n), {"n": n, **values}, isolate=self.rtl
        )

    def phrase(self, message: str) -> str:
        """The translated template itself (for owner-editable defaults)."""
        return self._translations.gettext(message)


@cache
def catalog(language: str) -> Catalog:
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if language == "en":
        return Catalog(language, _gettext.NullTranslations())
    po = resources.files("bot").joinpath(f"locales/{language}/LC_MESSAGES/{DOMAIN}.po")
    with po.open("rb") as handle:
        parsed = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, parsed)
    buffer.seek(0)
    return Catalog(language, _gettext.GNUTranslations(buffer))
