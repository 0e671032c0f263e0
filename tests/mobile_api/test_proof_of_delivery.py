"""Proof of delivery: the seal from pickup, the patient's one-time code or a signature/photo,
the cold-chain log with its excursion; proof files served only to the pharmacy, the office and
the patient, each read audited."""
from __future__ import annotations

import io

import pytest

from dispatch.models import Stop, StopEvent
from doorstep.models import AuditEntry
from mobile_api.models import EvvException, ProofFile
from orders.models import DeliveryOrder
from tests.factories import iso
from tests.mobile_api.helpers import count, fresh, order_status

PHARMACY = {"lat": 39.1270, "lon": 117.2050}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
COLD_LOG = [{"at": iso("12:52"), "celsius": 4.0}, {"at": iso("13:05"), "celsius": 5.5}]


@pytest.fixture
def at_the_door(day, report):  # type: ignore[no-untyped-def]
    """The parcel picked up with seal SEAL-77 and the courier arrived at patient_wang's door."""
    assert report("courier_zhao", day.stops["zhao_pickup"], "pickup", at="12:52", seal_code="seal-77",
                  **PHARMACY).status_code == 201
    assert report("courier_zhao", day.stops["zhao_dropoff"], "arrive", at="13:10").status_code == 201
    return day


def code_of(client, personas, day, who="patient_wang"):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/orders/{day.parcel_id}", headers=personas.headers(who))
    return response.get_json().get("delivery_code") if response.status_code == 200 else response.status_code


def deliver(report, day, **proof):  # type: ignore[no-untyped-def]
    body = {"recipient_name": "Wang Fang", "seal_code": "SEAL-77", "temperature_log": COLD_LOG, **proof}
    return report("courier_zhao", day.stops["zhao_dropoff"], "deliver", at="13:12", proof=body)


def upload(client, personas, who, stop_id, data, kind="signature", name="sig.png"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/mobile/stops/{stop_id}/proof", data={"kind": kind, "file": (io.BytesIO(data), name)},
                       headers=personas.headers(who), content_type="multipart/form-data")


def test_the_code_is_shown_to_the_owner_only_once_out_for_delivery(client, personas, day, report) -> None:
    report("courier_zhao", day.stops["zhao_pickup"], "pickup", seal_code="S", **PHARMACY)
    assert code_of(client, personas, day) is None  # picked up, not yet on its way

    report("courier_zhao", day.stops["zhao_dropoff"], "depart")

    code = code_of(client, personas, day)
    assert isinstance(code, str) and len(code) == 6 and code.isdigit()
    assert code_of(client, personas, day, "pharmacist_chen") is None
    assert code_of(client, personas, day, "dispatcher_sun") is None
    assert code_of(client, personas, day, "courier_zhao") is None
    assert code_of(client, personas, day, "patient_liu") == 404


def test_the_right_code_and_seal_deliver_and_the_code_is_used_up(client, personas, at_the_door, report) -> None:
    code = code_of(client, personas, at_the_door)

    delivered = deliver(report, at_the_door, code=code)

    assert delivered.status_code == 201 and order_status(at_the_door.parcel_id) == "delivered"
    assert code_of(client, personas, at_the_door) is None
    proof = client.get(f"/api/v1/orders/{at_the_door.parcel_id}/proof", headers=personas.headers("patient_wang"))
    body = proof.get_json()
    assert (body["recipient_name"], body["method"], body["seal_code"], body["seal_at_pickup"]) == (
        "Wang Fang", "code", "SEAL-77", "SEAL-77")
    assert body["excursion_minutes"] is None and len(body["temperature_log"]) == 2


def test_a_wrong_code_is_422_changes_nothing_and_five_lock_it(client, personas, at_the_door, report) -> None:
    code = code_of(client, personas, at_the_door)
    wrong = "000000" if code != "000000" else "111111"

    answers = [deliver(report, at_the_door, code=wrong) for _ in range(5)]

    assert [a.status_code for a in answers] == [422] * 5
    assert all(list(a.get_json()["errors"]) == ["proof.code"] for a in answers)
    assert "4 tries left" in answers[0].get_json()["errors"]["proof.code"][0]
    assert order_status(at_the_door.parcel_id) == "out_for_delivery"
    assert fresh(Stop, at_the_door.stops["zhao_dropoff"]).status == "arrived"
    assert count(StopEvent, StopEvent.type == "deliver") == 0
    locked = deliver(report, at_the_door, code=code)
    assert locked.status_code == 409 and "proof.code" in locked.get_json()["errors"]
    assert code_of(client, personas, at_the_door) is None

    photo = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], JPEG, "photo", "door.jpg")
    assert photo.status_code == 201
    by_photo = deliver(report, at_the_door, file_ids=[photo.get_json()["id"]])
    assert by_photo.status_code == 201 and order_status(at_the_door.parcel_id) == "delivered"


