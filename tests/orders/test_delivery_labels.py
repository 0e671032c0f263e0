"""The parcel label: a PDF whose QR code and text carry the tracking code, and nothing private."""
from __future__ import annotations

import io

import pypdf
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from orders.labels import LabelData, qr_code, render_label, short_name
from orders.models import Patient
from tests.factories import iso
from tests.orders.helpers import assert_problem


def label(client, personas, order_id, who="pharmacist_chen"):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/delivery-orders/{order_id}/label", headers=personas.headers(who))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def decoded_qr_codes(data: bytes) -> list[str]:
    """Every QR code in the PDF's images, read as a scanner would (each module scaled to 8 pixels)."""
    found = []
    for image in pypdf.PdfReader(io.BytesIO(data)).pages[0].images:
        picture = image.image.convert("L")
        picture = picture.resize((picture.width * 8, picture.height * 8), Image.NEAREST)
        found += [code.text for code in zxingcpp.read_barcodes(picture)]
    return found


@pytest.fixture
def parcel(orders):  # type: ignore[no-untyped-def]
    """A cold-chain parcel for Wang Fang with an afternoon window; returns its JSON."""
    response = orders.delivery(window={"start": iso("13:00"), "end": iso("16:00")}, max_out_of_fridge_minutes=90,
                               items=[{"name": "Insulin glargine 300 U", "quantity": 2, "unit": "pen"}])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_label_is_a_pdf_with_the_tracking_code_as_text_and_as_a_qr_code(client, personas, parcel) -> None:  # type: ignore[no-untyped-def]
    response = label(client, personas, parcel["id"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert parcel["tracking_code"] in response.headers["Content-Disposition"]
    assert parcel["tracking_code"] in pdf_text(response.data)
    assert decoded_qr_codes(response.data) == [parcel["tracking_code"]]


def test_the_label_shows_pharmacy_short_name_district_window_and_the_cold_chain(client, personas, parcel) -> None:  # type: ignore[no-untyped-def]
    text = pdf_text(label(client, personas, parcel["id"]).data)
    assert "Heping Hospital Pharmacy" in text
    assert "Wang F." in text and "Fang" not in text
    assert "heping" in text and "2026-11-23 13:00-16:00" in text
    assert "COLD CHAIN" in text and "90 min" in text


def test_the_label_carries_no_drug_names_no_phone_and_no_diagnoses(client, personas, parcel) -> None:  # type: ignore[no-untyped-def]
    patient = session.get(Patient, personas["patient_wang"]["patient_id"])
    text = pdf_text(label(client, personas, parcel["id"]).data)
    assert "Insulin" not in text and patient.phone not in text and "Test Road" not in text
    assert "RX-0001" not in text


def test_a_parcel_without_cold_chain_or_window_has_no_cold_mark(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery(ref="RX-WARM", cold_chain=False).get_json()
    text = pdf_text(label(client, personas, parcel["id"]).data)
    assert "COLD CHAIN" not in text and "any time" in text


def test_a_dispatcher_prints_any_label_and_the_read_is_audited(client, personas, parcel) -> None:  # type: ignore[no-untyped-def]
    response = label(client, personas, parcel["id"], "dispatcher_sun")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "delivery_label"))
    assert (entry.actor_user_id, entry.action, entry.entity_id) == (
        personas["dispatcher_sun"]["user_id"], "read", str(parcel["id"]))


@pytest.mark.parametrize("who", ["pharmacist_gao", "patient_wang", "patient_liu", "courier_zhao", "nurse_li",
                                 "admin_root"])
def test_everyone_else_gets_a_404_even_the_parcels_own_patient(client, personas, parcel, who) -> None:  # type: ignore[no-untyped-def]
    assert_problem(label(client, personas, parcel["id"], who), 404)


def test_a_care_order_or_a_missing_id_has_no_label(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    care = orders.care_id()
    assert_problem(label(client, personas, care, "dispatcher_sun"), 404)
    assert_problem(label(client, personas, 999_999, "dispatcher_sun"), 404)


# The pure parts --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "short"), [("张三丰", "张**"), ("王芳", "王*"), ("李", "李*"),
                                             ("Wang Fang", "Wang F."), ("Maria  de la Cruz", "Maria C."),
                                             ("Madonna", "M******")])
def test_names_are_shortened_for_the_outside_of_a_parcel(name, short) -> None:
    assert short_name(name) == short


def test_the_qr_code_holds_exactly_the_tracking_code() -> None:
    code = "DSABCDEFGHJKLM"
    picture = Image.open(io.BytesIO(_png(qr_code(code)))).convert("L")
    assert [c.text for c in zxingcpp.read_barcodes(picture)] == [code]


def test_a_chinese_label_renders_and_still_reads(client) -> None:  # type: ignore[no-untyped-def]
    data = render_label(LabelData(tracking_code="DSABCDEFGHJKLM", order_id=7, pharmacy_name="和平医院药房",
                                  patient_name="张三丰", district="heping", service_date="2026-11-23",
                                  window=None, cold_chain=True, max_out_of_fridge_minutes=120, item_count=3))
    text = pdf_text(data)
    assert "张**" in text and "三丰" not in text and "冷链" in text
    assert decoded_qr_codes(data) == ["DSABCDEFGHJKLM"]


def _png(qr) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    qr.save(out, kind="png", scale=8, border=4)
    return out.getvalue()
