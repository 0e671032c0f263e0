"""The administration pages over the test client: who may open what, CSRF, and each form's effect.

Workers, catalogue, districts, users and the audit log; the same actions are driven
in Chromium in ``tests/admin/browser/test_administration.py``.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dispatch.models import Worker, WorkerAbsence
from doorstep.db import session
from doorstep.models import AuditEntry, User
from orders.models import CatalogueItem
from tests.admin.conftest import csrf_from, sign_in
from tests.factories import SERVICE_DATE

ADMIN_ONLY = ("/admin/catalogue", "/admin/catalogue/vital_signs_check", "/admin/users", "/admin/audit")
WORKER_PAGES = ("/admin/workers",)


@pytest.fixture
def admin(client, personas):  # type: ignore[no-untyped-def]
    """The test client, signed in as admin_root."""
    assert sign_in(client, "admin_root").status_code == 302
    return client


def _page(client, path: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def _post(client, path: str, data: dict | None = None, *, token_from: str = "/admin/districts"):  # type: ignore[no-untyped-def]
    token = csrf_from(_page(client, token_from))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def _worker(name: str) -> Worker | None:
    session.expire_all()
    return session.scalar(select(Worker).where(Worker.name == name))


def _item(code: str) -> CatalogueItem:
    session.expire_all()
    return session.scalar(select(CatalogueItem).where(CatalogueItem.code == code))


NEW_NURSE = {"kind": "nurse", "name": "Wu Jing", "skills": "basic_care, injection", "districts": ["heping", "hexi"],
             "home_lat": "39.1250", "home_lon": "117.2000", "title": "senior_nurse",
             "registration_number": "201812000303", "practice_began": "2018-09-01"}


# Who may open what ---------------------------------------------------------------------------

def test_pharmacists_and_dispatchers_get_403_on_the_admin_only_pages(client, personas):
    for username in ("pharmacist_chen", "dispatcher_sun"):
        with client.session_transaction() as cookie:
            cookie["user_id"] = personas[username]["user_id"]
        for path in ADMIN_ONLY:
            response = client.get(path)
            assert response.status_code == 403 and response.mimetype == "text/html", (username, path)
        token = csrf_from(_page(client, "/admin/districts"))
        for path, data in (("/admin/catalogue", {"code": "x_ray"}), ("/admin/users", {"username": "eve"}),
                           (f"/admin/users/{personas['nurse_li']['user_id']}/deactivate", {}),
                           ("/admin/catalogue/vital_signs_check/withdraw", {})):
            assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, (username, path)
    session.expire_all()
    assert session.get(User, personas["nurse_li"]["user_id"]).active
    assert _item("vital_signs_check").active


def test_a_pharmacist_gets_403_on_the_workers_pages_but_sees_the_districts(client, personas):
    assert sign_in(client, "pharmacist_chen").status_code == 302
    for path in ("/admin/workers", f"/admin/workers/{personas['nurse_li']['worker_id']}"):
        assert client.get(path).status_code == 403, path
    html = _page(client, "/admin/districts")
    assert 'href="/admin/workers"' not in html and 'href="/admin/users"' not in html
    assert 'href="/admin/districts"' in html


def test_the_navigation_shows_each_role_only_what_it_may_open(client, personas):
    expected = {"admin_root": {"/admin/workers", "/admin/catalogue", "/admin/districts", "/admin/users", "/admin/audit"},
                "dispatcher_sun": {"/admin/workers", "/admin/districts"},
                "pharmacist_chen": {"/admin/districts"}}
    for username, links in expected.items():
        with client.session_transaction() as cookie:
            cookie["user_id"] = personas[username]["user_id"]
        nav = re.search(r"<nav aria-label=[^>]*>(.*?)</nav>", _page(client, "/admin/districts"), re.DOTALL).group(1)
        shown = {path for path in re.findall(r'href="(/admin/[a-z]+)"', nav)} - {"/admin/board", "/admin/parcels"}
        assert shown == links, username
        for path in links:
            assert client.get(path).status_code == 200, (username, path)


def test_signed_out_visitors_are_sent_to_sign_in(client, personas):
    for path in (*ADMIN_ONLY, *WORKER_PAGES, "/admin/districts"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login?next=" in response.headers["Location"], path


def test_a_worker_id_that_does_not_exist_is_404(admin):
    assert admin.get("/admin/workers/999999").status_code == 404
    assert admin.get("/admin/catalogue/no_such_item").status_code == 404
    assert _post(admin, "/admin/workers/999999/off", {"date": SERVICE_DATE, "reason": "sick"}).status_code == 404


# CSRF ---------------------------------------------------------------------------------------

def test_every_administration_form_without_the_csrf_token_is_400_and_changes_nothing(admin, personas):
    worker_id = personas["nurse_li"]["worker_id"]
    before = session.scalar(select(Worker.version).where(Worker.id == worker_id))
    posts = (("/admin/workers", NEW_NURSE),
             (f"/admin/workers/{worker_id}", {**NEW_NURSE, "name": "Changed"}),
             (f"/admin/workers/{worker_id}/shifts", {"date": SERVICE_DATE, "start": "08:00", "end": "12:00"}),
             (f"/admin/workers/{worker_id}/off", {"date": SERVICE_DATE, "reason": "sick"}),
             ("/admin/catalogue", {"code": "x_ray", "name": "X", "name_zh": "X", "category": "basic",
                                   "duration_minutes": "30", "price": "10", "eligibility_rule": "none"}),
             ("/admin/catalogue/vital_signs_check/price", {"price": "99"}),
             ("/admin/catalogue/vital_signs_check/withdraw", {}),
             ("/admin/users", {"username": "eve_admin", "password": "long-enough-1", "role": "admin"}),
             (f"/admin/users/{personas['nurse_li']['user_id']}/deactivate", {}))
    for path, data in posts:
        assert admin.post(path, data=data).status_code == 400, path
        assert admin.post(path, data={**data, "csrf_token": "forged"}).status_code == 400, path
    session.expire_all()
    assert _worker("Wu Jing") is None and session.get(Worker, worker_id).version == before
    assert session.scalar(select(WorkerAbsence)) is None
    assert _item("vital_signs_check").active and len(_item("vital_signs_check").prices) == 1
    assert _item("x_ray") is None and session.scalar(select(User).where(User.username == "eve_admin")) is None
    assert session.get(User, personas["nurse_li"]["user_id"]).active


def test_every_form_on_the_administration_pages_carries_the_csrf_token(admin, personas):
    for path in ("/admin/workers", f"/admin/workers/{personas['nurse_li']['worker_id']}", "/admin/catalogue",
                 "/admin/catalogue/vital_signs_check", "/admin/users"):
        posts = re.findall(r'<form method="post".*?</form>', _page(admin, path), re.DOTALL)
        assert posts and all('name="csrf_token"' in form for form in posts), path


# Workers ------------------------------------------------------------------------------------

def test_a_dispatcher_creates_a_nurse_and_gives_her_a_shift_and_a_day_off(client, personas):
    assert sign_in(client, "dispatcher_sun").status_code == 302
    response = _post(client, "/admin/workers", NEW_NURSE)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    nurse = _worker("Wu Jing")
    assert response.headers["Location"].endswith(f"/admin/workers/{nurse.id}")
    assert (nurse.kind, nurse.skills, nurse.districts, nurse.title) == (
        "nurse", ["basic_care", "injection"], ["heping", "hexi"], "senior_nurse")
    assert (nurse.home_lat, nurse.registration_number) == (39.125, "201812000303")

    page = f"/admin/workers/{nurse.id}"
    assert _post(client, f"{page}/shifts", {"date": SERVICE_DATE, "start": "08:00", "end": "16:30",
                                            "version": str(nurse.version)}, token_from=page).status_code == 303
    nurse = _worker("Wu Jing")
    assert [(s.start.isoformat(), s.end.isoformat()) for s in nurse.shifts] == [
        (f"{SERVICE_DATE}T00:00:00+00:00", f"{SERVICE_DATE}T08:30:00+00:00")]  # 08:00–16:30 in Tianjin
    assert "08:00" in _page(client, page) and "16:30" in _page(client, page)

    assert _post(client, f"{page}/off", {"date": SERVICE_DATE, "reason": "sick"}, token_from=page).status_code == 303
    absence = session.scalar(select(WorkerAbsence).where(WorkerAbsence.worker_id == nurse.id))
    assert (absence.date, absence.reason, absence.recorded_by) == (SERVICE_DATE, "sick",
                                                                    personas["dispatcher_sun"]["user_id"])
    assert f'data-off="{SERVICE_DATE}"' in _page(client, page)

    shift_id = nurse.shifts[0].id
    assert _post(client, f"{page}/shifts/{shift_id}/remove", {"version": str(nurse.version)},
                 token_from=page).status_code == 303
    assert _worker("Wu Jing").shifts == []
    audited = {(e.action, e.entity) for e in session.scalars(select(AuditEntry))}
    assert {("create", "worker"), ("update", "worker"), ("create", "worker_absence")} <= audited


def test_a_worker_form_with_bad_fields_shows_each_error_next_to_its_field(admin):
    bad = {**NEW_NURSE, "name": "", "districts": ["atlantis"], "home_lat": "north", "title": "courier_chief"}
    response = _post(admin, "/admin/workers", bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("name", "home_lat", "title"):
        tag = re.search(rf'<(?:input|select) id="new-worker-{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="new-worker-{field}-error"' in tag, field
        assert f'id="new-worker-{field}-error"' in html, field
    assert _worker("") is None and _worker("Wu Jing") is None


def test_unknown_districts_are_refused_by_the_service_next_to_the_districts(admin):
    response = _post(admin, "/admin/workers", {**NEW_NURSE, "districts": ["atlantis"]})
    assert response.status_code == 422
    assert re.search(r'id="new-worker-districts-error">[^<]*atlantis', response.get_data(as_text=True))
    assert _worker("Wu Jing") is None


def test_a_shift_that_ends_before_it_starts_is_refused_next_to_its_end(admin, personas):
    worker_id = personas["nurse_zhou"]["worker_id"]
    page = f"/admin/workers/{worker_id}"
    before = [(s.start, s.end) for s in _worker("Zhou Min").shifts]
    response = _post(admin, f"{page}/shifts", {"date": SERVICE_DATE, "start": "16:00", "end": "08:00"}, token_from=page)
    assert response.status_code == 422
    assert 'id="shift-end-error"' in response.get_data(as_text=True)
    assert [(s.start, s.end) for s in _worker("Zhou Min").shifts] == before


def test_an_edit_on_an_old_version_is_not_applied_and_says_so(admin, personas):
    worker_id = personas["nurse_li"]["worker_id"]
    page = f"/admin/workers/{worker_id}"
    old = session.get(Worker, worker_id).version
    assert _post(admin, page, {**NEW_NURSE, "name": "Li Na", "registration_number": "201212000101",
                               "active": "on", "version": str(old)}, token_from=page).status_code == 303
    response = _post(admin, page, {**NEW_NURSE, "name": "Someone Else", "registration_number": "201212000101",
                                   "active": "on", "version": str(old)}, token_from=page)
    assert response.status_code == 303
    assert "有人刚修改过这位人员" in _page(admin, page)
    assert _worker("Li Na") is not None and _worker("Someone Else") is None


# Catalogue ----------------------------------------------------------------------------------

def test_an_admin_adds_an_item_with_a_rule_then_changes_its_price_and_withdraws_it(admin, personas):
    body = {"code": "wound_check", "name": "Wound check", "name_zh": "伤口检查", "category": "basic",
            "skills": "basic_care", "duration_minutes": "40", "price": "95.50", "eligibility_rule": "diagnosis_in",
            "eligibility_codes": "i50, E11", "preparation_notes_zh": "请准备病历。"}
    response = _post(admin, "/admin/catalogue", body)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    item = _item("wound_check")
    assert (item.price_fen, item.duration_minutes, item.eligibility) == (
        9550, 40, {"rule": "diagnosis_in", "codes": ["I50", "E11"]})
    assert item.preparation_notes_zh == "请准备病历。"

    page = "/admin/catalogue/wound_check"
    assert _post(admin, f"{page}/price", {"price": "120"}, token_from=page).status_code == 303
    item = _item("wound_check")
    assert item.price_fen == 12000 and [p.price_fen for p in item.prices] == [9550, 12000]
    assert item.prices[-1].set_by == personas["admin_root"]["user_id"]
    assert "¥120.00" in _page(admin, page) and "admin_root" in _page(admin, page)

    assert _post(admin, f"{page}/withdraw", token_from=page).status_code == 303
    assert not _item("wound_check").active
    assert "wound_check" not in [i["code"] for i in admin.get(
        "/api/v1/catalogue/services", headers=personas.headers("patient_wang")).get_json()]


def test_a_price_dated_in_the_future_joins_the_history_without_changing_todays(admin):
    page = "/admin/catalogue/vital_signs_check"
    before = _item("vital_signs_check").price_fen
    response = _post(admin, f"{page}/price", {"price": "1", "date": "2030-01-01", "start": "00:00"}, token_from=page)
    assert response.status_code == 303
    item = _item("vital_signs_check")
    assert item.price_fen == before and item.prices[-1].price_fen == 100


def test_bad_catalogue_input_is_refused_next_to_each_field(admin):
    page = "/admin/catalogue/vital_signs_check"
    response = _post(admin, f"{page}/price", {"price": "ten"}, token_from=page)
    assert response.status_code == 422 and 'id="price-price-error"' in response.get_data(as_text=True)
    response = _post(admin, f"{page}/price", {"price": "10", "date": "2020-01-01", "start": "08:00"}, token_from=page)
    assert response.status_code == 422 and 'id="price-date-error"' in response.get_data(as_text=True)
    response = _post(admin, page, {"name": "Vital signs", "name_zh": "生命体征", "category": "basic",
                                   "duration_minutes": "30", "eligibility_rule": "discharged_within_days",
                                   "eligibility_days": ""}, token_from=page)
    assert response.status_code == 422 and 'id="item-eligibility_days-error"' in response.get_data(as_text=True)
    response = _post(admin, "/admin/catalogue", {"code": "vital_signs_check", "name": "X", "name_zh": "X",
                                                 "category": "basic", "duration_minutes": "30", "price": "1",
                                                 "eligibility_rule": "none"})
    assert response.status_code == 422 and 'id="new-item-code-error"' in response.get_data(as_text=True)
    assert len(_item("vital_signs_check").prices) == 1


def test_editing_an_item_records_only_the_fields_that_changed(admin):
    page = "/admin/catalogue/vital_signs_check"
    item = _item("vital_signs_check")
    form = {"name": item.name, "name_zh": "生命体征监测（新）", "category": item.category,
            "skills": ", ".join(item.skills), "duration_minutes": str(item.duration_minutes),
            "eligibility_rule": item.eligibility["rule"], "eligibility_days": str(item.eligibility.get("days", "")),
            "eligibility_codes": ", ".join(item.eligibility.get("codes", [])),
            "preparation_notes": item.preparation_notes or "", "preparation_notes_zh": item.preparation_notes_zh or ""}
    assert _post(admin, page, form, token_from=page).status_code == 303
    assert _item("vital_signs_check").name_zh == "生命体征监测（新）"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "catalogue_item")).one()
    assert entry.detail == {"fields": ["name_zh"]}


# Districts ----------------------------------------------------------------------------------

def test_the_districts_page_draws_every_district_as_an_svg_path_and_lists_its_code(client, personas):
    assert sign_in(client, "dispatcher_sun").status_code == 302
    html = _page(client, "/admin/districts")
    for code in ("heping", "hexi", "nankai", "hedong", "hebei", "hongqiao"):
        assert re.search(rf'<g class="district" data-district="{code}">\s*<path d="M[\d.]+,[\d.]+ L', html), code
        assert f'<tr data-district="{code}">' in html
    assert "<script" not in html and "和平区" in html


# Users --------------------------------------------------------------------------------------

def test_an_admin_creates_a_pharmacist_who_can_then_sign_in(admin, personas, app):
    response = _post(admin, "/admin/users", {"username": "pharmacist_ma", "password": "a-long-password",
                                             "role": "pharmacist", "pharmacy_id": str(personas["pharmacy"]["nankai"])})
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    user = session.scalar(select(User).where(User.username == "pharmacist_ma"))
    assert (user.role, user.pharmacy_id, user.active) == ("pharmacist", personas["pharmacy"]["nankai"], True)
    assert 'data-user="pharmacist_ma"' in _page(admin, "/admin/users")
    other = app.test_client()
    assert sign_in(other, "pharmacist_ma", "a-long-password").status_code == 302


def test_a_user_form_refuses_a_taken_name_a_short_password_and_a_nurse_without_a_worker(admin):
    for data, field in (({"username": "dispatcher_sun", "password": "a-long-password", "role": "dispatcher"}, "username"),
                        ({"username": "new_one", "password": "short", "role": "dispatcher"}, "password"),
                        ({"username": "new_one", "password": "a-long-password", "role": "nurse"}, "worker_id"),
                        ({"username": "new_one", "password": "a-long-password", "role": "patient"}, "role")):
        response = _post(admin, "/admin/users", data)
        assert response.status_code == 422, data
        assert f'id="user-{field}-error"' in response.get_data(as_text=True), data
    assert session.scalar(select(User).where(User.username == "new_one")) is None


def test_a_deactivated_account_stops_at_once_and_an_admin_cannot_deactivate_themself(admin, personas, app):
    dispatcher = app.test_client()
    assert sign_in(dispatcher, "dispatcher_sun").status_code == 302
    assert _post(admin, f"/admin/users/{personas['dispatcher_sun']['user_id']}/deactivate").status_code == 303
    session.expire_all()
    assert not session.get(User, personas["dispatcher_sun"]["user_id"]).active
    assert dispatcher.get("/admin/workers").status_code == 302  # back to the sign-in page
    assert _post(admin, f"/admin/users/{personas['admin_root']['user_id']}/deactivate").status_code == 303
    assert "不能停用自己的账号" in _page(admin, "/admin/users")
    assert session.get(User, personas["admin_root"]["user_id"]).active
    assert _post(admin, "/admin/users/999999/deactivate").status_code == 404


# The audit log ------------------------------------------------------------------------------

def test_the_audit_log_filters_by_who_action_entity_and_date_and_reading_it_is_audited(admin, personas):
    page = f"/admin/workers/{personas['nurse_li']['worker_id']}"
    _post(admin, f"{page}/off", {"date": SERVICE_DATE, "reason": "training"}, token_from=page)
    html = _page(admin, "/admin/audit?who=admin_root&action=create&entity=worker_absence")
    rows = re.findall(r'<tr data-audit="\d+" data-action="(\w+)" data-entity="(\w+)">', html)
    assert rows == [("create", "worker_absence")]
    assert not re.findall(r'<tr data-audit', _page(admin, "/admin/audit?who=dispatcher_sun&entity=worker_absence"))
    assert not re.findall(r'<tr data-audit', _page(admin, "/admin/audit?date_to=2000-01-01"))
    reads = session.scalars(select(AuditEntry).where(AuditEntry.entity == "audit_log")).all()
    assert len(reads) == 3 and all(r.actor_user_id == personas["admin_root"]["user_id"] for r in reads)
    assert reads[0].detail["filters"] == {"who": "admin_root", "action": "create", "entity": "worker_absence"}


def test_the_audit_log_pages_fifty_at_a_time(admin, personas):
    session.add_all([AuditEntry(actor_user_id=personas["nurse_li"]["user_id"], action="read", entity="care_order",
                                entity_id=str(i)) for i in range(60)])
    session.commit()
    first = _page(admin, "/admin/audit?entity=care_order")
    second = _page(admin, "/admin/audit?entity=care_order&page=2")
    assert len(re.findall(r'<tr data-audit', first)) == 50 and 'rel="next"' in first
    assert len(re.findall(r'<tr data-audit', second)) == 10 and 'rel="prev"' in second


def test_a_bad_date_filter_is_refused_next_to_the_field_and_reads_nothing(admin):
    response = admin.get("/admin/audit?date_from=2026-13-40")
    assert response.status_code == 422 and 'id="audit-date_from-error"' in response.get_data(as_text=True)
    response = admin.get("/admin/audit?date_from=2026-11-20&date_to=2026-11-01")
    assert response.status_code == 422 and 'id="audit-date_to-error"' in response.get_data(as_text=True)
    assert session.scalar(select(AuditEntry).where(AuditEntry.entity == "audit_log")) is None


# Language per user --------------------------------------------------------------------------

def test_choosing_english_is_saved_to_the_account_and_follows_the_user(client, personas, app):
    assert sign_in(client, "dispatcher_sun").status_code == 302
    assert "人员管理" in _page(client, "/admin/workers")
    assert ">Workers</h1>" in _page(client, "/admin/workers?lang=en")
    session.expire_all()
    assert session.get(User, personas["dispatcher_sun"]["user_id"]).locale == "en"
    elsewhere = app.test_client()  # another device: no session language, the account's
    assert sign_in(elsewhere, "dispatcher_sun").status_code == 302
    assert ">Workers</h1>" in _page(elsewhere, "/admin/workers")

