"""The dispatch board: counts of the day, the latest plan, unassigned reasons, SOS, planning."""
from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import Plan
from doorstep.db import session
from doorstep.models import AuditEntry
from tests.admin.conftest import board_html, count_cell, csrf_from, sign_in
from tests.factories import SERVICE_DATE


def test_the_board_sends_signed_out_visitors_to_the_login_page(client, personas):
    response = client.get(f"/admin/board?date={SERVICE_DATE}")
    assert response.status_code == 302
    assert "/admin/login?next=" in response.headers["Location"]
    assert "/admin/board" in response.headers["Location"]


def test_a_signed_in_user_of_another_role_gets_403(client, personas):
    with client.session_transaction() as cookie:  # e.g. an account whose role changed after signing in
        cookie["user_id"] = personas["nurse_li"]["user_id"]
    response = client.get("/admin/board")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "无权访问" in response.get_data(as_text=True)


def test_the_board_counts_the_days_orders_by_kind_and_status(dispatcher, rows):
    rows.care_order("accepted")
    rows.care_order("accepted", patient="patient_liu", district="nankai")
    rows.care_order("requested")
    rows.delivery_order("ready")
    rows.delivery_order("awaiting_review")
    rows.care_order("accepted", date="2026-11-24")  # another day: not counted

    html = board_html(dispatcher)
    assert count_cell(html, "accepted", "care") == "2"
    assert count_cell(html, "accepted", "delivery") == "—"
    assert count_cell(html, "requested", "care") == "1"
    assert count_cell(html, "ready", "delivery") == "1"
    assert count_cell(html, "awaiting_review", "delivery") == "1"
    assert count_cell(html, "total", "total") == "5"
    assert "已受理" in html and "待审方" in html  # statuses in words, in Chinese
    assert 'data-status="scheduled"' not in html  # no empty rows


def test_a_day_without_orders_or_plans_says_so(dispatcher, rows):
    html = board_html(dispatcher, "2026-12-01")
    assert "这一天没有订单" in html and "这一天还没有排班" in html


def test_the_board_shows_the_latest_plans_routes_per_worker_without_patient_names(dispatcher, rows, personas):
    visit = rows.care_order("scheduled")
    parcel = rows.delivery_order("scheduled")
    rows.plan(created="06:00", routes=[("nurse_zhou", [("visit", visit, "08:30")])])  # an older plan
    rows.plan(created="07:00", routes=[
        ("nurse_li", [("start", None, "08:00"), ("visit", visit, "09:10"), ("end", None, "10:00")]),
        ("courier_zhao", [("pickup", parcel, "08:20"), ("dropoff", parcel, "09:05")]),
    ])

    html = board_html(dispatcher)
    assert re.search(r'data-plan-status="done">已完成<', html)
    assert "Li Na" in html and "Zhao Lei" in html
    zhou = personas["nurse_zhou"]["worker_id"]
    assert f'<article class="route" data-worker="{zhou}"' not in html  # the older plan's route is not shown
    li = re.search(rf'data-worker="{personas["nurse_li"]["worker_id"]}".*?</article>', html, re.DOTALL).group(0)
    assert re.search(r'data-route="tasks">1<', li) and re.search(r'data-route="travel_minutes">25<', li)
    assert re.findall(r'data-stop-type="(\w+)"', li) == ["start", "visit", "end"]
    assert f'data-order="{visit.id}"' in li and "09:10" in li and "和平区" in li and "已排班" in li
    zhao = re.search(rf'data-worker="{personas["courier_zhao"]["worker_id"]}".*?</article>', html, re.DOTALL).group(0)
    assert re.search(r'data-route="tasks">1<', zhao)  # pickup and drop-off of one parcel: one task
    assert re.search(r'data-summary="assigned">2<', html)
    assert "Wang Fang" not in html and "Liu Yang" not in html and "1 Test Road" not in html


def test_the_board_lists_unassigned_tasks_with_their_reasons(dispatcher, rows):
    left_out = rows.care_order("accepted", district="hexi")
    rows.plan(unassigned=[
        {"task": f"visit-{left_out.id}", "reason": "no_worker_with_skills", "detail": "needs picc; no nurse in hexi has it"},
        {"task": "visit-999999", "reason": "time_window_unreachable", "detail": "window closes at 08:05"},
    ])
    html = board_html(dispatcher)
    row = re.search(r'<tr data-reason="no_worker_with_skills"[^>]*>.*?</tr>', html, re.DOTALL).group(0)
    assert f'data-order="{left_out.id}"' in row and "河西区" in row
    assert "没有具备所需技能的人员" in row and "needs picc; no nurse in hexi has it" in row
    other = re.search(r'<tr data-reason="time_window_unreachable"[^>]*>.*?</tr>', html, re.DOTALL).group(0)
    assert "data-order" not in other  # a task number that is no order is not shown as one
    assert re.search(r'data-summary="unassigned">2<', html)

    english = dispatcher.get(f"/admin/board?date={SERVICE_DATE}&lang=en").get_data(as_text=True)
    assert "No worker has the skills" in english and "Unassigned tasks" in english


def test_showing_a_plan_is_recorded_in_the_audit_log_with_ids_only(dispatcher, rows, personas):
    visit = rows.care_order("scheduled")
    plan = rows.plan(routes=[("nurse_li", [("visit", visit, "09:10")])])
    board_html(dispatcher)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "plan")).one()
    assert entry.actor_user_id == personas["dispatcher_sun"]["user_id"]
    assert (entry.action, entry.entity_id) == ("read", str(plan.id))
    assert entry.detail["order_ids"] == [visit.id]


