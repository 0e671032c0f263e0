"""DOORSTEP_FILES_URL chooses the file store; one we cannot serve stops start-up, naming the setting."""
from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.files import LocalFileStore, S3FileStore, store_for
from doorstep.settings import Settings


def settings_of(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"DOORSTEP_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s" * 40, **env})


def test_unset_or_file_urls_are_folders(tmp_path: Path) -> None:
    default = store_for(settings_of(tmp_path))
    mounted = store_for(settings_of(tmp_path, DOORSTEP_FILES_URL="file:///mnt/proof"))

    assert isinstance(default, LocalFileStore) and default.root == tmp_path.resolve() / "files"
    assert isinstance(mounted, LocalFileStore) and mounted.root == Path("/mnt/proof")


def test_an_s3_url_takes_endpoint_keys_region_and_encryption_from_the_settings(tmp_path: Path) -> None:
    store = store_for(settings_of(
        tmp_path, DOORSTEP_FILES_URL="s3://proof-bucket/doorstep/prod/", DOORSTEP_S3_ENDPOINT_URL="https://minio:9000",
        AWS_ACCESS_KEY_ID="AKIA", AWS_SECRET_ACCESS_KEY="secret", AWS_DEFAULT_REGION="cn-north-1",
        DOORSTEP_S3_ADDRESSING_STYLE="path"))

    assert isinstance(store, S3FileStore)
    assert (store.bucket, store.prefix, store.sse) == ("proof-bucket", "doorstep/prod", "AES256")
    client = store.client
    assert client.meta.endpoint_url == "https://minio:9000" and client.meta.region_name == "cn-north-1"
    assert "wJalrXUtnFEMI" not in repr(settings_of(tmp_path, AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI"))


@pytest.mark.parametrize("sse, expected", [("none", None), ("off", None), ("aws:kms", "aws:kms"), ("aes256", "AES256")])
def test_encryption_can_be_turned_off_for_a_provider_that_refuses_it(tmp_path: Path, sse: str, expected: str) -> None:
    store = store_for(settings_of(tmp_path, DOORSTEP_FILES_URL="s3://proof-bucket", DOORSTEP_S3_SSE=sse))

    assert isinstance(store, S3FileStore) and store.sse == expected and store.prefix == ""


@pytest.mark.parametrize("env, setting", [
    ({"DOORSTEP_FILES_URL": "s3://"}, "DOORSTEP_FILES_URL"),
    ({"DOORSTEP_FILES_URL": "s3://Bad_Bucket/x"}, "DOORSTEP_FILES_URL"),
    ({"DOORSTEP_FILES_URL": "s3://key:secret@proof-bucket/x"}, "DOORSTEP_FILES_URL"),
    ({"DOORSTEP_FILES_URL": "s3://proof-bucket/../etc"}, "DOORSTEP_FILES_URL"),
    ({"DOORSTEP_FILES_URL": "ftp://host/x"}, "DOORSTEP_FILES_URL"),
    ({"DOORSTEP_FILES_URL": "s3://proof-bucket", "DOORSTEP_S3_ENDPOINT_URL": "minio:9000"}, "DOORSTEP_S3_ENDPOINT_URL"),
])
def test_a_store_we_cannot_serve_stops_start_up_naming_the_setting(tmp_path: Path, env: dict[str, str],
                                                                    setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        store_for(settings_of(tmp_path, **env))


@pytest.mark.parametrize("name", ["DOORSTEP_S3_SSE", "DOORSTEP_S3_ADDRESSING_STYLE"])
def test_an_unknown_s3_choice_stops_start_up_naming_the_setting(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        settings_of(tmp_path, **{name: "sideways"})
