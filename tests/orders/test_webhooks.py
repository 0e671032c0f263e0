"""Registering webhooks (admin): public targets only, the secret kept and never shown, list and delete."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from doorstep.db import session
from orders.outbox import WebhookSubscription
from tests.orders.helpers import assert_problem

URL = "/api/v1/webhooks"
SECRET = "s3cret-s3cret-s3cret"
PUBLIC = "https://93.184.216.34/hooks/doorstep"  # a literal public address: resolving it sends nothing


def register(client, personas, url=PUBLIC, who="admin_root", **extra):  # type: ignore[no-untyped-def]
    body = {"url": url, "secret": SECRET, "events": ["order.created", "order.status_changed"]} | extra
    return client.post(URL, json=body, headers=personas.headers(who))


def test_an_admin_registers_a_public_url_and_the_secret_is_never_shown(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = register(client, personas)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["url"] == PUBLIC and body["events"] == ["order.created", "order.status_changed"]
    assert "secret" not in body and SECRET not in response.get_data(as_text=True)
    listed = client.get(URL, headers=personas.headers("admin_root"))
    assert [w["id"] for w in listed.get_json()] == [body["id"]] and SECRET not in listed.get_data(as_text=True)
    assert session.get(WebhookSubscription, body["id"]).secret == SECRET  # kept, to sign with


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.20/hook",
    "http://169.254.169.254/latest/meta-data",  # cloud metadata: link-local
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
    "http://224.0.0.1/hook",
])
def test_a_private_loopback_or_link_local_target_is_refused_naming_url(client, personas, url) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(register(client, personas, url), 422, "url")
    assert "public" in body["errors"]["url"][0]
    assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://93.184.216.34/x", "http or https"),
    ("https://user:pw@93.184.216.34/x", "credentials"),
    ("https:///nohost", "host"),
    ("https://93.184.216.34:99999/x", "valid"),
    ("https://no-such-host.invalid/x", "resolved"),
])
def test_a_url_that_is_not_a_reachable_http_target_is_refused_naming_url(client, personas, url, says) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(register(client, personas, url), 422, "url")
    assert says in body["errors"]["url"][0]


def test_private_targets_are_allowed_when_the_setting_says_so(client, personas, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], webhook_allow_private=True))
    assert register(client, personas, "http://127.0.0.1:8080/hook").status_code == 201


def test_bad_bodies_name_their_field(client, personas) -> None:  # type: ignore[no-untyped-def]
    assert_problem(register(client, personas, events=["order.deleted"]), 422, "events.0")
    assert_problem(register(client, personas, events=[]), 422, "events")
    assert_problem(register(client, personas, secret="short"), 422, "secret")
    assert_problem(client.post(URL, json={"url": PUBLIC}, headers=personas.headers("admin_root")), 422,
                   "secret", "events")


def test_the_same_idempotency_key_registers_once(client, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("admin_root", **{"Idempotency-Key": "hook-1"})
    body = {"url": PUBLIC, "secret": SECRET, "events": ["order.created"]}
    first, again = (client.post(URL, json=body, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 1


@pytest.mark.parametrize("who", ["dispatcher_sun", "pharmacist_chen", "nurse_li", "patient_wang"])
def test_only_an_admin_manages_webhooks(client, personas, who) -> None:  # type: ignore[no-untyped-def]
    hook = register(client, personas).get_json()["id"]
    headers = personas.headers(who)
    assert_problem(register(client, personas, who=who), 403)
    assert_problem(client.get(URL, headers=headers), 403)
    assert_problem(client.get(f"{URL}/{hook}", headers=headers), 403)
    assert_problem(client.delete(f"{URL}/{hook}", headers=headers), 403)
    assert_problem(client.get(f"{URL}/dead-letters", headers=headers), 403)
    assert_problem(client.post(f"{URL}/dead-letters/1/replay", headers=headers), 403)


def test_a_deleted_webhook_is_gone_and_unknown_ids_are_404(client, personas) -> None:  # type: ignore[no-untyped-def]
    hook = register(client, personas).get_json()["id"]
    admin = personas.headers("admin_root")
    assert client.delete(f"{URL}/{hook}", headers=admin).status_code == 204
    assert_problem(client.get(f"{URL}/{hook}", headers=admin), 404)
    assert_problem(client.delete(f"{URL}/{hook}", headers=admin), 404)
    assert client.get(URL, headers=admin).get_json() == []
    assert_problem(client.post(f"{URL}/dead-letters/999/replay", headers=admin), 404)
