"""A visit record comes with the visit's complete report: what was done, notes, vitals in plausible
ranges. Health data: visible to the patient, the nurse and the office; never logged; reads audited."""
from __future__ import annotations

import logging

import pytest

from dispatch.models import Stop, StopEvent
from doorstep.models import AuditEntry
from mobile_api.models import VisitRecord
from tests.mobile_api.helpers import count, fresh, order_status

RECORD = {"done": ["Removed old dressing", "Cleaned wound with saline", "Applied foam dressing"],
          "notes": "Wound edges pink, no exudate. Patient reports pain 2/10.",
          "vitals": {"systolic": 128, "diastolic": 82, "pulse": 76, "temperature_c": 36.8, "spo2": 97,
                     "glucose_mmol": 6.4}}


@pytest.fixture
def started(day, report):  # type: ignore[no-untyped-def]
    for kind in ("arrive", "start"):
        assert report("nurse_li", day.stops["li_wound"], kind).status_code == 201
    return day


def test_complete_with_a_record_keeps_it_for_the_patient_the_nurse_and_the_office(
        client, personas, started, report, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    done = report("nurse_li", started.stops["li_wound"], "complete", at="09:45", record=RECORD)
    assert done.status_code == 201 and done.get_json()["order"]["status"] == "completed"

    url = f"/api/v1/orders/{started.wound_care_id}/visit-record"
    for who in ("patient_wang", "nurse_li", "dispatcher_sun", "admin_root"):
        response = client.get(url, headers=personas.headers(who))
        assert response.status_code == 200, who
        body = response.get_json()
        assert (body["done"], body["notes"], body["vitals"]) == (RECORD["done"], RECORD["notes"], RECORD["vitals"])
        assert body["recorded_by"] == personas["nurse_li"]["user_id"] and body["stop_id"] == started.stops["li_wound"]
    reads = count(AuditEntry, AuditEntry.entity == "visit_record", AuditEntry.action == "read")
    assert reads == 4
    assert "saline" not in caplog.text and "exudate" not in caplog.text and "128" not in caplog.text


def test_others_do_not_see_a_visit_record(client, personas, started, report) -> None:
    report("nurse_li", started.stops["li_wound"], "complete", record=RECORD)
    url = f"/api/v1/orders/{started.wound_care_id}/visit-record"

    for who in ("patient_liu", "nurse_zhou", "courier_zhao", "pharmacist_chen"):
        assert client.get(url, headers=personas.headers(who)).status_code == 404, who
    assert client.get(f"/api/v1/orders/{started.parcel_id}/visit-record",
                      headers=personas.headers("dispatcher_sun")).status_code == 404  # a parcel has none
    assert client.get(f"/api/v1/orders/{started.injection_id}/visit-record",
                      headers=personas.headers("dispatcher_sun")).status_code == 404  # not yet


@pytest.mark.parametrize("vitals, field", [
    ({"pulse": 300}, "record.vitals.pulse"),
    ({"pulse": 0}, "record.vitals.pulse"),
    ({"temperature_c": 73.6}, "record.vitals.temperature_c"),
    ({"spo2": 101}, "record.vitals.spo2"),
    ({"glucose_mmol": 120}, "record.vitals.glucose_mmol"),
    ({"systolic": 300, "diastolic": 80}, "record.vitals.systolic"),
    ({"systolic": 80, "diastolic": 90}, "record.vitals.diastolic"),
    ({"systolic": 120}, "record.vitals.diastolic"),
    ({"pulse": "fast"}, "record.vitals.pulse"),
    ({"weight_kg": 70}, "record.vitals.weight_kg"),
])
def test_implausible_vitals_are_422_naming_the_field_and_nothing_changes(personas, started, report, vitals,
                                                                          field) -> None:
    response = report("nurse_li", started.stops["li_wound"], "complete", record={"done": ["x"], "vitals": vitals})

    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    assert fresh(Stop, started.stops["li_wound"]).status == "started"
    assert order_status(started.wound_care_id) == "in_progress"
    assert count(VisitRecord) == 0 and count(StopEvent, StopEvent.type == "complete") == 0


def test_a_record_needs_what_was_done_and_belongs_to_a_visits_complete(personas, started, report) -> None:
    empty = report("nurse_li", started.stops["li_wound"], "complete", record={"done": []})
    on_depart = report("nurse_li", started.stops["li_vitals"], "depart", record={"done": ["x"]})

    assert empty.status_code == 422 and "record.done" in empty.get_json()["errors"]
    assert on_depart.status_code == 422 and list(on_depart.get_json()["errors"]) == ["record"]
    assert count(VisitRecord) == 0


def test_a_resent_complete_keeps_one_record(personas, started, report) -> None:
    first = report("nurse_li", started.stops["li_wound"], "complete", record=RECORD)
    again = report("nurse_li", started.stops["li_wound"], "complete", record=RECORD)

    assert (first.status_code, again.status_code) == (201, 200)
    assert count(VisitRecord) == 1
