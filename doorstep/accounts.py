"""Accounts: sign in, refresh, and admins creating users (the CLI uses ``create_user`` too)."""
from __future__ import annotations

from datetime import date

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from doorstep.api import Blueprint, Schema, unit_of_work
from doorstep.audit import record_access
from doorstep.auth import (Actor, current_actor, decode_token, hash_password, issue_tokens,
                           require_role, verify_password)
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, Unauthorized, ValidationFailed
from doorstep.models import ROLES, User

LOCALES = ("zh", "en")  # the desk pages' languages (admin/i18n.py)

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign in and accounts")


class TokenArgs(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshArgs(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    refresh_token = fields.String()


class UserCreateArgs(Schema):
    username = fields.String(required=True, validate=validate.Length(min=3, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=1024))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    worker_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    pharmacy_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    patient_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    phone = fields.String(load_default=None, validate=validate.Length(min=3, max=30))
    birth_date = fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "A patient's date of birth, when known (YYYY-MM-DD)."})


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    worker_id = fields.Integer(allow_none=True)
    pharmacy_id = fields.Integer(allow_none=True)
    patient_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


def authenticate(username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or not user or not user.active:
        raise Unauthorized("Wrong username or password.")
    return user


def create_user(username: str, password: str, role: str, *, worker_id: int | None = None,
                pharmacy_id: int | None = None, patient_id: int | None = None,
                name: str | None = None, phone: str | None = None, birth_date: date | None = None,
                actor: Actor | None = None) -> User:
    """Create an account tied to what its role needs; a patient account gets a patient record."""
    from dispatch.models import Worker
    from orders.models import Patient, Pharmacy

    if role not in ROLES:
        raise ValidationFailed(f"Unknown role {role!r}.", {"role": [f"One of: {', '.join(ROLES)}."]})
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username {username!r} is taken.")
    errors: dict[str, list[str]] = {}
    if role in ("nurse", "courier"):
        worker = session.get(Worker, worker_id) if worker_id else None
        if worker is None or worker.kind != role:
            errors["worker_id"] = [f"A {role} account needs the id of an existing {role} worker."]
    if role == "pharmacist" and (not pharmacy_id or session.get(Pharmacy, pharmacy_id) is None):
        errors["pharmacy_id"] = ["A pharmacist account needs the id of an existing pharmacy."]
    if role == "patient" and patient_id and session.get(Patient, patient_id) is None:
        errors["patient_id"] = ["No such patient."]
    if birth_date is not None and not date(1880, 1, 1) <= birth_date <= utcnow().date():
        errors["birth_date"] = ["A date in the past."]
    if errors:
        raise ValidationFailed("The account cannot be tied to what its role needs.", errors)
    if role == "patient" and not patient_id:
        patient = Patient(name=name or username, phone=phone, birth_date=birth_date)
        session.add(patient)
        session.flush()
        patient_id = patient.id
    user = User(username=username, password_hash=hash_password(password), role=role,
                worker_id=worker_id if role in ("nurse", "courier") else None,
                pharmacy_id=pharmacy_id if role == "pharmacist" else None,
                patient_id=patient_id if role == "patient" else None)
    session.add(user)
    session.flush()
    record_access(actor, "create", "user", user.id, role=role)
    return user


def deactivate_user(actor: Actor, user_id: int) -> User:
    """Switch an account off (admins): it can no longer sign in, and its tokens stop working.

    Never deleted, since orders, reviews and the audit log name it. Raises ``NotFound``
    for an unknown id, ``Forbidden`` for a non-admin and ``Conflict`` for one's own account
    (an admin locking themself out leaves nobody to undo it).
    """
    from doorstep.errors import Forbidden, NotFound

    if not actor.has_role("admin"):
        raise Forbidden("Only admins manage accounts.")
    user = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if user.id == actor.user_id:
        raise Conflict("You cannot deactivate your own account.", {"user_id": ["Your own account."]})
    if user.active:
        user.active = False
        session.flush()
        record_access(actor, "update", "user", user.id, fields=["active"])
    return user


def set_user_locale(actor: Actor, locale: str) -> User:
    """Keep the language ``actor`` chose (``zh`` or ``en``) on their own account."""
    if locale not in LOCALES:
        raise ValidationFailed(f"Unknown locale {locale!r}.", {"locale": [f"One of: {', '.join(LOCALES)}."]})
    user = session.get(User, actor.user_id)
    if user is None:
        raise Unauthorized("This account is not active.")
    if user.locale != locale:
        user.locale = locale
        session.flush()
    return user


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenArgs)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    def post(self, args: dict) -> dict:
        """Sign in with username and password"""
        return issue_tokens(authenticate(args["username"], args["password"]))


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshArgs)
    @blp.response(200, TokenSchema)
    def post(self, args: dict) -> dict:
        """Exchange a refresh token for a new access token"""
        claims = decode_token(args["refresh_token"], "refresh")
        user = session.get(User, int(claims["sub"]))
        if user is None or not user.active:
            raise Unauthorized("This account is not active.")
        return issue_tokens(user)


@blp.route("/users")
class Users(MethodView):
    @unit_of_work
    @require_role("admin")
    @blp.arguments(UserCreateArgs)
    @blp.response(201, UserSchema)
    def post(self, args: dict) -> User:
        """Create an account (admin)"""
        return create_user(args.pop("username"), args.pop("password"), args.pop("role"),
                           actor=current_actor(), **args)
