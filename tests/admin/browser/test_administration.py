"""The administration pages in Chromium: an admin creates a worker and gives her a shift,
changes a catalogue price, creates an account and filters the audit log; a dispatcher switches
to English. The database is read after each action; a screenshot is kept per step."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.models import Worker
from doorstep.db import session
from doorstep.models import AuditEntry, User
from orders.models import CatalogueItem
from tests.admin.browser.conftest import Desk
from tests.factories import SERVICE_DATE


def _fresh() -> None:
    """End this thread's read transaction so the next query sees what the server committed."""
    session.rollback()
    session.expire_all()


def test_an_admin_creates_a_worker_with_a_shift_reprices_an_item_creates_a_user_and_filters_the_audit_log(
        desk, personas):
    page = desk.page
    desk.sign_in("admin_root")
    page.get_by_role("link", name="Workers", exact=True).click()
    expect(page.locator("h1")).to_have_text("Workers")

    # A new nurse: a missing home is refused next to its field, then accepted.
    form = page.locator("form.admin-form")
    form.get_by_label("Kind").select_option("nurse")
    form.get_by_label("Name").fill("Wu Jing")
    form.get_by_label("Skills").fill("basic_care, injection")
    form.get_by_label("Heping").check()
    form.get_by_label("Hexi").check()
    form.get_by_label("Title").select_option("senior_nurse")
    form.get_by_label("Registration number").fill("201812000303")
    form.get_by_label("Practice began").fill("2018-09-01")
    page.locator('[data-action="create-worker"]').click()
    expect(page.locator("#new-worker-home_lat-error")).to_be_visible()
    desk.shot("worker-error-next-to-field")
    form = page.locator("form.admin-form")
    form.get_by_label("Home latitude").fill("39.125")
    form.get_by_label("Home longitude").fill("117.2")
    page.locator('[data-action="create-worker"]').click()
    expect(page.locator(".flash")).to_contain_text("Wu Jing added")
    _fresh()
    nurse = session.scalar(select(Worker).where(Worker.name == "Wu Jing"))
    assert nurse is not None and nurse.districts == ["heping", "hexi"] and nurse.title == "senior_nurse"

    # Her first shift.
    shift_form = page.get_by_role("form", name="Add shift")
    shift_form.get_by_label("Date").fill(SERVICE_DATE)
    shift_form.get_by_label("Start").fill("08:00")
    shift_form.get_by_label("End").fill("16:30")
    page.locator('[data-action="add-shift"]').click()
    expect(page.locator(".flash")).to_contain_text("Shift added")
    expect(page.locator("table.shifts tbody tr")).to_have_count(1)
    desk.shot("worker-with-shift")
    _fresh()
    assert [(s.start.isoformat(), s.end.isoformat()) for s in session.get(Worker, nurse.id).shifts] == [
        (f"{SERVICE_DATE}T00:00:00+00:00", f"{SERVICE_DATE}T08:30:00+00:00")]

    # A new price for an item.
    page.get_by_role("link", name="Catalogue").click()
    page.locator('tr[data-item="vital_signs_check"] a').click()
    price_form = page.get_by_role("form", name="Change price")
    price_form.get_by_label("New price (yuan)").fill("88.80")
    page.locator('[data-action="change-price"]').click()
    expect(page.locator(".flash")).to_contain_text("New price of vital_signs_check recorded")
    expect(page.locator('strong[data-field="price"]')).to_have_text("¥88.80")
    desk.shot("price-changed")
    _fresh()
    item = session.scalar(select(CatalogueItem).where(CatalogueItem.code == "vital_signs_check"))
    assert item.price_fen == 8880 and [p.price_fen for p in item.prices][-1] == 8880

    # An account for the new nurse.
    page.get_by_role("link", name="Users").click()
    form = page.locator("form.admin-form")
    form.get_by_label("Username").fill("nurse_wu")
    form.get_by_label("Password").fill("a-long-password")
    form.get_by_label("Role").select_option("nurse")
    form.get_by_label("Worker (nurses, couriers)").select_option(str(nurse.id))
    page.locator('[data-action="create-user"]').click()
    expect(page.locator(".flash")).to_contain_text("Account nurse_wu created")
    expect(page.locator('tr[data-user="nurse_wu"]')).to_be_visible()
    desk.shot("user-created")
    _fresh()
    user = session.scalar(select(User).where(User.username == "nurse_wu"))
    assert (user.role, user.worker_id, user.active) == ("nurse", nurse.id, True)

    # The audit log, filtered to what this admin created.
    page.get_by_role("link", name="Audit log").click()
    filters = page.locator("form.admin-form")
    filters.get_by_label("Who (username)").fill("admin_root")
    filters.get_by_label("Action").select_option("create")
    filters.get_by_label("From").fill(SERVICE_DATE[:8] + "01")
    page.locator('[data-action="filter"]').click()
    expect(page).to_have_url(re.compile(r"who=admin_root&action=create"))
    rows = page.locator("table.audit tbody tr")
    entities = {rows.nth(i).get_attribute("data-entity") for i in range(rows.count())}
    assert entities >= {"worker", "user"} and {rows.nth(i).get_attribute("data-action")
                                                for i in range(rows.count())} == {"create"}
    desk.shot("audit-filtered")
    _fresh()
    read = session.scalars(select(AuditEntry).where(AuditEntry.entity == "audit_log")
                           .order_by(AuditEntry.id.desc())).first()
    assert read.actor_user_id == personas["admin_root"]["user_id"] and read.detail["filters"]["who"] == "admin_root"


def test_a_dispatcher_switches_to_english_and_keeps_it(desk, personas, browser, live_server):
    page = desk.page
    desk.sign_in("dispatcher_sun", lang="zh")
    desk.goto("/admin/workers")
    expect(page.locator("h1")).to_have_text("人员管理")
    expect(page.get_by_role("link", name="服务目录")).to_have_count(0)  # admins only: not offered
    desk.shot("workers-in-chinese")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Workers")
    expect(page.get_by_role("columnheader", name="Districts")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    desk.shot("workers-in-english")
    _fresh()
    assert session.get(User, personas["dispatcher_sun"]["user_id"]).locale == "en"

    # Another browser, signed in without choosing: English, from the account.
    context = browser.new_context(locale="zh-CN")
    try:
        other = Desk(context.new_page(), live_server, f"{desk.test_name}-other-device")
        other.sign_in("dispatcher_sun", lang="")
        other.goto("/admin/districts")
        expect(other.page.locator("h1")).to_have_text("Districts")
        expect(other.page.locator("svg g.district")).to_have_count(6)
        other.shot("districts-in-english")
    finally:
        context.close()
