"""The file store: where uploaded proof (signatures, photos) is kept, behind one small interface.

``DOORSTEP_FILES_URL`` chooses it. Unset (the default): a folder ``files/`` in the instance
folder. ``file:///some/path``: that folder. ``s3://bucket/prefix``: an S3-compatible bucket
(AWS, MinIO, Ceph, Aliyun OSS, Tencent COS) through boto3, with the endpoint, region and
keys from the settings (``DOORSTEP_S3_*`` and the standard ``AWS_*``). A URL we cannot
serve stops start-up, naming the setting.

Keys are chosen by the caller (random, no personal data); a key never leaves its folder or
prefix. A store that cannot be reached is ``FileStoreUnavailable`` (503): the caller writes
the file before the row that points at it, and ``discard_unless_committed`` deletes the file
again if that row's transaction rolls back, so no row ever names a missing file.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from doorstep.db import session
from doorstep.errors import DomainError

log = logging.getLogger("doorstep.files")

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,200})*$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3's rule, which OSS and COS share
DISCARD = "doorstep.files.discard"


class FileStoreUnavailable(DomainError):
    """503: the file store did not take or give a file (down, unreachable, refusing us).

    Nothing was kept: the same request can succeed later, which is what 503 tells a phone.
    """

    status, title, type_ = 503, "File store unavailable", "https://doorstep.dev/problems/file-store-unavailable"


class FileStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not KEY.match(key) or ".." in key:
        raise ValueError(f"not a file key: {key!r}")
    return key


class LocalFileStore:
    """Files in a folder; written to a temporary name and renamed, so a reader never sees half a file.
    The content type is not kept: the caller's row has it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        partial = path.with_name(path.name + ".partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, path)
        except OSError as exc:  # a full or read-only disk, a lost volume
            partial.unlink(missing_ok=True)
            raise _unavailable("put", exc) from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise _unavailable("get", exc) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3FileStore:
    """Objects in an S3-compatible bucket under ``prefix``, with their content type and, unless
    turned off for a provider that refuses it, server-side encryption (proof files are health data).

    A PUT is atomic in S3: an object is there whole or not at all. The client is made on first use
    in each process (gunicorn and Celery fork), with short timeouts and few retries so that an
    outage answers a phone in seconds, and without the newer default checksums that several
    S3-compatible services refuse (a Content-MD5 guards each upload instead).
    """

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None, region: str | None,
                 access_key_id: str | None, secret_access_key: str | None, session_token: str | None,
                 server_side_encryption: str | None, addressing_style: str) -> None:
        self.bucket, self.prefix, self.sse = bucket, prefix, server_side_encryption
        self._client_args = {"endpoint_url": endpoint_url, "region_name": region,
                             "aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key,
                             "aws_session_token": session_token}
        self._addressing_style = addressing_style
        self._client: Any = None
        self._pid = 0

    @property
    def client(self) -> Any:
        if self._client is None or self._pid != os.getpid():
            import boto3
            from botocore.config import Config

            config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"},
                            s3={"addressing_style": self._addressing_style},
                            request_checksum_calculation="when_required",
                            response_checksum_validation="when_required")
            self._client = boto3.session.Session().client("s3", config=config, **self._client_args)
            self._pid = os.getpid()
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{_checked(key)}" if self.prefix else _checked(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"ServerSideEncryption": self.sse} if self.sse else {}
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # Content-MD5: integrity, not secrecy
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type,
                                   ContentMD5=md5, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable("put", exc) from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable("get", exc) from exc

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def _unavailable(op: str, exc: Exception) -> FileStoreUnavailable:
    code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")  # S3's, e.g. AccessDenied
    log.error("event=file_store_failed op=%s error=%s code=%s", op, type(exc).__name__, code)
    return FileStoreUnavailable("The file store did not answer; nothing was kept. Try again later."
                                if op == "put" else "The file store did not answer; try again later.")


def store_for(settings: Any) -> FileStore:
    """The store ``settings.files_url`` names; ``ValueError`` naming the setting for one we cannot serve."""
    files_url = settings.files_url
    if not files_url:
        return LocalFileStore(Path(settings.instance_path) / "files")
    parsed = urlparse(files_url)
    if parsed.scheme == "file":
        return LocalFileStore(Path(parsed.path))
    if parsed.scheme == "s3":
        return _s3_store(files_url, settings)
    raise ValueError(f"DOORSTEP_FILES_URL: expected file:///path or s3://bucket/prefix, got {files_url!r}")


def _s3_store(files_url: str, settings: Any) -> S3FileStore:
    parsed = urlparse(files_url)
    if "@" in parsed.netloc or parsed.query or parsed.fragment:
        raise ValueError("DOORSTEP_FILES_URL: s3://bucket/prefix only; keys go in AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY, the endpoint in DOORSTEP_S3_ENDPOINT_URL")
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    if not BUCKET.match(bucket):
        raise ValueError(f"DOORSTEP_FILES_URL: {bucket!r} is not a bucket name (3-63 of a-z, 0-9, '.', '-')")
    if prefix and (not KEY.match(prefix) or ".." in prefix):
        raise ValueError(f"DOORSTEP_FILES_URL: the prefix {prefix!r} may hold only A-Z, a-z, 0-9, '_', '.', '-', '/'")
    endpoint = settings.s3_endpoint_url
    if endpoint is not None:
        parts = urlparse(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"DOORSTEP_S3_ENDPOINT_URL={endpoint!r}: an http(s) URL, e.g. https://oss-cn-beijing"
                             ".aliyuncs.com")
    return S3FileStore(bucket, prefix, endpoint_url=endpoint, region=settings.s3_region,
                       access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key,
                       session_token=settings.s3_session_token,
                       server_side_encryption=settings.s3_server_side_encryption,
                       addressing_style=settings.s3_addressing_style)


def file_store() -> FileStore:
    return current_app.extensions["doorstep.files"]


def discard_unless_committed(key: str) -> None:
    """Delete the file at ``key`` again if the current transaction rolls back (the row that would
    name it is never written); a commit keeps it."""
    session.info.setdefault(DISCARD, []).append((file_store(), key))


@event.listens_for(Session, "after_commit")
def _keep_files(sess: Session) -> None:
    sess.info.pop(DISCARD, None)


@event.listens_for(Session, "after_rollback")
def _discard_files(sess: Session) -> None:
    for store, key in sess.info.pop(DISCARD, []):
        try:
            store.delete(key)
        except Exception as exc:  # noqa: BLE001 - an orphan file is named by no row and holds no name
            log.warning("event=file_discard_failed error=%s", type(exc).__name__)


def init_app(app: object) -> None:
    """Build the store once; a store we cannot serve stops start-up."""
    app.extensions["doorstep.files"] = store_for(app.config["SETTINGS"])  # type: ignore[attr-defined]
