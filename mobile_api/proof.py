"""Proof of delivery: the seal scanned at pickup, the patient's one-time code, signature or photo
uploads, the cold-chain box's temperature log.

At ``deliver`` the courier gives the recipient's name, the parcel's seal code (it must match the
one scanned at pickup), and either the patient's 6-digit code or an uploaded signature/photo of
this stop; a cold-chain parcel also brings the delivery box's temperature log. Everything is
checked before anything is written, so a refused delivery changes nothing - except that a wrong
code is counted, in its own transaction, and ``MAX_CODE_TRIES`` wrong codes lock it.

Proof files are health data: served only to the parcel's pharmacy, dispatchers and the patient,
each read audited; their contents and the codes are never logged.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from dispatch.models import Stop, StopEvent
from doorstep.audit import record_access
from doorstep.auth import Actor, current_actor
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, NotFound, ValidationFailed
from doorstep.files import discard_unless_committed, file_store
from mobile_api.access import access_my_stop
from mobile_api.models import DeliveryCode, EvvException, ProofFile
from orders.access import access_delivery_order
from orders.models import DeliveryOrder, Order

log = logging.getLogger("doorstep.proof")

MAX_CODE_TRIES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
MAGIC = {b"\x89PNG\r\n\x1a\n": ("image/png", "png"), b"\xff\xd8\xff": ("image/jpeg", "jpg")}
COLD_RANGE_C = (2.0, 8.0)
FILE_READERS = ("pharmacist", "dispatcher", "patient")


def settings() -> Any:
    return current_app.config["SETTINGS"]


# --- the patient's one-time code ---------------------------------------------------------------

def issue_code(order: DeliveryOrder) -> None:
    """A fresh 6-digit code as the parcel goes out for delivery (again, after a re-delivery)."""
    code = f"{secrets.randbelow(10**6):06d}"
    row = session.get(DeliveryCode, order.id)
    if row is None:
        session.add(DeliveryCode(order_id=order.id, code=code))
    else:
        row.code, row.issued_at, row.failures, row.locked_at, row.used_at = code, utcnow(), 0, None, None
    log.info("event=delivery_code_issued order_id=%s", order.id)  # never the code


def delivery_code_for_owner(order: Order) -> str | None:
    """The code, for the parcel's own patient while it is out for delivery; None for anyone else."""
    actor = current_actor()
    if actor.role != "patient" or actor.patient_id != order.patient_id or order.status != "out_for_delivery":
        return None
    row = session.get(DeliveryCode, order.id)
    return row.code if row is not None and row.used_at is None and row.locked_at is None else None


def _count_wrong_code(order_id: int) -> int:
    """One more wrong try, committed on its own connection (the refused delivery rolls back);
    returns the tries so far. The caller has written nothing yet, so no lock stands in the way."""
    engine = session.get_bind()
    with engine.begin() as conn:
        conn.execute(update(DeliveryCode).where(DeliveryCode.order_id == order_id)
                     .values(failures=DeliveryCode.failures + 1))
        failures = conn.scalar(select(DeliveryCode.failures).where(DeliveryCode.order_id == order_id))
        if failures >= MAX_CODE_TRIES:
            conn.execute(update(DeliveryCode).where(DeliveryCode.order_id == order_id,
                                                    DeliveryCode.locked_at.is_(None)).values(locked_at=utcnow()))
    return failures


# --- the seal ---------------------------------------------------------------------------------

def normalise_seal(value: str) -> str:
    return "".join(value.split()).upper()


def check_seal_at_pickup(order: Order | None, seal_code: str | None) -> None:
    if not isinstance(order, DeliveryOrder):
        if seal_code is not None:
            raise ValidationFailed("Only a parcel has a seal.", {"seal_code": ["Only at a parcel's pickup."]})
        return
    if not seal_code or not normalise_seal(seal_code):
        raise ValidationFailed("Scan the parcel's seal at pickup.", {"seal_code": ["Required at pickup."]})


# --- checking a delivery ----------------------------------------------------------------------

@dataclass
class DeliveryCheck:
    """What ``check_delivery`` found; ``apply_delivery`` writes it once the report is made."""

    recipient_name: str
    seal_code: str
    method: str  # code, signature, photo
    file_ids: list[int] = field(default_factory=list)
    temperature_log: list[dict[str, Any]] | None = None
    excursion_minutes: int | None = None


