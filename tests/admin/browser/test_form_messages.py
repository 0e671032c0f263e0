"""In Chromium, a form refused by the API's schema shows marshmallow's message in Chinese, next to its field."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.models import Worker
from doorstep.db import session


def test_a_chinese_page_shows_the_schemas_message_in_chinese_under_its_field(desk, personas):
    page = desk.page
    desk.sign_in("admin_root", lang="zh")
    desk.goto("/admin/workers")
    page.fill("#new-worker-name", "Wu Jing")
    page.check('input[name="districts"][value="heping"]')
    page.fill("#new-worker-home_lat", "north")  # not a number: marshmallow's "Not a valid number."
    page.fill("#new-worker-home_lon", "117.2")
    page.locator('[data-action="create-worker"]').click()

    field, error = page.locator("#new-worker-home_lat"), page.locator("#new-worker-home_lat-error")
    expect(error).to_have_text("输入有误：不是有效的数字。")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "new-worker-home_lat-error")
    below, box = error.bounding_box(), field.bounding_box()
    assert below is not None and box is not None
    assert 0 <= below["y"] - (box["y"] + box["height"]) < 40 and abs(below["x"] - box["x"]) < 40  # right under it
    expect(page.locator("#new-worker-home_lon-error")).to_have_count(0)
    desk.shot("chinese-error-under-its-field")
    session.rollback()
    assert session.scalar(select(Worker).where(Worker.name == "Wu Jing")) is None