def test_a_queued_plan_shows_its_status_and_no_routes_yet(dispatcher, rows):
    rows.plan(status="queued")
    html = board_html(dispatcher)
    assert 'data-plan-status="queued"' in html and "排班计算中" in html
    assert "<article" not in html


def test_open_sos_alarms_are_shown_first_in_a_red_banner(dispatcher, rows):
    rows.alarm("nurse_zhou", note="dog in the yard")
    rows.alarm("courier_zhao", note="handled already", acknowledged_by="dispatcher_sun")
    html = board_html(dispatcher)
    banner = re.search(r'<section class="sos-banner" role="alert".*?</section>', html, re.DOTALL)
    assert banner, "no SOS banner"
    assert "紧急求助：1 条未处理" in banner.group(0)
    assert "Zhou Min" in banner.group(0) and "dog in the yard" in banner.group(0) and "10:15" in banner.group(0)
    assert "Zhao Lei" not in banner.group(0)
    assert html.index("sos-banner") < html.index("<h1>")


def test_no_banner_without_open_alarms(dispatcher, rows):
    rows.alarm("nurse_zhou", acknowledged_by="dispatcher_sun")
    assert 'class="sos-banner"' not in board_html(dispatcher)


def test_the_default_date_is_today_in_the_hospitals_timezone(client, rows):
    rows.care_order("accepted")
    # 17:30 UTC on the 22nd is already 01:30 on the 23rd in Tianjin. (Sign in inside the
    # travel too: the session cookie's signature is timestamped.)
    with time_machine.travel(datetime(2026, 11, 22, 17, 30, tzinfo=UTC), tick=False):
        sign_in(client, "dispatcher_sun")
        html = client.get("/admin/board").get_data(as_text=True)
    assert 'value="2026-11-23"' in html
    assert count_cell(html, "accepted", "care") == "1"


def test_a_malformed_date_is_an_html_error_page(dispatcher):
    response = dispatcher.get("/admin/board?date=23/11/2026")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "输入有误" in html and "日期应为 YYYY-MM-DD 格式" in html


def test_plan_this_day_needs_the_csrf_token(dispatcher, rows):
    response = dispatcher.post("/admin/board/plan", data={"date": SERVICE_DATE})
    assert response.status_code == 400
    assert session.scalars(select(Plan)).first() is None


def test_plan_this_day_signed_out_goes_to_the_login_page(client, personas):
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/board/plan", data={"date": SERVICE_DATE, "csrf_token": token})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert session.scalars(select(Plan)).first() is None


@pytest.mark.skipif(importlib.util.find_spec("dispatch.service") is None, reason="dispatch.service not written yet")
def test_plan_this_day_queues_a_plan_and_says_so(dispatcher, rows, personas):
    rows.care_order("accepted")
    token = csrf_from(board_html(dispatcher))
    response = dispatcher.post("/admin/board/plan", data={"date": SERVICE_DATE, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/board?date={SERVICE_DATE}")

    session.expire_all()
    plan = session.scalars(select(Plan).where(Plan.date == SERVICE_DATE)).one()
    assert plan.status == "queued" and plan.requested_by == personas["dispatcher_sun"]["user_id"]
    html = board_html(dispatcher)
    assert f"已为 {SERVICE_DATE} 提交排班 #{plan.id}" in html
    assert 'data-plan-status="queued"' in html


def test_admin_errors_are_html_while_the_api_keeps_problem_json(client, personas):
    page = client.get("/admin/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "找不到页面" in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such-endpoint", headers=personas.headers("dispatcher_sun"))
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_desk_pages_are_not_cached_or_framed(dispatcher):
    response = dispatcher.get(f"/admin/board?date={SERVICE_DATE}")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_stylesheet_is_served_without_signing_in(client, personas):
    response = client.get("/admin/static/admin.css")
    assert response.status_code == 200 and "sos-banner" in response.get_data(as_text=True)
    response.close()


def _map_data(html: str) -> dict:
    import json

    found = re.search(r'<script type="application/json" id="board-map-data">(.*?)</script>', html, re.DOTALL)
    assert found, "no map data on the board"
    return json.loads(found.group(1))


def test_without_a_tile_server_the_map_has_no_tiles_and_the_policy_allows_no_other_origin(dispatcher):
    response = dispatcher.get("/admin/board")
    policy = response.headers["Content-Security-Policy"]
    assert "img-src" not in policy and "default-src 'self'" in policy
    data = _map_data(response.get_data(as_text=True))
    assert data["tiles"] is None and data["crs"] == "wgs84"
    assert len(data["districts"]["features"]) == 6


def test_a_gcj02_tile_server_gets_its_origin_in_the_policy_and_every_point_converted(dispatcher, hospital):
    plain = _map_data(board_html(dispatcher))
    hospital(tile_url="https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8", tile_crs="gcj02")
    response = dispatcher.get("/admin/board")
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("; img-src 'self' data: https://*.is.autonavi.com")
    data = _map_data(response.get_data(as_text=True))
    assert data["crs"] == "gcj02" and data["tiles"].startswith("https://webrd0{s}")
    wgs = plain["districts"]["features"][0]["geometry"]["coordinates"][0][0]
    gcj = data["districts"]["features"][0]["geometry"]["coordinates"][0][0]
    assert wgs != gcj and abs(wgs[0] - gcj[0]) < 0.01  # a few hundred metres off, as GCJ-02 is