def check_delivery(stop: Stop, order: Order | None, proof: dict[str, Any] | None) -> DeliveryCheck:
    """Validate a ``deliver`` report's proof before anything is written (422 naming the field;
    a locked code is 409). A wrong code is counted (see ``_count_wrong_code``)."""
    if not isinstance(order, DeliveryOrder):
        raise ValidationFailed("Only a parcel is delivered.", {"type": ["Only at a parcel's drop-off."]})
    proof = proof or {}
    errors: dict[str, list[str]] = {}
    name = (proof.get("recipient_name") or "").strip()
    if not name:
        errors["proof.recipient_name"] = ["Required: who took the parcel."]
    seal = normalise_seal(proof.get("seal_code") or "")
    if not seal:
        errors["proof.seal_code"] = ["Required: scan the parcel's seal."]
    elif order.seal_code is not None and seal != order.seal_code:
        errors["proof.seal_code"] = ["Does not match the seal scanned at pickup."]
    file_ids = list(dict.fromkeys(proof.get("file_ids") or []))
    files = _files_of(stop, file_ids)
    if len(files) != len(file_ids):
        errors["proof.file_ids"] = ["Upload each file at this stop first (POST .../proof)."]
    code = proof.get("code")
    if code is None and not file_ids:
        errors["proof"] = ["Give the patient's code, or a signature or photo (file_ids)."]
    log_entries = proof.get("temperature_log")
    if order.cold_chain and not log_entries:
        errors["proof.temperature_log"] = ["Required for a cold-chain parcel: the delivery box's log."]
    elif log_entries and not order.cold_chain:
        errors["proof.temperature_log"] = ["Only for a cold-chain parcel."]
    if errors:
        raise ValidationFailed("The proof of delivery is not complete.", errors)
    if code is not None:
        _check_code(order.id, code)
    method = "code" if code is not None else files[0].kind
    entries = sorted(log_entries or [], key=lambda e: e["at"])
    excursion = longest_excursion_minutes(entries) if order.cold_chain else None
    limit = settings().cold_chain_excursion_minutes
    return DeliveryCheck(name, seal, method, [f.id for f in files],
                         [{"at": e["at"].isoformat(), "celsius": e["celsius"]} for e in entries] or None,
                         excursion if excursion is not None and excursion > limit else None)


def _check_code(order_id: int, code: str) -> None:
    row = session.get(DeliveryCode, order_id)
    if row is not None and row.locked_at is not None:
        raise Conflict("Too many wrong codes: the code is locked. Use a signature or photo instead.",
                       extra={"errors": {"proof.code": ["Locked after too many wrong tries."]}})
    if row is None or row.used_at is not None or not hmac.compare_digest(row.code, code.strip()):
        tries = _count_wrong_code(order_id) if row is not None else 0
        left = max(MAX_CODE_TRIES - tries, 0)
        log.info("event=delivery_code_wrong order_id=%s tries=%s", order_id, tries)
        raise ValidationFailed("The code is not the patient's.",
                               {"proof.code": [f"Wrong code; {left} tries left." if left else
                                               "Wrong code; the code is now locked."]})


