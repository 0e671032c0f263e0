"""The dispatcher's board in Chromium: the map with its districts and routes, the timelines,
steering a task (move, pin, unassign), re-planning a district, marking a worker off, deciding a
visit-verification exception, and an SOS arriving from the live feed while the page is open.
The database is read after each action. The day is planned by the real optimiser first."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from dispatch.models import Alarm, Plan, Stop, WorkerAbsence
from dispatch.service import request_plan, run_plan
from doorstep.db import session
from mobile_api.models import EvvException
from tests.dispatch.service_helpers import accepted_visit, actor_of, routes_by_worker, status_of
from tests.factories import SERVICE_DATE

BOARD = f"/admin/board?date={SERVICE_DATE}"
DOCS_SHOT = Path(__file__).resolve().parents[3] / "docs" / "screenshots" / "board.png"


def _fresh() -> None:
    """End this thread's read transaction (SQLite snapshots) so the server's commits show."""
    session.rollback()
    session.expire_all()


def _planned_day(personas, hospital) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    hospital(max_open_care_orders=10)
    visits = [accepted_visit(personas, patient="patient_liu", window=("09:00", "12:00")),
              accepted_visit(personas, patient="patient_liu", window=("13:00", "16:00")),
              accepted_visit(personas, patient="patient_wang", window=("09:00", "12:00"))]
    plan = request_plan(actor_of(personas, "dispatcher_sun"), date=SERVICE_DATE)
    session.commit()
    done = run_plan(plan.id)
    assert done is not None and done.status == "done", done.error
    return done.id, visits


def _worker_of(plan_id: int, order_id: int) -> int | None:
    _fresh()
    return next((w for w, orders in routes_by_worker(plan_id).items() if order_id in orders), None)


def test_the_map_shows_districts_and_routes_and_the_timelines_windows(desk, personas, hospital):
    plan_id, visits = _planned_day(personas, hospital)
    desk.sign_in("dispatcher_sun")
    desk.goto(BOARD)
    districts = desk.page.locator("#board-map path.district-shape")
    expect(districts.first).to_be_visible()
    assert districts.count() == 6  # Tianjin's six central districts
    expect(desk.page.locator("#board-map path.route-line").first).to_be_attached()
    assert desk.page.locator("#board-map path.route-line").count() == len(routes_by_worker(plan_id))
    assert desk.page.locator("#board-map path.stop-marker").count() == len(visits)
    # Timelines: one row per route with the worker's shift, each task's window and planned time.
    rows = desk.page.locator(".timeline-row[data-worker]")
    assert rows.count() == len(routes_by_worker(plan_id))
    for order_id in visits:
        expect(desk.page.locator(f'rect.tl-window[data-order="{order_id}"]')).to_have_count(1)
        expect(desk.page.locator(f'rect.tl-task[data-order="{order_id}"]')).to_have_count(1)
    expect(desk.page.locator("rect.tl-shift").first).to_be_attached()
    expect(desk.page.locator("#live-status")).to_have_attribute("data-state", "on")
    shot = desk.shot("board")
    DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
    if not DOCS_SHOT.exists():
        shutil.copy(shot, DOCS_SHOT)


def test_a_dispatcher_moves_pins_and_unassigns_a_task(desk, personas, hospital):
    plan_id, visits = _planned_day(personas, hospital)
    visit = visits[0]  # patient Liu, Nankai: nurse Li or nurse Zhou
    li, zhou = personas["nurse_li"]["worker_id"], personas["nurse_zhou"]["worker_id"]
    first = _worker_of(plan_id, visit)
    other = zhou if first == li else li
    desk.sign_in("dispatcher_sun")
    desk.goto(BOARD)

    form = desk.page.locator(f'form[data-steer="{visit}"]')
    form.get_by_label(f"Worker for order #{visit}").select_option(str(other))
    form.locator('[data-action="move"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"Order #{visit} moved")
    assert _worker_of(plan_id, visit) == other
    desk.shot("moved")

    form = desk.page.locator(f'form[data-steer="{visit}"]')
    form.get_by_label(f"Worker for order #{visit}").select_option(str(first))
    form.locator('[data-action="pin"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"Order #{visit} pinned")
    assert _worker_of(plan_id, visit) == first
    assert session.get(Plan, plan_id).summary["pins"] == {str(visit): first}
    desk.shot("pinned")

    desk.page.locator(f'form[data-steer="{visit}"] [data-action="unassign"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"Order #{visit} unassigned")
    assert _worker_of(plan_id, visit) is None and status_of(visit) == "accepted"
    expect(desk.page.locator(f'.map-side li[data-order="{visit}"]')).to_contain_text("Unassigned by a dispatcher")
    expect(desk.page.locator("#board-map path.unassigned-marker")).to_have_count(1)
    desk.shot("unassigned")

    # Nurse Zhou serves only Nankai: patient Wang's Heping visit is refused, nothing changes.
    wang = visits[2]
    form = desk.page.locator(f'form[data-steer="{wang}"]')
    form.get_by_label(f"Worker for order #{wang}").select_option(str(zhou))
    form.locator('[data-action="pin"]').click()
    expect(desk.page.locator(".flash-error")).to_contain_text("not working in this district")
    assert _worker_of(plan_id, wang) == li
    desk.shot("refused")


def test_a_task_is_moved_with_the_keyboard_alone(desk, personas, hospital):
    """Tab through the board (past the map and the live list) to a task's worker, choose another
    with the arrow keys, Tab to Move and press Enter: no trap, every step focusable."""
    plan_id, visits = _planned_day(personas, hospital)
    visit = visits[0]
    li, zhou = personas["nurse_li"]["worker_id"], personas["nurse_zhou"]["worker_id"]
    other = zhou if _worker_of(plan_id, visit) == li else li
    desk.sign_in("dispatcher_sun")
    desk.goto(BOARD)
    focused = "document.activeElement.id"
    for _ in range(300):
        desk.page.keyboard.press("Tab")
        if desk.page.evaluate(focused) == f"steer-{visit}":
            break
    else:
        raise AssertionError(f"Tab never reached the worker of order #{visit}")
    for _ in range(5):
        if desk.page.evaluate("document.activeElement.value") == str(other):
            break
        desk.page.keyboard.press("ArrowDown" if desk.page.evaluate(
            "document.activeElement.selectedIndex < document.activeElement.options.length - 1") else "ArrowUp")
    assert desk.page.evaluate("document.activeElement.value") == str(other)
    desk.page.keyboard.press("Tab")
    assert desk.page.evaluate("document.activeElement.dataset.action") == "move"
    desk.shot("move-focused")
    with desk.page.expect_navigation():
        desk.page.keyboard.press("Enter")
    expect(desk.page.locator(".flash")).to_contain_text(f"Order #{visit} moved")
    assert _worker_of(plan_id, visit) == other


def test_a_dispatcher_replans_a_district_and_marks_a_worker_off(desk, personas, hospital):
    plan_id, _ = _planned_day(personas, hospital)
    zhou = personas["nurse_zhou"]["worker_id"]
    desk.sign_in("dispatcher_sun")
    desk.goto(BOARD)

    replan = desk.page.locator('form[data-form="replan"]')
    replan.get_by_label("Districts").select_option("nankai")
    replan.get_by_label("Allow scheduled tasks to move to other workers").check()
    replan.locator('[data-action="replan"]').click()
    expect(desk.page.locator(".flash")).to_contain_text("Re-plan of Nankai queued")
    _fresh()
    assert session.get(Plan, plan_id).allow_reassign is True
    desk.shot("replan-queued")

    off = desk.page.locator('form[data-form="worker-off"]')
    off.get_by_label("Worker").select_option(str(zhou))
    off.get_by_label("Reason").select_option("sick")
    off.locator('[data-action="worker-off"]').click()
    expect(desk.page.locator(".flash")).to_contain_text("Marked off")
    _fresh()
    absence = session.scalar(select(WorkerAbsence).where(WorkerAbsence.worker_id == zhou))
    assert absence is not None and absence.date == SERVICE_DATE and absence.reason == "sick"
    assert absence.recorded_by == personas["dispatcher_sun"]["user_id"]
    expect(desk.page.locator(f'#off-worker option[value="{zhou}"]')).to_be_disabled()
    desk.shot("worker-off")


def test_a_dispatcher_approves_an_exception_and_sees_an_sos_arrive_live(desk, client, personas, hospital):
    _, visits = _planned_day(personas, hospital)
    stop = session.scalar(select(Stop).where(Stop.order_id == visits[2], Stop.type == "visit"))
    exception = EvvException(kind="far_from_door", stop_id=stop.id, order_id=visits[2],
                             worker_id=personas["nurse_li"]["worker_id"], event_type="arrive", distance_m=420,
                             dedupe_key=f"far_from_door:{stop.id}:arrive")
    session.add(exception)
    session.commit()
    desk.sign_in("dispatcher_sun")
    desk.goto(BOARD)

    card = desk.page.locator(f'li.evv-card[data-exception="{exception.id}"]')
    card.locator('[data-action="approve"]').click()  # the reason is required: the browser refuses
    _fresh()
    assert session.get(EvvException, exception.id).status == "open"
    card.get_by_label("Why (required)").fill("Parked across the road; the patient confirmed the visit")
    card.locator('[data-action="approve"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"Exception #{exception.id} approved")
    _fresh()
    decided = session.get(EvvException, exception.id)
    assert decided.status == "approved" and decided.decided_by == personas["dispatcher_sun"]["user_id"]
    expect(desk.page.locator('[data-empty="evv"]')).to_be_visible()
    desk.shot("exception-approved")

    # The board is open and connected; a nurse presses SOS through the API; it appears without a reload.
    expect(desk.page.locator("#live-status")).to_have_attribute("data-state", "on")
    response = client.post("/api/v1/mobile/sos", json={"lat": 39.1201, "lon": 117.1987, "note": "dog bite"},
                           headers=personas.headers("nurse_li"))
    assert response.status_code == 201, response.get_json()
    alarm_id = response.get_json()["id"]
    expect(desk.page.locator(f'#live-events li[data-live-sos="{alarm_id}"]')).to_contain_text("SOS!")
    expect(desk.page.locator(f'#sos-list li[data-alarm="{alarm_id}"]')).to_be_visible()
    expect(desk.page.locator("section.sos-banner")).to_be_visible()
    _fresh()
    assert session.get(Alarm, alarm_id).acknowledged_by is None
    desk.shot("sos-live")

    # A new exception from the field joins the live list as it is committed.
    late = EvvException(kind="missed_check_out", stop_id=stop.id, order_id=visits[2],
                        worker_id=personas["nurse_li"]["worker_id"], dedupe_key=f"missed_check_out:{visits[2]}")
    session.add(late)
    session.commit()
    expect(desk.page.locator(f'#live-events li[data-live-exception="{late.id}"]')).to_contain_text("Missed check-out")

    desk.page.reload()  # without the script the alarm is in the server-rendered banner: acknowledge it
    desk.page.locator(f'#sos-list li[data-alarm="{alarm_id}"] [data-action="acknowledge"]').click()
    expect(desk.page.locator(".flash")).to_contain_text(f"Alarm #{alarm_id} acknowledged")
    _fresh()
    assert session.get(Alarm, alarm_id).acknowledged_by == personas["dispatcher_sun"]["user_id"]


def test_the_board_on_a_tablet_in_chinese_without_sideways_scrolling(tablet, personas, hospital):
    _planned_day(personas, hospital)
    tablet.sign_in("dispatcher_sun", lang="zh")
    tablet.goto(BOARD)
    expect(tablet.page.locator("h1")).to_contain_text("调度看板")
    expect(tablet.page.locator("#board-map path.route-line").first).to_be_attached()
    assert tablet.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    unlabelled = tablet.page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea, button')].filter((el) =>
        !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim()
        && !el.closest('.leaflet-container')).map((el) => el.outerHTML)""")
    assert unlabelled == []
    tablet.shot("tablet-zh")


def test_a_pharmacist_gets_403_on_the_board_and_its_actions(desk, personas):
    desk.sign_in("pharmacist_chen")
    assert desk.goto(BOARD).status == 403
    response = desk.page.request.post(desk.url("/admin/board/feed-token"), form={"csrf_token": "x"})
    assert response.status in (400, 403)
    assert re.search("Not allowed", desk.page.content())
