"""The desk pages' catalogues against the code: every text has its Chinese, the shipped .mo is fresh.

Texts are extracted from ``admin/`` exactly as ``make translations`` does (``babel.cfg`` and the
same keywords), then looked up in ``admin/translations/zh/LC_MESSAGES/messages.po``. English needs
no catalogue: its texts are the msgids. A failure names the texts; ``make translations`` and the
Chinese for whatever it adds put it right.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ROOT / "admin"
TRANSLATIONS = ADMIN / "translations"
ZH_PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# The same keywords as `make translations` passes to pybabel extract (checked below), with
# pybabel's default N_: the API's messages that admin.messages translates where they are shown.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "npgettext": ((1, "c"), 2, 3), "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2), "N_": None}


def _used() -> dict[tuple[str | None, str], str]:
    """(context, msgid) → where it is used, for every text of the code and the templates."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[str | None, str], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ADMIN), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((context, msgid), f"admin/{filename}:{lineno}")
    return found


def _catalogue(path: Path) -> Catalog:
    with open(path, "rb") as po:
        return read_po(po)


@pytest.fixture(scope="module")
def used() -> dict[tuple[str | None, str], str]:
    found = _used()
    assert len(found) > 300, "extraction found almost nothing: is babel.cfg still right?"
    return found


def test_every_text_of_the_pages_has_its_chinese_and_none_is_fuzzy_or_obsolete(used):
    zh = _catalogue(ZH_PO)
    problems = []
    for (context, msgid), where in sorted(used.items(), key=lambda item: item[1]):
        entry = zh.get(msgid, context=context)
        if entry is None:
            kept = zh.obsolete.get((msgid, context) if context else msgid)
            problems.append(f"{where}: {msgid!r} is {'obsolete' if kept else 'missing'} in zh")
        elif entry.fuzzy:
            problems.append(f"{where}: {msgid!r} is fuzzy in zh")
        elif not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            problems.append(f"{where}: {msgid!r} has no Chinese")
    assert problems == [], "run `make translations` and translate:\n" + "\n".join(problems)


def test_the_catalogue_holds_only_texts_the_pages_use(used):
    zh = _catalogue(ZH_PO)
    unused = [(m.context, m.id) for m in zh if m.id and
              (m.context, m.id[0] if isinstance(m.id, tuple) else m.id) not in used]
    assert unused == [], "no longer used (`make translations` drops them)"


def test_each_chinese_text_keeps_the_placeholders_of_its_english():
    """The same ``%(name)s`` set on both sides (Babel's own check lets a translation drop one)."""
    zh = _catalogue(ZH_PO)
    problems = [f"{m.id!r}: {'; '.join(map(str, errors))}" for m, errors in zh.check()]
    for m in zh:
        english = m.id if isinstance(m.id, tuple) else (m.id,)
        chinese = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = {frozenset(PLACEHOLDER.findall(text)) for text in english}
        problems += [f"{m.id!r}: {text!r}" for text in chinese if frozenset(PLACEHOLDER.findall(text)) not in wanted]
    assert problems == []


def test_the_committed_mo_files_are_compiled_from_their_po_files():
    """The .mo is committed so a clone or ``pip install`` needs no build step; it must be fresh."""
    catalogues = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert ZH_PO in catalogues
    for po in catalogues:
        compiled = io.BytesIO()
        write_mo(compiled, _catalogue(po))
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.read_bytes() == compiled.getvalue(), f"{mo} is stale: run `make translations`"


def test_make_translations_extracts_with_the_same_keywords_and_the_package_ships_the_catalogues():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-k lazy_gettext -k lazy_pgettext:1c,2" in makefile
    assert "--no-default-keywords" not in makefile and "N_" in DEFAULT_KEYWORDS  # admin.messages' marker
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for pattern in ("translations/*/LC_MESSAGES/*.po", "translations/*/LC_MESSAGES/*.mo"):
        assert f'"{pattern}"' in pyproject and list(ADMIN.glob(pattern)), pattern


def test_a_chinese_page_is_chinese_and_an_english_one_english(client, personas):
    chinese = client.get("/admin/login?lang=zh").get_data(as_text=True)
    english = client.get("/admin/login?lang=en").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "调度与药房登录" in chinese and "Sign in</" not in chinese
    assert '<html lang="en">' in english and "Dispatch and pharmacy sign in" in english and "登录" not in english
