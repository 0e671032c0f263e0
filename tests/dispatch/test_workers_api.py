"""``/api/v1/workers``: admins and dispatchers keep nurses and couriers; bad input names the field."""
from __future__ import annotations

import pytest

from routing.crs import wgs84_to_gcj02
from tests.factories import iso

WORKERS = "/api/v1/workers"


def _body(**overrides):  # type: ignore[no-untyped-def]
    body = {"kind": "nurse", "name": "Chen Jing", "skills": ["basic_care", "wound_care"],
            "districts": ["hexi", "heping"], "home": {"lat": 39.1000, "lon": 117.2200},
            "shifts": [{"start": iso("08:00"), "end": iso("16:00")}]}
    return {**body, **overrides}


def _create(client, personas, who="admin_root", **overrides):  # type: ignore[no-untyped-def]
    return client.post(WORKERS, json=_body(**overrides), headers=personas.headers(who))


def test_an_admin_adds_a_nurse_and_reads_it_back_with_its_version_as_etag(client, personas) -> None:
    created = _create(client, personas)
    assert created.status_code == 201
    worker = created.get_json()
    assert worker["kind"] == "nurse" and worker["districts"] == ["hexi", "heping"] and worker["active"]
    assert worker["home"] == {"lat": 39.1, "lon": 117.22} and worker["capacity"] is None
    assert worker["shifts"][0]["start"] == iso("08:00") and worker["shifts"][0]["end"] == iso("16:00")
    read = client.get(f"{WORKERS}/{worker['id']}", headers=personas.headers("dispatcher_sun"))
    assert read.status_code == 200 and read.get_json() == worker
    assert read.headers["ETag"] == f'"{worker["version"]}"'


def test_a_home_given_in_gcj02_is_stored_in_wgs84(client, personas) -> None:
    lat, lon = wgs84_to_gcj02(39.1000, 117.2200)
    worker = _create(client, personas, home={"lat": lat, "lon": lon, "crs": "gcj02"}).get_json()
    assert worker["home"]["lat"] == pytest.approx(39.1000, abs=1e-5)
    assert worker["home"]["lon"] == pytest.approx(117.2200, abs=1e-5)


def test_workers_are_listed_newest_first_and_filtered(client, personas) -> None:
    headers = personas.headers("dispatcher_sun")
    new = _create(client, personas, kind="courier", name="Ma Tao", districts=["hexi"]).get_json()
    listed = client.get(WORKERS, headers=headers)
    assert listed.status_code == 200
    assert listed.get_json()[0]["id"] == new["id"] and len(listed.get_json()) == 4
    couriers = client.get(f"{WORKERS}?kind=courier", headers=headers).get_json()
    assert [w["name"] for w in couriers] == ["Ma Tao", "Zhao Lei"]
    in_nankai = client.get(f"{WORKERS}?district=nankai&page_size=10", headers=headers).get_json()
    assert sorted(w["name"] for w in in_nankai) == ["Li Na", "Zhao Lei", "Zhou Min"]


def test_patch_replaces_only_the_given_fields_and_moves_the_version(client, personas) -> None:
    worker = _create(client, personas).get_json()
    headers = personas.headers("dispatcher_sun")
    shifts = [{"start": iso("12:00"), "end": iso("20:00")}]
    patched = client.patch(f"{WORKERS}/{worker['id']}", json={"shifts": shifts, "skills": ["basic_care"]},
                           headers={**headers, "If-Match": f'"{worker["version"]}"'})
    assert patched.status_code == 200
    body = patched.get_json()
    assert body["skills"] == ["basic_care"] and body["name"] == worker["name"]
    assert [(s["start"], s["end"]) for s in body["shifts"]] == [(iso("12:00"), iso("20:00"))]
    assert body["version"] == worker["version"] + 1 and patched.headers["ETag"] == f'"{body["version"]}"'
    stale = client.patch(f"{WORKERS}/{worker['id']}", json={"name": "Chen J."},
                         headers={**headers, "If-Match": f'"{worker["version"]}"'})
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    assert client.get(f"{WORKERS}/{worker['id']}", headers=headers).get_json()["name"] == "Chen Jing"


def test_a_worker_with_a_nurse_account_cannot_become_a_courier(client, personas) -> None:
    response = client.patch(f"{WORKERS}/{personas['nurse_li']['worker_id']}", json={"kind": "courier"},
                            headers=personas.headers("admin_root"))
    assert response.status_code == 409


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "doctor"}, "kind"),
    ({"districts": ["heping", "atlantis"]}, "districts.1"),
    ({"districts": []}, "districts"),
    ({"home": {"lat": 95, "lon": 117.2}}, "home.lat"),
    ({"home": {"lat": 39.1}}, "home.lon"),
    ({"shifts": [{"start": iso("16:00"), "end": iso("08:00")}]}, "shifts.0.end"),
    ({"shifts": [{"start": "2026-11-23T08:00:00", "end": iso("16:00")}]}, "shifts.0.start"),
    ({"shifts": [{"start": iso("08:00"), "end": iso("12:00")}, {"start": iso("11:00"), "end": iso("15:00")}]},
     "shifts.1"),
    ({"capacity": {"parcels": -1}}, "capacity.parcels.value"),
    ({"salary": 1}, "salary"),
])
def test_bad_worker_input_is_a_422_naming_the_field(client, personas, overrides: dict, field: str) -> None:
    response = _create(client, personas, **overrides)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"], response.get_json()


def test_a_patch_with_an_unknown_district_is_refused_by_path(client, personas) -> None:
    response = client.patch(f"{WORKERS}/{personas['nurse_zhou']['worker_id']}", json={"districts": ["mars"]},
                            headers=personas.headers("admin_root"))
    assert response.status_code == 422 and "districts.0" in response.get_json()["errors"]


@pytest.mark.parametrize("who", ["pharmacist_chen", "nurse_li", "courier_zhao", "patient_wang"])
def test_only_admins_and_dispatchers_manage_workers(client, personas, who: str) -> None:
    own = personas["nurse_li"]["worker_id"]
    assert _create(client, personas, who=who).status_code == 403
    assert client.get(WORKERS, headers=personas.headers(who)).status_code == 403
    assert client.get(f"{WORKERS}/{own}", headers=personas.headers(who)).status_code == 403
    assert client.patch(f"{WORKERS}/{own}", json={"name": "X"}, headers=personas.headers(who)).status_code == 403


def test_an_unknown_worker_id_is_404(client, personas) -> None:
    headers = personas.headers("dispatcher_sun")
    assert client.get(f"{WORKERS}/99999", headers=headers).status_code == 404
    assert client.patch(f"{WORKERS}/99999", json={"name": "X"}, headers=headers).status_code == 404