@pytest.mark.parametrize("proof, field", [
    ({"recipient_name": None}, "proof.recipient_name"),
    ({"seal_code": "SEAL-78"}, "proof.seal_code"),
    ({"seal_code": None}, "proof.seal_code"),
    ({"temperature_log": None}, "proof.temperature_log"),
    ({"file_ids": [999_999]}, "proof.file_ids"),
    ({}, "proof"),
])
def test_incomplete_proof_is_422_naming_the_field(client, personas, at_the_door, report, proof, field) -> None:
    code = code_of(client, personas, at_the_door)
    if field != "proof":
        proof = {"code": code, **proof}
    body = {k: v for k, v in {"recipient_name": "Wang Fang", "seal_code": "SEAL-77", "temperature_log": COLD_LOG,
                              **proof}.items() if v is not None}

    response = report("courier_zhao", at_the_door.stops["zhao_dropoff"], "deliver", proof=body)

    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    assert order_status(at_the_door.parcel_id) == "out_for_delivery"


def test_a_pickup_needs_the_seal(personas, day, report) -> None:
    response = report("courier_zhao", day.stops["zhao_pickup"], "pickup", **PHARMACY)

    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["seal_code"]
    assert order_status(day.parcel_id) == "scheduled"


def test_a_cold_chain_excursion_is_flagged_on_the_order_and_queued_but_delivered(
        client, personas, at_the_door, report, hospital) -> None:
    hospital(cold_chain_excursion_minutes=10)
    log = [{"at": iso("12:52"), "celsius": 4.0}, {"at": iso("12:55"), "celsius": 9.5},
           {"at": iso("13:05"), "celsius": 11.0}, {"at": iso("13:11"), "celsius": 6.0}]

    delivered = deliver(report, at_the_door, code=code_of(client, personas, at_the_door), temperature_log=log)

    assert delivered.status_code == 201 and order_status(at_the_door.parcel_id) == "delivered"
    assert "temperature_excursion" in delivered.get_json()["event"]["flags"]
    assert fresh(DeliveryOrder, at_the_door.parcel_id).cold_chain_excursion_minutes == 16
    queue = client.get("/api/v1/evv/exceptions?kind=temperature_excursion",
                       headers=personas.headers("dispatcher_sun")).get_json()
    assert [(e["order_id"], e["status"]) for e in queue] == [(at_the_door.parcel_id, "open")]
    order = client.get(f"/api/v1/orders/{at_the_door.parcel_id}", headers=personas.headers("pharmacist_chen"))
    assert order.get_json()["cold_chain_excursion_minutes"] == 16


def test_a_short_warm_spell_is_no_excursion(client, personas, at_the_door, report) -> None:
    log = [{"at": iso("12:52"), "celsius": 4.0}, {"at": iso("12:55"), "celsius": 9.0},
           {"at": iso("13:00"), "celsius": 7.0}]

    deliver(report, at_the_door, code=code_of(client, personas, at_the_door), temperature_log=log)

    assert fresh(DeliveryOrder, at_the_door.parcel_id).cold_chain_excursion_minutes is None
    assert count(EvvException, EvvException.kind == "temperature_excursion") == 0


def test_uploads_are_png_or_jpeg_by_their_bytes_at_most_5_mb_on_my_drop_off(client, personas, at_the_door) -> None:
    stop_id = at_the_door.stops["zhao_dropoff"]
    png = upload(client, personas, "courier_zhao", stop_id, PNG)
    fake = upload(client, personas, "courier_zhao", stop_id, b"GIF89a not really", name="sig.png")
    big = upload(client, personas, "courier_zhao", stop_id, JPEG + b"\x00" * (5 * 1024 * 1024), "photo", "x.jpg")
    not_mine = upload(client, personas, "nurse_li", stop_id, PNG)
    pickup = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_pickup"], PNG)
    no_kind = client.post(f"/api/v1/mobile/stops/{stop_id}/proof", data={"file": (io.BytesIO(PNG), "a.png")},
                          headers=personas.headers("courier_zhao"), content_type="multipart/form-data")

    assert png.status_code == 201
    assert png.get_json()["content_type"] == "image/png" and png.get_json()["size_bytes"] == len(PNG)
    assert fake.status_code == 422 and "file" in fake.get_json()["errors"]
    assert big.status_code in (413, 422) and big.mimetype == "application/problem+json"
    assert not_mine.status_code == 404 and no_kind.status_code == 422
    assert pickup.status_code == 422
    assert count(ProofFile) == 1


def test_proof_files_are_served_to_the_pharmacy_the_office_and_the_patient_only(client, personas,
                                                                               at_the_door) -> None:
    file_id = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], PNG).get_json()["id"]

    for who in ("pharmacist_chen", "dispatcher_sun", "patient_wang"):
        response = client.get(f"/api/v1/files/{file_id}", headers=personas.headers(who))
        assert response.status_code == 200 and response.data == PNG and response.mimetype == "image/png", who
        assert response.headers["Cache-Control"] == "private, no-store"
    for who in ("pharmacist_gao", "patient_liu", "courier_zhao", "nurse_li", "admin_root"):
        assert client.get(f"/api/v1/files/{file_id}", headers=personas.headers(who)).status_code == 404, who
        assert client.get(f"/api/v1/orders/{at_the_door.parcel_id}/proof",
                          headers=personas.headers(who)).status_code == 404, who
    assert client.get("/api/v1/files/999999", headers=personas.headers("dispatcher_sun")).status_code == 404
    assert count(AuditEntry, AuditEntry.entity == "proof_file", AuditEntry.action == "read") == 3
