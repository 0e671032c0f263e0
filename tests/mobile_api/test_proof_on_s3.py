"""Proof of delivery on an S3-compatible file store: moto's S3 server over HTTP on a free port.

The upload and read tests of ``test_proof_of_delivery`` run again here against the bucket (imported
below, so pytest collects them in this module, where ``s3_store`` swaps the store in); then what is
only S3's: the object's content type, encryption and key, and an outage (503, no row, no object).
"""
from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from doorstep.errors import Conflict
from doorstep.files import store_for
from mobile_api.models import ProofFile
from tests.mobile_api import test_proof_of_delivery as on_disk
from tests.mobile_api.helpers import count
from tests.mobile_api.test_proof_of_delivery import JPEG, PNG, deliver, upload

# The fixture and the upload/read tests of the local store, collected again in this module (on S3).
at_the_door = on_disk.at_the_door
test_uploads_are_png_or_jpeg_by_their_bytes_at_most_5_mb_on_my_drop_off = (
    on_disk.test_uploads_are_png_or_jpeg_by_their_bytes_at_most_5_mb_on_my_drop_off)
test_proof_files_are_served_to_the_pharmacy_the_office_and_the_patient_only = (
    on_disk.test_proof_files_are_served_to_the_pharmacy_the_office_and_the_patient_only)
test_a_wrong_code_is_422_changes_nothing_and_five_lock_it = (
    on_disk.test_a_wrong_code_is_422_changes_nothing_and_five_lock_it)

BUCKET = "doorstep-proof"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def start_s3_server() -> tuple[ThreadedMotoServer, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    """One moto S3 server for the module, on a free port of the loopback."""
    server, url = start_s3_server()
    yield url
    server.stop()


def bucket_of(url: str) -> Any:
    return boto3.client("s3", endpoint_url=url, **CREDENTIALS)


def s3_settings(app: Any, url: str) -> Any:
    return app.config["SETTINGS"].with_overrides(
        files_url=f"s3://{BUCKET}/hospital-a", s3_endpoint_url=url, s3_region="us-east-1",
        s3_access_key_id="testing", s3_secret_access_key="testing", s3_addressing_style="path")


@pytest.fixture(autouse=True)
def s3_store(app: Any, s3_url: str) -> Iterator[Any]:
    """The app keeps proof files in an empty bucket of the moto server for this test."""
    s3 = bucket_of(s3_url)
    s3.create_bucket(Bucket=BUCKET)
    original = app.extensions["doorstep.files"]
    app.extensions["doorstep.files"] = store_for(s3_settings(app, s3_url))
    yield s3
    app.extensions["doorstep.files"] = original
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def objects(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_an_upload_is_an_encrypted_object_with_its_content_type_under_a_key_without_personal_data(
        client, personas, at_the_door, s3_store) -> None:
    uploaded = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], PNG)

    assert uploaded.status_code == 201
    [key] = objects(s3_store)
    assert re.fullmatch(rf"hospital-a/proof/{at_the_door.parcel_id}/[0-9a-f]{{32}}\.png", key)
    head = s3_store.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/png" and head["ServerSideEncryption"] == "AES256"
    assert s3_store.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PNG


def test_delivered_by_photo_the_proof_reads_back_from_the_bucket(client, personas, at_the_door, report) -> None:
    photo = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], JPEG, "photo", "door.jpg")

    delivered = deliver(report, at_the_door, file_ids=[photo.get_json()["id"]])

    assert delivered.status_code == 201
    proof = client.get(f"/api/v1/orders/{at_the_door.parcel_id}/proof", headers=personas.headers("patient_wang"))
    [shown] = proof.get_json()["files"]
    image = client.get(shown["url"], headers=personas.headers("patient_wang"))
    assert image.status_code == 200 and image.data == JPEG and image.mimetype == "image/jpeg"


def test_without_encryption_for_a_provider_that_refuses_it_no_header_is_sent(
        app, client, personas, at_the_door, s3_store, s3_url) -> None:
    app.extensions["doorstep.files"] = store_for(
        s3_settings(app, s3_url).with_overrides(s3_server_side_encryption=None))

    assert upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], PNG).status_code == 201

    [key] = objects(s3_store)
    assert "ServerSideEncryption" not in s3_store.head_object(Bucket=BUCKET, Key=key)


def test_a_store_that_is_down_is_503_and_keeps_neither_row_nor_object(app, client, personas, at_the_door) -> None:
    server, url = start_s3_server()
    app.extensions["doorstep.files"] = store_for(s3_settings(app, url))
    server.stop()

    response = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], PNG)

    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "nothing was kept" in response.get_json()["detail"]
    assert count(ProofFile) == 0


def test_an_upload_whose_row_is_not_saved_leaves_no_object_behind(client, personas, at_the_door, s3_store,
                                                                  monkeypatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise Conflict("Something after the file went wrong.")

    monkeypatch.setattr("mobile_api.proof.record_access", refuse)  # after the object, before the commit

    response = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], PNG)

    assert response.status_code == 409
    assert count(ProofFile) == 0 and objects(s3_store) == []


def test_reading_a_file_while_the_store_is_down_is_503(app, client, personas, at_the_door, s3_url) -> None:
    file_id = upload(client, personas, "courier_zhao", at_the_door.stops["zhao_dropoff"], PNG).get_json()["id"]
    server, url = start_s3_server()
    app.extensions["doorstep.files"] = store_for(s3_settings(app, url))
    server.stop()

    response = client.get(f"/api/v1/files/{file_id}", headers=personas.headers("pharmacist_chen"))

    assert response.status_code == 503 and response.mimetype == "application/problem+json"
