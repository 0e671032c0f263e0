"""The file store: where uploaded proof (signatures, photos) is kept, behind one small interface.

``DOORSTEP_FILES_URL`` chooses it. Unset (the default): a folder ``files/`` in the instance
folder. ``file:///some/path``: that folder. ``s3://bucket/prefix`` is recognised but not yet
implemented: start-up stops with a clear message instead of silently writing to disk (an
S3 store needs only ``put``/``get`` below, with boto3 and endpoint/key settings).

Keys are chosen by the caller (random, no personal data); a key never leaves its folder.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from flask import current_app

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,200})*$")


class FileStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class LocalFileStore:
    """Files in a folder; written to a temporary name and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not KEY.match(key) or ".." in key:
            raise ValueError(f"not a file key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def store_for(files_url: str | None, instance_path: Path) -> FileStore:
    """The store a ``DOORSTEP_FILES_URL`` names; ``ValueError`` for one we cannot serve."""
    if not files_url:
        return LocalFileStore(instance_path / "files")
    parsed = urlparse(files_url)
    if parsed.scheme == "file":
        return LocalFileStore(Path(parsed.path))
    if parsed.scheme == "s3":
        raise ValueError("DOORSTEP_FILES_URL=s3://... is not supported yet; leave it unset (the instance "
                         "folder's files/) or use file:///path (e.g. a mounted volume)")
    raise ValueError(f"DOORSTEP_FILES_URL: expected file:///path or s3://bucket/prefix, got {files_url!r}")


def file_store() -> FileStore:
    return current_app.extensions["doorstep.files"]


def init_app(app: object) -> None:
    """Build the store once; a store we cannot serve stops start-up."""
    settings = app.config["SETTINGS"]  # type: ignore[attr-defined]
    app.extensions["doorstep.files"] = store_for(settings.files_url, Path(settings.instance_path))  # type: ignore[attr-defined]
