"""The pharmacy desk over the test client: who sees what, the forms, their validation and CSRF.

The same actions are driven in a real browser in ``tests/admin/browser``; here each
rule is checked on its own, and the database after each.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from admin.parcels import STATUSES
from doorstep.db import session
from doorstep.models import AuditEntry
from orders.models import DeliveryOrder, OrderEvent
from orders.states import DELIVERY_ORDER
from tests.admin.conftest import csrf_from, sign_in
from tests.factories import SERVICE_DATE, at


def _status(order_id: int) -> str:
    session.expire_all()
    return session.get(DeliveryOrder, order_id).status


def _page(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _post(client, path: str, data: dict | None = None, *, token_from: str = "/admin/parcels"):  # type: ignore[no-untyped-def]
    token = csrf_from(_page(client, token_from))
    return client.post(path, data={"csrf_token": token, **(data or {})})


# Who may open what ---------------------------------------------------------------------------

def test_a_pharmacist_cannot_open_the_dispatcher_board(pharmacist):
    response = pharmacist.get(f"/admin/board?date={SERVICE_DATE}")
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "无权访问" in response.get_data(as_text=True)
    assert _post(pharmacist, "/admin/board/plan", {"date": SERVICE_DATE}).status_code == 403


def test_the_review_queue_shows_my_pharmacys_parcels_awaiting_review_only(pharmacist, rows):
    mine = rows.delivery_order("awaiting_review")
    other_pharmacy = rows.delivery_order("awaiting_review", pharmacy="nankai")
    released = rows.delivery_order("ready")
    html = _page(pharmacist, "/admin/parcels")
    assert f'data-parcel="{mine.id}"' in html and mine.tracking_code in html
    assert other_pharmacy.tracking_code not in html and released.tracking_code not in html
    assert "Liu Y." in html and "Liu Yang" not in html  # the name shortened, as on the label
    assert re.search(r'data-count="review">1<', html)
    assert 'data-action="approve"' in html and 'data-action="reject"' in html


def test_another_pharmacys_parcel_is_404_on_every_page_and_action(pharmacist, rows):
    theirs = rows.delivery_order("awaiting_review", pharmacy="nankai")
    failed = rows.delivery_order("failed", pharmacy="nankai")
    for path in (f"/admin/parcels/{theirs.id}", f"/admin/parcels/{theirs.id}/label", "/admin/parcels/999999"):
        assert pharmacist.get(path).status_code == 404, path
    assert _post(pharmacist, f"/admin/parcels/{theirs.id}/approve").status_code == 404
    assert _post(pharmacist, f"/admin/parcels/{theirs.id}/reject", {"reason": "x"}).status_code == 404
    assert _post(pharmacist, f"/admin/parcels/{failed.id}/return", {"reason": "x"}).status_code == 404
    assert _post(pharmacist, f"/admin/parcels/{failed.id}/redeliver",
                 {"date": SERVICE_DATE, "start": "14:00", "end": "18:00"}).status_code == 404
    assert _status(theirs.id) == "awaiting_review" and _status(failed.id) == "failed"


def test_a_dispatcher_reads_every_pharmacys_parcels_but_changes_none(dispatcher, rows):
    heping = rows.delivery_order("awaiting_review")
    nankai = rows.delivery_order("failed", pharmacy="nankai")
    queue = _page(dispatcher, "/admin/parcels")
    assert heping.tracking_code in queue and "Heping Hospital Pharmacy" in queue
    assert 'data-action="approve"' not in queue and "调度员在此仅可查看" in queue
    assert 'data-action="redeliver"' not in _page(dispatcher, "/admin/parcels/failed")
    assert _page(dispatcher, f"/admin/parcels/{nankai.id}")
    assert dispatcher.get(f"/admin/parcels/{nankai.id}/label").mimetype == "application/pdf"
    assert _post(dispatcher, f"/admin/parcels/{heping.id}/approve").status_code == 403
    assert _post(dispatcher, f"/admin/parcels/{nankai.id}/return", {"reason": "x"}).status_code == 403
    assert _status(heping.id) == "awaiting_review" and _status(nankai.id) == "failed"


def test_nurses_and_admins_get_403_and_signed_out_visitors_the_login_page(client, personas):
    assert "/admin/login?next=" in client.get("/admin/parcels").headers["Location"]
    for username in ("nurse_li", "admin_root"):
        with client.session_transaction() as cookie:
            cookie["user_id"] = personas[username]["user_id"]
        assert client.get("/admin/parcels").status_code == 403, username


# Review -------------------------------------------------------------------------------------

def test_approving_releases_the_parcel_and_records_the_reviewer(pharmacist, rows, personas):
    parcel = rows.delivery_order("awaiting_review")
    response = _post(pharmacist, f"/admin/parcels/{parcel.id}/approve", {"back": "/admin/parcels"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/parcels")
    session.expire_all()
    order = session.get(DeliveryOrder, parcel.id)
    assert order.status == "ready" and order.reviewed_by == personas["pharmacist_chen"]["user_id"]
    html = _page(pharmacist, "/admin/parcels")
    assert f"{parcel.tracking_code} 已审方通过" in html and f'data-parcel="{parcel.id}"' not in html


def test_a_rejection_without_a_reason_is_refused_next_to_the_field(pharmacist, rows):
    parcel = rows.delivery_order("awaiting_review")
    response = _post(pharmacist, f"/admin/parcels/{parcel.id}/reject", {"reason": "   "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = re.search(rf'<textarea id="reject-reason-{parcel.id}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and f'aria-describedby="reject-reason-{parcel.id}-error"' in field
    assert re.search(rf'id="reject-reason-{parcel.id}-error">请填写原因。<', html)
    assert _status(parcel.id) == "awaiting_review"


def test_a_rejection_with_a_reason_is_recorded_in_the_history(pharmacist, rows):
    parcel = rows.delivery_order("awaiting_review")
    response = _post(pharmacist, f"/admin/parcels/{parcel.id}/reject", {"reason": "Dose exceeds the maximum"})
    assert response.status_code == 303
    assert _status(parcel.id) == "rejected"
    event = session.scalars(select(OrderEvent).where(OrderEvent.order_id == parcel.id)
                            .order_by(OrderEvent.id.desc())).first()
    assert (event.to_status, event.reason) == ("rejected", "Dose exceeds the maximum")
    assert "Dose exceeds the maximum" in _page(pharmacist, f"/admin/parcels/{parcel.id}")


def test_approving_a_parcel_someone_already_reviewed_says_so_and_changes_nothing(pharmacist, rows):
    parcel = rows.delivery_order("rejected")
    response = _post(pharmacist, f"/admin/parcels/{parcel.id}/approve")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/parcels/{parcel.id}")
    assert "这个包裹的状态已经变了" in _page(pharmacist, f"/admin/parcels/{parcel.id}")
    assert _status(parcel.id) == "rejected"


def test_two_person_review_refuses_the_pharmacist_who_created_the_order(pharmacist, rows, personas, hospital):
    hospital(review_two_person=True)
    parcel = rows.delivery_order("awaiting_review")
    session.get(DeliveryOrder, parcel.id).created_by = personas["pharmacist_chen"]["user_id"]
    session.commit()
    _post(pharmacist, f"/admin/parcels/{parcel.id}/approve")
    assert "双人审方" in _page(pharmacist, f"/admin/parcels/{parcel.id}")
    assert _status(parcel.id) == "awaiting_review"


# CSRF ---------------------------------------------------------------------------------------

def test_every_desk_form_without_the_csrf_token_is_400_and_changes_nothing(pharmacist, rows):
    waiting = rows.delivery_order("awaiting_review")
    failed = rows.delivery_order("failed")
    for path, data in ((f"/admin/parcels/{waiting.id}/approve", {}),
                       (f"/admin/parcels/{waiting.id}/reject", {"reason": "x"}),
                       (f"/admin/parcels/{failed.id}/redeliver", {"date": SERVICE_DATE, "start": "14:00", "end": "18:00"}),
                       (f"/admin/parcels/{failed.id}/return", {"reason": "x"})):
        assert pharmacist.post(path, data=data).status_code == 400, path
        assert pharmacist.post(path, data={**data, "csrf_token": "forged"}).status_code == 400, path
    assert _status(waiting.id) == "awaiting_review" and _status(failed.id) == "failed"


def test_every_form_on_the_desk_carries_the_csrf_token(pharmacist, rows):
    rows.delivery_order("awaiting_review")
    failed = rows.delivery_order("failed")
    for path in ("/admin/parcels", "/admin/parcels/failed", f"/admin/parcels/{failed.id}"):
        html = _page(pharmacist, path)
        posts = re.findall(r'<form method="post".*?</form>', html, re.DOTALL)
        assert posts, path
        assert all('name="csrf_token"' in form for form in posts), path


# After a failed delivery --------------------------------------------------------------------

def test_redelivering_a_failed_parcel_puts_it_back_to_ready_on_the_new_window(pharmacist, rows):
    parcel = rows.delivery_order("failed")
    response = _post(pharmacist, f"/admin/parcels/{parcel.id}/redeliver",
                     {"date": "2026-11-24", "start": "09:00", "end": "12:00", "back": "/admin/parcels/failed"},
                     token_from="/admin/parcels/failed")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/parcels/failed")
    session.expire_all()
    order = session.get(DeliveryOrder, parcel.id)
    assert order.status == "ready" and order.service_date == "2026-11-24"
    assert order.window_start == at("09:00", "2026-11-24") and order.window_end == at("12:00", "2026-11-24")


def test_a_bad_redelivery_window_is_shown_next_to_its_field(pharmacist, rows):
    parcel = rows.delivery_order("failed")
    response = _post(pharmacist, f"/admin/parcels/{parcel.id}/redeliver",
                     {"date": "2026-11-24", "start": "12:00", "end": "09:00"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="redeliver-{parcel.id}-end-error">时间窗口无效：必须晚于开始时间。<', html)
    assert 'value="12:00"' in html  # what was typed is kept
    past = _post(pharmacist, f"/admin/parcels/{parcel.id}/redeliver",
                 {"date": "2026-11-19", "start": "09:00", "end": "12:00"})
    assert past.status_code == 422 and "时间窗口无效：已经过去了。" in past.get_data(as_text=True)
    garbled = _post(pharmacist, f"/admin/parcels/{parcel.id}/redeliver", {"date": "tomorrow", "start": "9", "end": ""})
    assert garbled.status_code == 422
    assert re.search(rf'id="redeliver-{parcel.id}-date-error"', garbled.get_data(as_text=True))
    assert _status(parcel.id) == "failed"


def test_returning_needs_a_reason_and_then_returns_the_parcel(pharmacist, rows):
    parcel = rows.delivery_order("failed")
    refused = _post(pharmacist, f"/admin/parcels/{parcel.id}/return", {"reason": ""})
    assert refused.status_code == 422
    assert re.search(rf'id="return-reason-{parcel.id}-error">', refused.get_data(as_text=True))
    assert _status(parcel.id) == "failed"
    assert _post(pharmacist, f"/admin/parcels/{parcel.id}/return", {"reason": "Patient moved away"}).status_code == 303
    assert _status(parcel.id) == "returned"


def test_only_a_failed_parcel_is_redelivered(pharmacist, rows):
    parcel = rows.delivery_order("ready")
    response = _post(pharmacist, f"/admin/parcels/{parcel.id}/redeliver",
                     {"date": "2026-11-24", "start": "09:00", "end": "12:00"})
    assert response.status_code == 303
    assert _status(parcel.id) == "ready" and session.get(DeliveryOrder, parcel.id).service_date == SERVICE_DATE


# Lists, search, label -----------------------------------------------------------------------

def test_search_finds_my_parcel_by_tracking_code_prescription_or_phone_and_is_audited(pharmacist, rows, personas):
    parcel = rows.delivery_order("ready")
    rows.delivery_order("ready", pharmacy="nankai")  # same patient, another pharmacy: never found
    for q in (parcel.tracking_code.lower(), parcel.prescription_ref, "+86 138-0000-0002"):
        html = _page(pharmacist, f"/admin/parcels/all?q={q.replace('+', '%2B')}")
        assert re.findall(r'<tr data-parcel="(\d+)"', html) == [str(parcel.id)], q
    assert "没有符合条件的包裹" in _page(pharmacist, "/admin/parcels/all?q=DSNOSUCHCODE1")
    searches = session.scalars(select(AuditEntry).where(AuditEntry.action == "search")).all()
    assert len(searches) == 4 and all("138" not in str(entry.detail) for entry in searches)


def test_the_list_filters_by_status_and_date(pharmacist, rows):
    ready = rows.delivery_order("ready")
    failed = rows.delivery_order("failed")
    later = rows.delivery_order("ready", date="2026-11-24")
    html = _page(pharmacist, f"/admin/parcels/all?status=ready&date={SERVICE_DATE}")
    assert re.findall(r'<tr data-parcel="(\d+)"', html) == [str(ready.id)]
    everything = _page(pharmacist, "/admin/parcels/all")
    assert set(re.findall(r'<tr data-parcel="(\d+)"', everything)) == {str(ready.id), str(failed.id), str(later.id)}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.detail.is_not(None))
                            .order_by(AuditEntry.id.desc())).first()
    assert entry.detail["view"] == "admin_parcels" and sorted(entry.detail["order_ids"]) == sorted(
        [ready.id, failed.id, later.id])


def test_the_label_opens_as_a_pdf_in_a_new_tab(pharmacist, rows):
    parcel = rows.delivery_order("awaiting_review")
    html = _page(pharmacist, "/admin/parcels")
    link = re.search(rf'<a href="/admin/parcels/{parcel.id}/label" target="_blank" rel="noopener"', html)
    assert link, "no label link opening in a new tab"
    response = pharmacist.get(f"/admin/parcels/{parcel.id}/label")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_the_desk_speaks_english_on_request(pharmacist, rows):
    rows.delivery_order("awaiting_review")
    html = _page(pharmacist, "/admin/parcels?lang=en")
    assert '<html lang="en">' in html and "Parcels awaiting review" in html and "Approve DSTEST" in html
    assert "Pharmacy desk" in html and "Board" not in html  # no link to a page the pharmacist may not open


def test_the_status_filter_offers_every_delivery_status():
    assert set(STATUSES) == set(DELIVERY_ORDER.states)


def test_a_pharmacist_can_sign_in_with_a_return_path_to_a_parcel(client, rows, personas):
    parcel = rows.delivery_order("awaiting_review")
    response = sign_in(client, "pharmacist_chen", next=f"/admin/parcels/{parcel.id}")
    assert response.headers["Location"].endswith(f"/admin/parcels/{parcel.id}")
