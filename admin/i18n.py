"""The desk pages' languages: Flask-Babel, with Chinese first.

Texts are English ``gettext`` calls in the code and templates (``_('Sign in')``,
``_('Signed in as %(username)s', username=...)``); their Chinese lives in the catalogue
``admin/translations/zh/LC_MESSAGES/messages.po``; English needs no catalogue. Codes of a
fixed vocabulary (statuses, reasons...) are in ``admin.vocabulary``. ``make translations``
extracts the texts (``babel.cfg``), merges them into the catalogues and compiles them.

The compiled ``messages.mo`` is committed beside its ``.po`` and shipped as package data, so a
clean clone, ``pip install -e .`` and a wheel all work without a build step, and the pages
never write into the package or need a writable instance folder at start-up.
``tests/admin/test_translations.py`` fails when the ``.mo`` no longer matches its ``.po``
(or a text in the code has no Chinese), so a stale one cannot land unnoticed.

The locale is the one the user picked with ``?lang=`` (kept in the session), else the
signed-in user's ``locale``, else Chinese.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g
from flask import session as cookie
from flask_babel import Babel, refresh

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def normalise_locale(value: str | None) -> str | None:
    """``"zh-CN"``, ``"en_US"``, ``"EN"`` → ``"zh"`` / ``"en"``; anything else → None."""
    if not value:
        return None
    code = value.replace("_", "-").split("-")[0].lower()
    return code if code in LOCALES else None


def current_locale() -> str:
    """The language chosen in this session, else the user's own, else Chinese (Babel's selector)."""
    return (normalise_locale(cookie.get("lang")) or normalise_locale(g.get("user_locale"))
            or DEFAULT_LOCALE)


def choose_locale(value: str | None) -> bool:
    """Remember ``?lang=`` in the session; False (and nothing stored) for an unknown code."""
    code = normalise_locale(value)
    if code is None:
        return False
    cookie["lang"] = code
    refresh()  # a text translated earlier in this request must not pin the old language
    return True


def init_app(app: Flask) -> None:
    """Flask-Babel on the app: our catalogues, Chinese by default, the locale chosen as above."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=current_locale)