def longest_excursion_minutes(entries: list[dict[str, Any]]) -> int:
    """The longest stretch, in whole minutes rounded up, that the box spent outside 2-8 °C: a
    reading holds until the next one, and a stretch ends at the first reading back in range."""
    longest, began = timedelta(0), None
    for entry in entries:
        outside = not (COLD_RANGE_C[0] <= entry["celsius"] <= COLD_RANGE_C[1])
        if outside and began is None:
            began = entry["at"]
        elif not outside and began is not None:
            longest, began = max(longest, entry["at"] - began), None
    if began is not None and entries:
        longest = max(longest, entries[-1]["at"] - began)
    return -(-int(longest.total_seconds()) // 60)


def apply_delivery(actor: Actor, stop: Stop, order: DeliveryOrder, event: StopEvent, check: DeliveryCheck) -> None:
    """Write what a checked delivery proved: the proof on the report, the code used, an excursion
    on the order and in the office's queue."""
    event.proof = {"recipient_name": check.recipient_name, "method": check.method, "seal_code": check.seal_code,
                   "file_ids": check.file_ids, "temperature_log": check.temperature_log,
                   "excursion_minutes": check.excursion_minutes}
    if check.method == "code":
        session.get(DeliveryCode, order.id).used_at = utcnow()
    if check.excursion_minutes is not None:
        order.cold_chain_excursion_minutes = check.excursion_minutes
        event.flags = [*(event.flags or []), "temperature_excursion"]
        session.flush()
        session.add(EvvException(kind="temperature_excursion", stop_id=stop.id, order_id=order.id,
                                 worker_id=stop.route.worker_id, event_type="deliver", stop_event_id=event.id,
                                 raised_by=actor.user_id, dedupe_key=f"temperature_excursion:{stop.id}"))
        log.warning("event=cold_chain_excursion order_id=%s stop_id=%s minutes=%s", order.id, stop.id,
                    check.excursion_minutes)


def _files_of(stop: Stop, file_ids: list[int]) -> list[ProofFile]:
    if not file_ids:
        return []
    return list(session.scalars(select(ProofFile).where(ProofFile.id.in_(file_ids), ProofFile.stop_id == stop.id)
                                .order_by(ProofFile.id)))


# --- uploads and reads ------------------------------------------------------------------------

def upload_proof(actor: Actor, stop_id: int, *, kind: str, data: bytes) -> ProofFile:
    """Keep a signature or photo for a drop-off of mine not yet done: PNG or JPEG by its first
    bytes (whatever the name or header claims), at most 5 MB.

    The file is written before its row, and deleted again if the row's transaction rolls back:
    a store that is down is a 503 with nothing written, and no row names a missing file."""
    stop = access_my_stop(actor, stop_id)
    if stop.type != "dropoff":
        raise ValidationFailed("Proof is uploaded at a parcel's drop-off.", {"file": ["Only at a drop-off."]})
    if stop.status in ("done", "failed"):
        raise Conflict(f"This stop is {stop.status}; proof comes before the delivery.")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed("The file is larger than 5 MB.", {"file": ["At most 5 MB."]})
    kind_of = next((found for magic, found in MAGIC.items() if data.startswith(magic)), None)
    if kind_of is None:
        raise ValidationFailed("Only PNG and JPEG images are kept.", {"file": ["Not a PNG or JPEG image."]})
    content_type, extension = kind_of
    key = f"proof/{stop.order_id}/{uuid.uuid4().hex}.{extension}"
    file_store().put(key, data, content_type)
    discard_unless_committed(key)
    row = ProofFile(stop_id=stop.id, order_id=stop.order_id, kind=kind, content_type=content_type,
                    size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                    uploaded_by=actor.user_id)
    session.add(row)
    session.flush()
    record_access(actor, "create", "proof_file", row.id, order_id=stop.order_id)
    log.info("event=proof_uploaded file_id=%s stop_id=%s kind=%s size_bytes=%s", row.id, stop.id, kind, len(data))
    return row


def _access_parcel(actor: Actor, order_id: int) -> DeliveryOrder:
    if actor.role not in FILE_READERS:
        raise NotFound(f"No order {order_id}.")
    return access_delivery_order(actor, order_id)


def read_proof_file(actor: Actor, file_id: int) -> tuple[ProofFile, bytes]:
    """A proof file's bytes for the parcel's pharmacy, dispatchers and its patient (others: 404); audited."""
    row = session.get(ProofFile, file_id)
    if row is None:
        raise NotFound(f"No file {file_id}.")
    try:
        _access_parcel(actor, row.order_id)
    except NotFound:
        raise NotFound(f"No file {file_id}.") from None
    record_access(actor, "read", "proof_file", row.id, order_id=row.order_id)
    return row, file_store().get(row.storage_key)


@dataclass(frozen=True)
class DeliveryProof:
    order_id: int
    status: str
    delivered_at: datetime | None
    recipient_name: str | None
    method: str | None
    seal_code: str | None
    seal_at_pickup: str | None
    files: list[ProofFile]
    temperature_log: list[dict[str, Any]] | None
    excursion_minutes: int | None


def get_delivery_proof(actor: Actor, order_id: int) -> DeliveryProof:
    """What the parcel's delivery proved, for the same readers as the files; audited."""
    order = _access_parcel(actor, order_id)
    event = session.scalar(select(StopEvent).join(Stop, StopEvent.stop_id == Stop.id)
                           .where(Stop.order_id == order.id, StopEvent.type == "deliver")
                           .order_by(StopEvent.id.desc()).limit(1))
    proof = (event.proof or {}) if event is not None else {}
    files = list(session.scalars(select(ProofFile).where(ProofFile.id.in_(proof.get("file_ids") or []))
                                 .order_by(ProofFile.id)))
    record_access(actor, "read", "delivery_proof", order.id)
    return DeliveryProof(order.id, order.status, (event.corrected_at or event.at) if event else None,
                         proof.get("recipient_name"), proof.get("method"), proof.get("seal_code"), order.seal_code,
                         files, proof.get("temperature_log"), order.cold_chain_excursion_minutes)
