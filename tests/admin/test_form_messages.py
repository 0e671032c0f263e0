"""The API's English messages on the desk pages: Chinese on a Chinese page, English on an English one.

The forms are refused by the API's own schemas and services, which answer in English
(``admin.messages`` translates them where the page shows them). Here: every message marshmallow
and our schemas and services can give a desk form has its Chinese, an unknown one stays English,
and each kind of form shows the Chinese message next to its field; the API's JSON stays English.
"""
from __future__ import annotations

import ast
import html as markup
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import marshmallow
import pytest
from flask import session as cookie
from flask_babel import refresh
from marshmallow import fields, validate

from admin import messages
from admin.messages import translate
from dispatch.models import Worker
from doorstep.db import session
from doorstep.errors import flatten_messages
from tests.admin.conftest import csrf_from, sign_in
from tests.dispatch.service_helpers import planned_day
from tests.factories import SERVICE_DATE

ROOT = Path(__file__).resolve().parents[2]
# The schemas and services behind the desk forms, and the helpers they raise through.
BEHIND_THE_FORMS = (
    "dispatch/workers.py", "dispatch/schemas.py", "dispatch/replan.py", "dispatch/replan_schemas.py",
    "dispatch/steering.py", "dispatch/steering_schemas.py", "dispatch/alarms.py", "mobile_api/evv.py",
    "mobile_api/evv_schemas.py", "orders/catalogue.py", "orders/eligibility.py", "orders/deliveries.py",
    "orders/delivery_schemas.py", "doorstep/accounts.py", "admin/parcels.py", "admin/service.py",
)
RAISED = {"ValidationFailed", "Conflict", "InvalidTransition", "NotFound", "Forbidden", "DomainError",
          "PreconditionFailed", "ValidationError", "Unauthorized"}


@contextmanager
def page_in(app: Any, locale: str) -> Iterator[None]:
    """A request of a desk page in ``locale``, for calling ``translate`` directly."""
    with app.test_request_context("/admin/board"):
        cookie["lang"] = locale
        refresh()
        yield


def _marshmallow_messages() -> set[str]:
    """What marshmallow says, as it says it, for the fields and validators schemas use."""
    said: set[str] = set()

    def refused(check: Any, value: Any) -> None:
        with pytest.raises(marshmallow.ValidationError) as info:
            check(value)
        said.update(message for listed in flatten_messages(info.value.messages).values() for message in listed)

    for field, value in ((fields.String(), 1), (fields.Integer(), "x"), (fields.Integer(strict=True), 1.5),
                         (fields.Float(), "x"), (fields.Float(), "nan"), (fields.Decimal(), "x"),
                         (fields.Boolean(), "x"), (fields.Date(), "x"), (fields.DateTime(), "x"),
                         (fields.AwareDateTime(), "x"), (fields.AwareDateTime(), "2026-11-23T08:00:00"),
                         (fields.NaiveDateTime(), "x"), (fields.Time(), "x"), (fields.TimeDelta(), "x"),
                         (fields.List(fields.String()), "x"), (fields.Dict(), "x"), (fields.Tuple([]), "x"),
                         (fields.Email(), "x"), (fields.URL(), "x"), (fields.UUID(), "x"),
                         (fields.String(required=True), marshmallow.missing), (fields.String(), None)):
        refused(field.deserialize, value)
    refused(fields.Float().deserialize, 10**400)  # "Number too large."
    refused(lambda value: type("S", (marshmallow.Schema,), {})().load(value), "x")  # "Invalid input type."
    refused(lambda value: type("S", (marshmallow.Schema,), {})().load(value), {"x": 1})  # "Unknown field."
    refused(lambda value: fields.Nested(type("S", (marshmallow.Schema,), {})).deserialize(value), 1)
    for validator, value in ((validate.Length(min=3), "ab"), (validate.Length(max=1), "ab"),
                             (validate.Length(min=1, max=2), ""), (validate.Length(equal=2), "a"),
                             (validate.OneOf(["a"]), "b"), (validate.Equal(1), 2), (validate.Regexp("a"), "b"),
                             (validate.ContainsOnly(["a"]), ["b"]), (validate.ContainsNoneOf(["a"]), ["a"]),
                             (validate.NoneOf(["a"]), "a"), (validate.Email(), "x"), (validate.URL(), "x")):
        refused(validator, value)
    for low, high in ((True, True), (True, False), (False, True), (False, False)):
        refused(validate.Range(min=1, max=5, min_inclusive=low, max_inclusive=high), 9)
        refused(validate.Range(min=1, min_inclusive=low), 0)
        refused(validate.Range(max=5, max_inclusive=high), 9)
    said.update(fields.Field().make_error("validator_failed").messages)  # "Invalid value." (a validator's default)
    return said


