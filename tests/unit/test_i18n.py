"""Every sentence in the code has a Hebrew translation with the same placeholders."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.text import template_fields

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"gettext": None, "ngettext": (1, 2), "phrase": None}


def extracted() -> set[str]:
    found = set()
    for sub in ("bot", "cogs"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / sub, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def hebrew() -> dict[str, object]:
    with (ROOT / "bot/locales/he/LC_MESSAGES/tribebot.po").open("rb") as handle:
        catalog = read_po(handle, locale="he")
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): m.string for m in catalog if m.id
    }


def test_every_message_has_a_hebrew_translation() -> None:
    missing = sorted(m for m in extracted() if not hebrew().get(m))
    assert missing == [], "untranslated (run pybabel extract/update, see README): " + repr(missing)


def test_translations_keep_the_placeholders() -> None:
    for msgid, translated in hebrew().items():
        forms = translated if isinstance(translated, tuple) else (translated,)
        for form in forms:
            assert set(template_fields(form)) <= set(template_fields(msgid)) | {"n"}, msgid
