"""The pharmacy desk in Chromium: each role signs in, the pharmacist does the desk's main
actions with the mouse and the keyboard, on a desktop and on a tablet; the database is read
after each action."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from doorstep.db import session
from orders.models import DeliveryOrder, OrderEvent
from tests.factories import SERVICE_DATE, at


def _parcel(order_id: int) -> DeliveryOrder:
    """The row as the server left it (end this thread's read transaction first: SQLite snapshots)."""
    session.rollback()
    session.expire_all()
    return session.get(DeliveryOrder, order_id)


def _card(desk, order_id: int):  # type: ignore[no-untyped-def]
    return desk.page.locator(f'li.parcel-card[data-parcel="{order_id}"]')


def test_a_pharmacist_reviews_searches_prints_and_redelivers(desk, rows, personas):
    approve_me = rows.delivery_order("awaiting_review", cold_chain=True)
    reject_me = rows.delivery_order("awaiting_review", patient="patient_wang", district="heping")
    failed = rows.delivery_order("failed")
    rows.delivery_order("awaiting_review", pharmacy="nankai")  # another pharmacy's: never shown

    desk.sign_in("pharmacist_chen")
    expect(desk.page).to_have_url(re.compile(r"/admin/parcels$"))
    expect(desk.page.locator("h1")).to_have_text("Parcels awaiting review")
    expect(desk.page.locator("li.parcel-card")).to_have_count(2)
    desk.shot("review-queue")

    # Approve one.
    _card(desk, approve_me.id).locator('[data-action="approve"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"{approve_me.tracking_code} approved")
    order = _parcel(approve_me.id)
    assert order.status == "ready" and order.reviewed_by == personas["pharmacist_chen"]["user_id"]
    expect(desk.page.locator("li.parcel-card")).to_have_count(1)
    desk.shot("approved")

    # Reject one: the reason is required by the form before the server sees it.
    card = _card(desk, reject_me.id)
    card.locator("summary").click()
    card.locator('[data-action="reject"]').click()
    assert _parcel(reject_me.id).status == "awaiting_review"  # the browser refused the empty reason
    card.get_by_label("Why it is rejected (required)").fill("Duplicate of a dispensed prescription")
    card.locator('[data-action="reject"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"{reject_me.tracking_code} rejected")
    assert _parcel(reject_me.id).status == "rejected"
    event = session.scalars(select(OrderEvent).where(OrderEvent.order_id == reject_me.id)
                            .order_by(OrderEvent.id.desc())).first()
    assert event.reason == "Duplicate of a dispensed prescription"
    expect(desk.page.locator('[data-empty="review"]')).to_be_visible()
    desk.shot("rejected")

    # Search by tracking code.
    desk.page.get_by_role("link", name="All parcels").click()
    desk.page.get_by_label("Tracking code, prescription or patient's phone").fill(approve_me.tracking_code)
    desk.page.keyboard.press("Enter")
    expect(desk.page.locator("table.parcels tbody tr")).to_have_count(1)
    expect(desk.page.locator("table.parcels tbody tr")).to_have_attribute("data-parcel", str(approve_me.id))
    desk.shot("search")

    # Open the label in a new tab: a PDF.
    with desk.page.context.expect_event("response", lambda r: r.url.endswith(f"/{approve_me.id}/label")) as hit:
        desk.page.locator('[data-action="label"]').first.click()
    label = hit.value
    assert label.status == 200 and label.headers["content-type"] == "application/pdf"
    assert desk.page.context.request.get(label.url).body().startswith(b"%PDF")
    for other in desk.page.context.pages[1:]:
        other.close()

    # Re-deliver the failed parcel on a new window.
    desk.page.get_by_role("link", name=re.compile("Failed deliveries")).click()
    card = _card(desk, failed.id)
    card.locator("summary", has_text="Deliver again").click()
    card.get_by_label("New date").fill("2026-11-24")
    card.get_by_label("From").fill("09:00")
    card.get_by_label("Until").fill("12:00")
    desk.shot("redeliver-form")
    card.locator('[data-action="redeliver"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"{failed.tracking_code} will be delivered again")
    order = _parcel(failed.id)
    assert order.status == "ready" and order.service_date == "2026-11-24"
    assert order.window_start == at("09:00", "2026-11-24") and order.window_end == at("12:00", "2026-11-24")
    desk.shot("redelivered")


def test_the_approve_button_is_reached_with_tab_and_pressed_with_enter(desk, rows):
    parcel = rows.delivery_order("awaiting_review")
    desk.sign_in("pharmacist_chen")
    for _ in range(40):
        desk.page.keyboard.press("Tab")
        if desk.page.evaluate("document.activeElement.dataset.action") == "approve":
            break
    else:
        raise AssertionError("Tab never reached the approve button")
    desk.shot("focused-approve")
    with desk.page.expect_navigation():
        desk.page.keyboard.press("Enter")
    assert _parcel(parcel.id).status == "ready"
    desk.shot("approved-by-keyboard")


def test_a_server_side_error_is_shown_next_to_its_field(desk, rows):
    failed = rows.delivery_order("failed")
    desk.sign_in("pharmacist_chen")
    desk.goto(f"/admin/parcels/{failed.id}")
    desk.page.get_by_label("New date").fill(SERVICE_DATE)
    desk.page.get_by_label("From").fill("12:00")
    desk.page.get_by_label("Until").fill("09:00")  # ends before it starts: the server's window rule
    desk.page.locator('[data-action="redeliver"]').click()
    until = desk.page.get_by_label("Until")
    expect(until).to_have_attribute("aria-invalid", "true")
    expect(desk.page.locator(f"#redeliver-{failed.id}-end-error")).to_contain_text("Must be after the start")
    expect(desk.page.locator("#form-errors")).to_be_visible()
    desk.shot("window-error")
    assert _parcel(failed.id).status == "failed"


def test_the_desk_fits_a_tablet_held_upright(tablet, rows):
    rows.delivery_order("awaiting_review")
    rows.delivery_order("awaiting_review", patient="patient_wang", district="heping")
    tablet.sign_in("pharmacist_chen", lang="zh")
    expect(tablet.page.locator("h1")).to_have_text("待审方的处方包裹")
    assert tablet.page.evaluate("document.documentElement.scrollWidth") <= 768  # no sideways scrolling
    for button in tablet.page.locator('[data-action="approve"]').all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 768 and box["height"] >= 44  # a finger's size
    tablet.shot("tablet-queue")
    tablet.page.get_by_role("link", name=re.compile("全部包裹")).click()
    assert tablet.page.evaluate("document.documentElement.scrollWidth") <= 768
    tablet.shot("tablet-all")


def test_each_role_lands_where_it_may_and_is_refused_elsewhere(desk, rows):
    parcel = rows.delivery_order("awaiting_review")

    desk.sign_in("dispatcher_sun")
    expect(desk.page).to_have_url(re.compile(r"/admin/board$"))
    desk.page.get_by_role("link", name="Parcels").click()
    expect(desk.page.locator(f'li.parcel-card[data-parcel="{parcel.id}"]')).to_be_visible()
    expect(desk.page.locator('[data-action="approve"]')).to_have_count(0)  # dispatchers read
    desk.shot("dispatcher-reads")
    desk.page.get_by_role("button", name="Sign out").click()

    desk.sign_in("pharmacist_chen")
    expect(desk.page.get_by_role("link", name="Board")).to_have_count(0)
    response = desk.goto("/admin/board")
    assert response.status == 403
    expect(desk.page.locator("h1")).to_contain_text("Not allowed")
    desk.shot("pharmacist-403-board")
    desk.page.get_by_role("button", name="Sign out").click()

    desk.sign_in("nurse_li")
    expect(desk.page.locator("#login-error")).to_contain_text("only")
    assert desk.goto("/admin/parcels").url.endswith("/admin/login?next=/admin/parcels")
    desk.shot("nurse-refused")
    assert _parcel(parcel.id).status == "awaiting_review"


# WCAG 2 contrast of each element's text against the first opaque background behind it.
_CONTRAST = """
(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].filter((el) => el.offsetParent && el.textContent.trim())
    .map((el) => {
      const [a, b] = [lum(rgb(getComputedStyle(el).color).slice(0, 3)), lum(background(el))];
      return [el.textContent.trim().slice(0, 30), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
    });
}
"""


def test_every_control_has_a_label_and_text_keeps_a_4_5_to_1_contrast(desk, rows):
    rows.delivery_order("awaiting_review")
    rows.delivery_order("failed")
    desk.sign_in("pharmacist_chen")
    for path in ("/admin/parcels", "/admin/parcels/failed", "/admin/parcels/all"):
        desk.goto(path)
        for summary in desk.page.locator("summary").all():
            summary.click()  # open every disclosure so its fields count
        unlabelled = desk.page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea, button')].filter((el) =>
            !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
            .map((el) => el.outerHTML)""")
        assert unlabelled == [], path
        low = [(text, round(ratio, 2)) for text, ratio in
               desk.page.evaluate(_CONTRAST, "a, button, label, dt, dd, p, h1, h2, .badge, summary, .count")
               if ratio < 4.5]
        assert low == [], path
    desk.shot("all-disclosures-open")
