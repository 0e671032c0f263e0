"""Signing in to the desk: languages, wrong passwords, wrong roles, CSRF, the cookie."""
from __future__ import annotations

from doorstep.db import session
from doorstep.models import User
from tests.admin.conftest import csrf_from, sign_in


def test_the_login_page_is_chinese_by_default_and_english_on_request(client, personas):
    chinese = client.get("/admin/login")
    assert chinese.status_code == 200
    html = chinese.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "调度与药房登录" in html and "用户名" in html and "Dispatch and pharmacy sign in" not in html

    english = client.get("/admin/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Dispatch and pharmacy sign in" in english and "Username" in english and "调度与药房登录" not in english


def test_the_chosen_language_is_remembered_by_the_session(client, personas):
    client.get("/admin/login?lang=en")
    assert "Dispatch and pharmacy sign in" in client.get("/admin/login").get_data(as_text=True)
    client.get("/admin/login?lang=zh")
    assert "调度与药房登录" in client.get("/admin/login").get_data(as_text=True)


def test_an_unknown_language_leaves_the_language_as_it_was(client, personas):
    html = client.get("/admin/login?lang=fr").get_data(as_text=True)
    assert "调度与药房登录" in html


def test_a_user_whose_locale_is_english_gets_english_after_signing_in(client, personas):
    session.get(User, personas["dispatcher_sun"]["user_id"]).locale = "en"
    session.commit()
    sign_in(client, "dispatcher_sun")
    assert "Dispatch board for" in client.get("/admin/board?date=2026-11-23").get_data(as_text=True)


def test_a_wrong_password_shows_a_form_error_and_signs_nobody_in(client, personas):
    response = sign_in(client, "dispatcher_sun", password="not-the-password")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "用户名或密码错误" in html
    assert 'value="dispatcher_sun"' in html  # the username is kept, the password is not
    assert client.get("/admin/board").status_code == 302


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client, personas):
    response = sign_in(client, "nobody_here")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_empty_fields_are_a_form_error(client, personas):
    response = sign_in(client, "", password="")
    assert response.status_code == 422
    assert "请输入用户名和密码" in response.get_data(as_text=True)


def test_nurses_couriers_and_patients_cannot_sign_in_to_the_desk(client, personas):
    client.get("/admin/login?lang=en")
    for username in ("nurse_li", "courier_zhao", "patient_wang"):
        response = sign_in(client, username)
        assert response.status_code == 403, username
        html = response.get_data(as_text=True)
        assert "for dispatchers, pharmacists and administrators only" in html
        assert client.get("/admin/board").status_code == 302, username
        assert client.get("/admin/parcels").status_code == 302, username


def test_a_pharmacist_signs_in_to_the_pharmacy_desk_not_the_board(client, personas):
    response = sign_in(client, "pharmacist_chen")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/parcels")
    assert client.get("/admin/").headers["Location"].endswith("/admin/parcels")
    assert client.get("/admin/login").headers["Location"].endswith("/admin/parcels")


def test_an_admin_can_sign_in_too(client, personas):
    response = sign_in(client, "admin_root")
    assert response.status_code == 302
    assert client.get("/admin/board?date=2026-11-23").status_code == 200


def test_signing_in_sets_an_httponly_samesite_lax_cookie_and_goes_to_the_board(client, personas):
    response = sign_in(client, "dispatcher_sun")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/board")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signing_in_returns_to_the_desk_page_asked_for_but_never_to_another_site(client, personas):
    response = sign_in(client, "dispatcher_sun", next="/admin/board?date=2026-11-23")
    assert response.headers["Location"].endswith("/admin/board?date=2026-11-23")
    client.post("/admin/logout", data={"csrf_token": csrf_from(client.get("/admin/board").get_data(as_text=True))})
    response = sign_in(client, "dispatcher_sun", next="//evil.example/admin/")
    assert response.headers["Location"].endswith("/admin/board")
    assert "evil" not in response.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused_with_a_400_page(client, personas):
    client.get("/admin/login")  # a session with a token exists; the form just doesn't send it
    response = client.post("/admin/login", data={"username": "dispatcher_sun", "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "表单已过期" in response.get_data(as_text=True)
    assert client.get("/admin/board").status_code == 302  # not signed in


def test_a_post_with_a_wrong_csrf_token_is_refused(client, personas):
    client.get("/admin/login")
    response = client.post("/admin/login", data={"username": "dispatcher_sun", "password": "correct-horse-battery",
                                                  "csrf_token": "forged"})
    assert response.status_code == 400


def test_signing_in_changes_the_csrf_token(client, personas):
    before = csrf_from(client.get("/admin/login").get_data(as_text=True))
    client.post("/admin/login", data={"username": "dispatcher_sun", "password": "correct-horse-battery",
                                      "csrf_token": before})
    after = csrf_from(client.get("/admin/board").get_data(as_text=True))
    assert after != before


def test_signing_out_needs_the_token_and_ends_the_session(dispatcher):
    assert dispatcher.post("/admin/logout").status_code == 400
    assert dispatcher.get("/admin/board").status_code == 200  # still signed in

    token = csrf_from(dispatcher.get("/admin/board").get_data(as_text=True))
    response = dispatcher.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/login")
    assert "您已退出登录" in dispatcher.get("/admin/login").get_data(as_text=True)
    assert dispatcher.get("/admin/board").status_code == 302


def test_a_disabled_account_loses_the_desk_at_once(dispatcher, personas):
    session.get(User, personas["dispatcher_sun"]["user_id"]).active = False
    session.commit()
    assert dispatcher.get("/admin/board").status_code == 302
