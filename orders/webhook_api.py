"""HTTP endpoints for webhooks (admin): subscribe, list, delete; dead letters and replay.

Each view parses, calls one function of ``orders.webhooks``, and serialises;
writes run in ``unit_of_work`` (commit, ``Idempotency-Key``).
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView

from doorstep.api import PAGINATION, Blueprint, ListPage, unit_of_work
from doorstep.auth import current_actor, require_role
from orders import webhooks
from orders.webhook_schemas import (
    DeadLetterSchema,
    WebhookCreateArgs,
    WebhookQueryArgs,
    WebhookSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1",
                description="Order events pushed to the hospital's systems (admin)")


@blp.route("/webhooks")
class Webhooks(MethodView):
    @require_role("admin")
    @blp.arguments(WebhookQueryArgs, location="query")
    @blp.response(200, WebhookSchema(many=True))
    @blp.paginate(ListPage, **PAGINATION)
    def get(self, _args: dict[str, Any]) -> Any:
        """Registered webhooks, oldest first; secrets are never shown (admin)"""
        return webhooks.list_webhooks(current_actor())

    @unit_of_work
    @require_role("admin")
    @blp.arguments(WebhookCreateArgs)
    @blp.response(201, WebhookSchema)
    @blp.alt_response(422, description="Invalid; url not http(s), unresolvable, or on a private, loopback, "
                                       "link-local or other non-public address (names url)")
    def post(self, args: dict[str, Any]) -> Any:
        """Subscribe a URL to order events, signed with the secret (admin)"""
        return webhooks.register_webhook(current_actor(), **args)


@blp.route("/webhooks/<int:subscription_id>")
class WebhookById(MethodView):
    @require_role("admin")
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, description="No such webhook")
    def get(self, subscription_id: int) -> Any:
        """One webhook (admin)"""
        return webhooks.access_webhook(current_actor(), subscription_id)

    @unit_of_work
    @require_role("admin")
    @blp.response(204)
    @blp.alt_response(404, description="No such webhook")
    def delete(self, subscription_id: int) -> None:
        """Stop sending to this webhook; its pending deliveries are dropped (admin)"""
        webhooks.delete_webhook(current_actor(), subscription_id)


@blp.route("/webhooks/dead-letters")
class DeadLetters(MethodView):
    @require_role("admin")
    @blp.arguments(WebhookQueryArgs, location="query")
    @blp.response(200, DeadLetterSchema(many=True))
    @blp.paginate(ListPage, **PAGINATION)
    def get(self, _args: dict[str, Any]) -> Any:
        """Deliveries that failed for two hours, newest first (admin)"""
        return webhooks.list_dead_letters(current_actor())


@blp.route("/webhooks/dead-letters/<int:delivery_id>/replay")
class DeadLetterReplay(MethodView):
    @unit_of_work
    @require_role("admin")
    @blp.response(202, DeadLetterSchema)
    @blp.alt_response(404, description="No such dead letter")
    @blp.alt_response(409, description="Not dead (pending or delivered): nothing to replay")
    def post(self, delivery_id: int) -> Any:
        """Send a dead delivery again now, with the same delivery id and a fresh retry budget (admin)"""
        return webhooks.replay_dead_letter(current_actor(), delivery_id)
