"""A patient's own profile and addresses: districts resolved from the point, audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from orders.models import Address
from routing.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.factories import BINJIANG_DAO, NANKAI_UNIVERSITY
from tests.orders.helpers import assert_problem

BEIJING = (39.9042, 116.4074)


def _audit(entity: str, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.action == action)))


def test_a_patient_reads_their_profile_with_addresses_and_the_read_is_audited(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/patients/me", headers=personas.headers("patient_wang"))
    assert response.status_code == 200
    me = response.get_json()
    assert me["id"] == personas["patient_wang"]["patient_id"]
    assert me["name"] == "Wang Fang" and me["phone"] == "13800000001"
    assert [a["district"] for a in me["addresses"]] == ["heping"]
    [row] = _audit("patient", "read")
    assert row.actor_user_id == personas["patient_wang"]["user_id"] and row.entity_id == str(me["id"])


def test_adding_an_address_resolves_its_district(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/patients/me/addresses", headers=personas.headers("patient_wang"),
                           json={"label": "daughter", "line": "Weijin Road 94", "lat": NANKAI_UNIVERSITY[0],
                                 "lon": NANKAI_UNIVERSITY[1]})
    assert response.status_code == 201, response.get_json()
    address = response.get_json()
    assert address["district"] == "nankai" and address["label"] == "daughter"
    stored = session.get(Address, address["id"])
    assert stored.patient_id == personas["patient_wang"]["patient_id"]
    [row] = _audit("address", "create")
    assert row.entity_id == str(address["id"]) and "Weijin" not in str(row.detail)


@pytest.mark.parametrize(("crs", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_a_point_from_a_chinese_map_app_is_converted_to_wgs84(client, personas, crs, convert) -> None:  # type: ignore[no-untyped-def]
    lat, lon = convert(*BINJIANG_DAO)
    response = client.post("/api/v1/patients/me/addresses", headers=personas.headers("patient_liu"),
                           json={"label": "home", "line": "Binjiang Dao 1", "lat": lat, "lon": lon, "crs": crs})
    assert response.status_code == 201, response.get_json()
    address = response.get_json()
    assert address["lat"] == pytest.approx(BINJIANG_DAO[0], abs=1e-6)
    assert address["lon"] == pytest.approx(BINJIANG_DAO[1], abs=1e-6)
    assert address["district"] == "heping"


def test_an_address_outside_every_served_district_is_a_422_naming_lat_and_lon(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/patients/me/addresses", headers=personas.headers("patient_wang"),
                           json={"label": "cousin", "line": "Beijing", "lat": BEIJING[0], "lon": BEIJING[1]})
    assert_problem(response, 422, "lat", "lon")
    assert len(session.get(Address, personas["patient_wang"]["address_id"]).patient.addresses) == 1


def test_an_unknown_crs_is_a_422_naming_crs(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/patients/me/addresses", headers=personas.headers("patient_wang"),
                           json={"label": "x", "line": "y", "lat": 39.1, "lon": 117.2, "crs": "etrs89"})
    assert_problem(response, 422, "crs")


@pytest.mark.parametrize("who", ["nurse_li", "pharmacist_chen", "dispatcher_sun", "admin_root", "courier_zhao"])
def test_only_patients_have_a_profile_and_addresses(client, personas, who) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.get("/api/v1/patients/me", headers=personas.headers(who)), 403)
    response = client.post("/api/v1/patients/me/addresses", headers=personas.headers(who),
                           json={"label": "x", "line": "y", "lat": BINJIANG_DAO[0], "lon": BINJIANG_DAO[1]})
    assert_problem(response, 403)
