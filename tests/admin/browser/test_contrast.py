"""WCAG 2.1 contrast of every visible text on the desk pages, measured in Chromium, in both languages.

For each element that shows text of its own (a text node, a form control's value, an SVG
``<text>``), the script takes the computed colour (``fill`` for SVG), and the effective
background: the element's and its ancestors' background colours, composited from the first
opaque one down (half-transparent layers count); the text's own alpha and the ancestors'
``opacity`` blend it into that background. The ratio must be at least 4.5:1, or 3:1 for large
text (24px, or 18.66px bold). Disabled controls are exempt, as WCAG allows. A failure names
the element, its text, the ratio and the colours.

The pages: sign-in (with its error), the dispatcher's board (a planned day, an SOS, a
visit-verification exception, a message after an action), the pharmacy desk (review queue and
failed deliveries, all parcels, every disclosure open) and the administration pages (workers,
one worker, the catalogue, the districts' map, users, the audit log with and without an error).
"""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.models import Stop
from doorstep.db import session
from mobile_api.models import EvvException
from tests.admin.browser.test_board import BOARD, _planned_day
from tests.factories import PASSWORD

LOW_CONTRAST = """
() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];  // the canvas behind everything
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  const ownText = (el) => {
    if (el.matches("input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea")) return el.value;
    if (el.matches("select")) return el.selectedOptions.length ? el.selectedOptions[0].textContent : "";
    if (el.matches("script, style, title, option, noscript, template")) return "";
    return [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join("");
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility !== "visible" || el.closest("[hidden]")) return false;
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && el.getClientRects().length > 0;  // not the 1px visually-hidden
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    [...el.classList].map((c) => "." + c).join("");
  const found = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll("*")) {
    const text = ownText(el).trim();
    if (!text || !shown(el) || el.closest(":disabled, [aria-disabled=true]")) continue;
    const style = getComputedStyle(el);
    const isSvg = el instanceof SVGElement;
    const ink = parse(isSvg ? style.fill : style.color);
    if (!ink) continue;
    const bg = background(el);
    ink[3] *= opacity(el) * (isSvg ? Number(style.fillOpacity) : 1);
    const fg = over(ink, bg);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const px = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const needed = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
    checked += 1;
    if (ratio < needed) {
      const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
      found.push(`${name(el)} "${text.slice(0, 40)}": ${ratio.toFixed(2)}:1 < ${needed}:1 ` +
                 `(${hex(fg)} on ${hex(bg)}, ${px}px${bold ? " bold" : ""})`);
    }
  }
  return {checked, found};
}
"""


def _check(desk: Any, where: str, problems: list[str]) -> None:
    """Measure the page as it is now; remember what fails, named by page and language."""
    measured = desk.page.evaluate(LOW_CONTRAST)
    assert measured["checked"] > 5, f"{where}: only {measured['checked']} texts found; is the page there?"
    problems += [f"{where}: {line}" for line in measured["found"]]


def _open_disclosures(desk: Any) -> None:
    desk.page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_visible_text_keeps_wcag_contrast_on_each_desk_page(desk, rows, personas, hospital, client, lang):
    _, visits = _planned_day(personas, hospital)
    stop = session.scalar(select(Stop).where(Stop.order_id == visits[0], Stop.type == "visit"))
    session.add(EvvException(kind="far_from_door", stop_id=stop.id, order_id=visits[0],
                             worker_id=personas["nurse_li"]["worker_id"], event_type="arrive", distance_m=420,
                             dedupe_key=f"far_from_door:{stop.id}:arrive"))
    session.commit()
    response = client.post("/api/v1/mobile/sos", json={"lat": 39.1201, "lon": 117.1987, "note": "fell"},
                           headers=personas.headers("nurse_li"))
    assert response.status_code == 201, response.get_json()
    rows.delivery_order("awaiting_review")
    rows.delivery_order("failed")
    problems: list[str] = []

    desk.goto(f"/admin/login?lang={lang}")
    _check(desk, f"login ({lang})", problems)
    desk.page.fill("#username", "dispatcher_sun")
    desk.page.fill("#password", PASSWORD + "-wrong")
    desk.page.click("button[type=submit]")
    expect(desk.page.locator("#login-error")).to_be_visible()
    _check(desk, f"login with an error ({lang})", problems)

    desk.sign_in("dispatcher_sun", lang=lang)
    desk.goto(BOARD)
    expect(desk.page.locator("#live-status")).to_have_attribute("data-state", "on")
    _check(desk, f"board ({lang})", problems)
    desk.page.locator("#replan-district").select_option(index=0)
    desk.page.locator('[data-action="replan"]').click()
    expect(desk.page.locator(".flash")).to_be_visible()
    _check(desk, f"board after an action ({lang})", problems)
    desk.page.locator("[data-action=approve]").first.click()  # no reason given: the browser refuses
    desk.shot(f"board-{lang}")

    desk.page.context.clear_cookies()  # signed out
    desk.sign_in("pharmacist_chen", lang=lang)
    for path in ("/admin/parcels", "/admin/parcels/failed", "/admin/parcels/all"):
        desk.goto(path)
        _open_disclosures(desk)
        _check(desk, f"{path} ({lang})", problems)
    desk.shot(f"desk-{lang}")

    desk.page.context.clear_cookies()
    desk.sign_in("admin_root", lang=lang)
    for path in ("/admin/workers", f"/admin/workers/{personas['nurse_li']['worker_id']}", "/admin/catalogue",
                 "/admin/districts", "/admin/users",
                 "/admin/audit", "/admin/audit?date_from=not-a-date"):
        desk.goto(path)
        _check(desk, f"{path} ({lang})", problems)
    desk.shot(f"administration-{lang}")

    assert problems == [], "text below WCAG 2.1 contrast:\n" + "\n".join(problems)