def _our_messages() -> dict[str, str]:
    """Every message our schemas and services raise in words, values as "7": ``{message: where}``."""
    def template(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(part.value if isinstance(part, ast.Constant) else "7" for part in node.values)
        return None

    found: dict[str, str] = {}
    for path in BEHIND_THE_FORMS:
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            candidates: list[ast.AST] = []
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in RAISED and node.args:  # the detail, or either of two
                    first = node.args[0]
                    candidates += [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
                candidates += [kw.value for kw in node.keywords if kw.arg == "error"]  # a validator's
            elif isinstance(node, ast.List) and len(node.elts) == 1:  # a field's: {"reason": ["..."]}
                candidates.append(node.elts[0])
            for candidate in candidates:
                text = template(candidate)
                if text and " " in text.strip():
                    found.setdefault(text, f"{path}:{getattr(node, 'lineno', '?')}")
    return found


def test_every_message_marshmallow_gives_our_schemas_is_chinese_on_a_chinese_page(app):
    said = _marshmallow_messages()
    assert len(said) >= 40
    with page_in(app, "zh"):
        english = sorted(message for message in said if translate(message) == message)
    assert english == [], "add these to admin.messages and translate them (make translations)"


def test_every_message_our_schemas_and_services_raise_is_chinese_on_a_chinese_page(app):
    ours = _our_messages()
    assert len(ours) > 100, "the scan found almost nothing: are the paths right?"
    with page_in(app, "zh"):
        english = [f"{where}: {message!r}" for message, where in sorted(ours.items()) if translate(message) == message]
    assert english == [], "add these to admin.messages and translate them (make translations)"


def test_values_are_kept_and_a_captured_phrase_is_translated_too(app):
    with page_in(app, "zh"):
        assert translate("Length must be between 1 and 200.") == "长度必须在 1 到 200 之间。"
        assert translate("Unknown district 'atlantis'; one of: heping, hexi.") == \
            "未知区域 'atlantis'；必须是以下之一：heping, hexi。"
        assert translate("Falls after the check-out.") == "时间落在签退之后。"
        assert translate("Must be greater than or equal to 1 and less than or equal to 2147483647.") == \
            "必须在 1 到 2147483647 之间。"
    with page_in(app, "en"):
        for english in ("Length must be between 1 and 200.", "Falls after the check-out.", "Not a valid integer."):
            assert translate(english) == english


def test_a_message_without_its_chinese_stays_english_never_empty_never_an_error(app, monkeypatch):
    with page_in(app, "zh"):
        assert translate("Something the catalogue never heard of.") == "Something the catalogue never heard of."
        assert translate("") == "" and translate(None) == "None"
        monkeypatch.setattr(messages, "gettext", lambda text: "值 %(wrong)s 无效" if "%" in text else "")
        assert translate("Length must be between 1 and 200.") == "Length must be between 1 and 200."
        assert translate("Not a valid integer.") == "Not a valid integer."


# The forms ------------------------------------------------------------------------------------

def _post(client, path: str, data: dict, *, token_from: str, lang: str) -> Any:  # type: ignore[no-untyped-def]
    page = client.get(f"{token_from}{'&' if '?' in token_from else '?'}lang={lang}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


def _error_of(html: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    assert found, f"no error next to {field_id}"
    return markup.unescape(found.group(1))


@pytest.fixture
def admin(client, personas):  # type: ignore[no-untyped-def]
    assert sign_in(client, "admin_root").status_code == 302
    return client


NURSE = {"kind": "nurse", "name": "Wu Jing", "skills": "basic_care", "districts": ["heping"], "home_lat": "39.12",
         "home_lon": "117.2", "title": "senior_nurse", "registration_number": "201812000303",
         "practice_began": "2018-09-01"}


@pytest.mark.parametrize("lang, lat, districts", [
    ("zh", "不是有效的数字。", "未知区域 'atlantis'；必须是以下之一："),
    ("en", "Not a valid number.", "Unknown district 'atlantis'; one of: "),
])
def test_a_worker_form_shows_the_schemas_and_the_services_messages_in_the_pages_language(admin, lang, lat,
                                                                                          districts):
    response = _post(admin, "/admin/workers", {**NURSE, "home_lat": "north"}, token_from="/admin/workers", lang=lang)
    assert response.status_code == 422
    assert lat in _error_of(response.get_data(as_text=True), "new-worker-home_lat")
    response = _post(admin, "/admin/workers", {**NURSE, "districts": ["atlantis"]}, token_from="/admin/workers",
                     lang=lang)
    assert response.status_code == 422
    assert districts in _error_of(response.get_data(as_text=True), "new-worker-districts")


@pytest.mark.parametrize("lang, expected", [
    ("zh", {"new-item-duration_minutes": "不是有效的整数。", "new-item-name_zh": "长度必须在 1 到 60 之间。"}),
    ("en", {"new-item-duration_minutes": "Not a valid integer.", "new-item-name_zh": "Length must be between 1 and 60."}),
])
def test_a_catalogue_item_form_shows_each_message_in_the_pages_language(admin, lang, expected):
    body = {"code": "wound_check", "name": "Wound check", "name_zh": "伤" * 61, "category": "basic",
            "skills": "basic_care", "duration_minutes": "forty", "price": "95", "eligibility_rule": "none"}
    response = _post(admin, "/admin/catalogue", body, token_from="/admin/catalogue", lang=lang)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field_id, message in expected.items():
        assert message in _error_of(html, field_id), field_id
    taken = _post(admin, "/admin/catalogue", {**body, "code": "vital_signs_check", "name_zh": "伤口检查",
                                              "duration_minutes": "40"}, token_from="/admin/catalogue", lang=lang)
    assert taken.status_code == 422
    assert ("服务目录中已有这个代码。" if lang == "zh" else "Already in the catalogue.") in \
        _error_of(taken.get_data(as_text=True), "new-item-code")


@pytest.mark.parametrize("lang, password, worker", [
    ("zh", "长度必须在 8 到 1024 之间。", "nurse 账号需要填写一位已有的 nurse 人员的编号。"),
    ("en", "Length must be between 8 and 1024.", "A nurse account needs the id of an existing nurse worker."),
])
def test_the_users_form_shows_the_schemas_and_the_services_messages_in_the_pages_language(admin, lang, password,
                                                                                          worker):
    short = _post(admin, "/admin/users", {"username": "new_one", "password": "short", "role": "dispatcher"},
                  token_from="/admin/users", lang=lang)
    assert short.status_code == 422 and password in _error_of(short.get_data(as_text=True), "user-password")
    nurse = _post(admin, "/admin/users", {"username": "new_one", "password": "a-long-password", "role": "nurse"},
                  token_from="/admin/users", lang=lang)
    assert nurse.status_code == 422 and worker in _error_of(nurse.get_data(as_text=True), "user-worker_id")


@pytest.mark.parametrize("lang, blank, long", [
    ("zh", "请填写原因。", "超过最大长度 500。"), ("en", "Give a reason.", "Longer than maximum length 500."),
])
def test_the_pharmacy_desk_refuses_a_rejection_without_a_reason_in_the_pages_language(pharmacist, rows, lang,
                                                                                      blank, long):
    parcel = rows.delivery_order("awaiting_review")
    page = f"/admin/parcels/{parcel.id}"
    response = _post(pharmacist, f"{page}/reject", {"reason": " "}, token_from=page, lang=lang)
    assert response.status_code == 422
    assert _error_of(response.get_data(as_text=True), f"reject-reason-{parcel.id}") == blank
    response = _post(pharmacist, f"{page}/reject", {"reason": "x" * 501}, token_from=page, lang=lang)
    assert response.status_code == 422 and long in _error_of(response.get_data(as_text=True), f"reject-reason-{parcel.id}")


def _flash(client: Any, lang: str) -> str:
    html = client.get(f"/admin/board?date={SERVICE_DATE}&lang={lang}").get_data(as_text=True)
    found = re.search(r'<p class="flash flash-error">([^<]*)</p>', html)
    assert found, "no refusal at the top of the board"
    return markup.unescape(found.group(1))


def _steer(client: Any, plan_id: int, order_id: int, worker_id: str, lang: str) -> Any:
    return _post(client, f"/admin/board/tasks/{order_id}/steer",
                 {"date": SERVICE_DATE, "action": "move", "plan_id": str(plan_id), "worker_id": worker_id},
                 token_from=f"/admin/board?date={SERVICE_DATE}", lang=lang)


def test_the_boards_refusals_naming_worker_id_and_a_stale_plan_are_in_the_pages_language(dispatcher, personas):
    from tests.dispatch.service_helpers import accepted_visit

    visit = accepted_visit(personas, patient="patient_wang")  # Heping: nurse Zhou does not serve it
    old_plan = planned_day(personas)
    zhou = str(personas["nurse_zhou"]["worker_id"])

    assert _steer(dispatcher, old_plan, visit, "Zhou", "zh").status_code == 303  # the schema's 422
    assert _flash(dispatcher, "zh") == "未能完成：人员：不是有效的整数。"
    assert _steer(dispatcher, old_plan, visit, zhou, "zh").status_code == 303  # the service's 422
    assert _flash(dispatcher, "zh") in ("未能完成：Zhou Min 今天余下时间不在这个区域工作（区域、班次或休息日）。",
                                        f"未能完成：Zhou Min 无法接单 {visit}（技能、区域、班次、时间窗口或容量不符）。")
    assert _steer(dispatcher, old_plan, visit, zhou, "en").status_code == 303
    assert _flash(dispatcher, "en") in (
        "Not done: Zhou Min is not working in this district for the rest of the day (district, shift or day off).",
        f"Not done: Zhou Min cannot take order {visit} (skills, district, shift, windows or capacity).")

    planned_day(personas)  # a newer plan of the day: the board the dispatcher looked at is stale (409)
    assert _steer(dispatcher, old_plan, visit, str(personas["nurse_li"]["worker_id"]), "zh").status_code == 303
    assert re.fullmatch(rf"未能完成：排班 {old_plan} 已不是 {SERVICE_DATE} heping 的当前排班；请重新载入调度看板。",
                        _flash(dispatcher, "zh"))
    assert session.get(Worker, int(zhou)) is not None


def test_the_api_still_answers_in_english(client, personas):
    response = client.post("/api/v1/workers", json={"kind": "nurse", "name": "", "districts": ["heping"],
                                                    "home": {"lat": "north", "lon": 117.2}},
                           headers={**personas.headers("dispatcher_sun"), "Accept-Language": "zh-CN"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert errors["home.lat"] == ["Not a valid number."] and errors["name"] == ["Length must be between 1 and 100."]
