"""The url adapter against real services: moto's S3 server and Azurite (identity, kept bytes, located errors)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlspec.sources import remote
from mlspec.sources.base import Concern, Reading, SourceError
from mlspec.sources.storefs import STORE_FILESYSTEMS
from mlspec.spec import UrlSource
from tests.sources.remotekit import S3_ENV, az_container, az_put, s3_bucket, s3_put
from tests.store.conftest import StoreServer

ADAPTER = remote.UrlAdapter()
CSV = b"x,y\n1,0\n2,1\n3,1\n"
WHERE = ("data", "sources", "train", "url")


@pytest.fixture
def s3(s3_server: StoreServer, monkeypatch: pytest.MonkeyPatch) -> StoreServer:
    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    return s3_server


@pytest.fixture
def az(azurite: StoreServer, monkeypatch: pytest.MonkeyPatch) -> StoreServer:
    for key, value in azurite.env.items():
        monkeypatch.setenv(key, value)
    return azurite


def reading(into: Path | None, endpoint: str | None = None) -> Reading:
    return Reading(into=into, store_endpoint=endpoint, filesystems=STORE_FILESYSTEMS)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_what_the_fingerprints_ci_and_reports_see() -> None:
    source = UrlSource(kind="url", url="s3://bkt/data/t.csv.gz", description="doc", max_size_mib=5)
    # The object and its parsing; not the description nor the size limit (they shape no table).
    assert ADAPTER.section(source) == {"kind": "url", "url": "s3://bkt/data/t.csv.gz", "format": "csv"}
    assert ADAPTER.section(UrlSource(kind="url", url="s3://bkt/t.pq", endpoint_url="http://h:9000")) == {
        "kind": "url", "url": "s3://bkt/t.pq", "format": "parquet", "endpoint_url": "http://h:9000"}
    assert ADAPTER.files(source) == []  # no project file: the object's identity is an external input
    assert (ADAPTER.location(source), ADAPTER.table_format(source)) == ("s3://bkt/data/t.csv.gz", "csv")


def test_raw_names_keep_the_suffix_that_says_how_to_parse() -> None:
    from mlspec.sourceurl import parse

    assert remote.raw_name("train", parse("s3://b1/a/t.csv.gz"), "csv") == "train.csv.gz"
    assert remote.raw_name("train", parse("https://h/export"), "parquet") == "train.parquet"
    assert remote.raw_name("train", parse("https://h/t.txt"), "csv") == "train.csv"


def test_concerns_at_validation(tmp_path: Path) -> None:
    assert ADAPTER.concerns(tmp_path, "train", UrlSource(kind="url", url="https://example.com/t.csv")) == []
    assert ADAPTER.concerns(tmp_path, "train", UrlSource(kind="url", url="http://127.0.0.1:8000/t.csv")) == []
    assert ADAPTER.concerns(tmp_path, "train", UrlSource(kind="url", url="http://example.com/t.csv")) == [
        Concern(WHERE, "'http://example.com/t.csv' is plain http: the bytes can be changed on the way; use https://",
                warning=True)]


def test_s3_read_keeps_the_bytes_and_the_identity(s3: StoreServer, tmp_path: Path) -> None:
    bucket = s3_bucket(s3, versioned=True)
    s3_put(s3, bucket, "data/train.csv", CSV)
    source = UrlSource(kind="url", url=f"s3://{bucket}/data/train.csv")
    read = ADAPTER.read(tmp_path, "train", source, reading(tmp_path / "source", s3.endpoint_url))
    assert read.frame["x"].tolist() == [1, 2, 3]
    assert read.identity == sha(CSV)
    assert read.raw == tmp_path / "source" / "train.csv" and read.raw.read_bytes() == CSV
    assert sorted(p.name for p in (tmp_path / "source").iterdir()) == ["train.csv"]  # no temporary left
    origin = read.origin
    assert origin is not None
    assert (origin.url, origin.size, origin.etag) == (source.url, len(CSV), '"' + hashlib.md5(CSV).hexdigest() + '"')
    assert origin.version_id and origin.last_modified and origin.last_modified.endswith("Z")


def test_s3_probe_is_unchanged_until_the_object_is_replaced(s3: StoreServer) -> None:
    bucket = s3_bucket(s3)
    s3_put(s3, bucket, "t.csv", CSV)
    source = UrlSource(kind="url", url=f"s3://{bucket}/t.csv")
    first = ADAPTER.probe("train", source, reading(None, s3.endpoint_url))
    assert list(first) == [source.url] and first[source.url].startswith('etag "')
    assert ADAPTER.probe("train", source, reading(None, s3.endpoint_url)) == first
    s3_put(s3, bucket, "t.csv", CSV + b"4,0\n")
    assert ADAPTER.probe("train", source, reading(None, s3.endpoint_url)) != first


def test_versioned_bucket_identity_is_the_version(s3: StoreServer) -> None:
    bucket = s3_bucket(s3, versioned=True)
    s3_put(s3, bucket, "t.csv", CSV)
    source = UrlSource(kind="url", url=f"s3://{bucket}/t.csv")
    first = ADAPTER.probe("train", source, reading(None, s3.endpoint_url))[source.url]
    assert first.startswith("version ")
    s3_put(s3, bucket, "t.csv", CSV)  # the same bytes again: a new version, so the stage reruns
    assert ADAPTER.probe("train", source, reading(None, s3.endpoint_url))[source.url] != first


def test_parquet_object(s3: StoreServer, tmp_path: Path) -> None:
    import io

    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"a": [1.5, 2.5]}).to_parquet(buffer)
    bucket = s3_bucket(s3)
    s3_put(s3, bucket, "t.parquet", buffer.getvalue())
    source = UrlSource(kind="url", url=f"s3://{bucket}/t.parquet")
    read = ADAPTER.read(tmp_path, "train", source, reading(tmp_path, s3.endpoint_url))
    assert read.frame["a"].tolist() == [1.5, 2.5] and read.identity == sha(buffer.getvalue())


def test_s3_errors_name_the_url_and_what_to_set(s3: StoreServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = s3_bucket(s3)
    missing = UrlSource(kind="url", url=f"s3://{bucket}/nope.csv")
    with pytest.raises(SourceError) as caught:
        ADAPTER.read(tmp_path, "train", missing, reading(tmp_path, s3.endpoint_url))
    assert str(caught.value) == (f"data source 'train': s3://{bucket}/nope.csv does not exist; check `url`, or "
                                 "upload the object first")
    assert caught.value.spec_path == WHERE
    assert ADAPTER.probe("train", missing, reading(None, s3.endpoint_url)) == {missing.url: remote.UNAVAILABLE}

    s3_put(s3, bucket, "t.csv", CSV)
    source = UrlSource(kind="url", url=f"s3://{bucket}/t.csv")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(SourceError) as caught:
        ADAPTER.read(tmp_path, "train", source, reading(tmp_path, s3.endpoint_url))
    assert str(caught.value).startswith(f"data source 'train': s3://{bucket}/t.csv: access refused (")
    assert str(caught.value).endswith("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role: "
                                      "OIDC in CI)")


def test_unreachable_endpoint_names_the_endpoint_settings(s3: StoreServer, tmp_path: Path) -> None:
    from tests.servers import free_port

    down = f"http://127.0.0.1:{free_port()}"
    source = UrlSource(kind="url", url="s3://bkt1/t.csv")
    with pytest.raises(SourceError) as caught:
        ADAPTER.read(tmp_path, "train", source, reading(tmp_path, down))
    message = str(caught.value)
    assert message.startswith(f"data source 'train': cannot look up s3://bkt1/t.csv at {down} (an S3-compatible "
                              "service needs data.sources.<name>.endpoint_url (default: store.endpoint_url or "
                              "MLSPEC_STORE_ENDPOINT_URL), or AWS_ENDPOINT_URL): ")
    assert message.endswith("check that the service is reachable")


def test_too_large_is_refused_before_the_download(s3: StoreServer, tmp_path: Path) -> None:
    bucket = s3_bucket(s3)
    s3_put(s3, bucket, "t.csv", b"x\n" + b"1\n" * (1 << 20))
    source = UrlSource(kind="url", url=f"s3://{bucket}/t.csv", max_size_mib=1)
    with pytest.raises(SourceError) as caught:
        ADAPTER.read(tmp_path, "train", source, reading(tmp_path / "source", s3.endpoint_url))
    assert str(caught.value) == (f"data source 'train': s3://{bucket}/t.csv is 2.0 MiB, more than the 1.0 MiB the "
                                 "source allows; raise `max_size_mib` if that is expected")
    assert not (tmp_path / "source").exists() or not list((tmp_path / "source").iterdir())


def test_large_download_logs_progress(s3: StoreServer, tmp_path: Path) -> None:
    data = b"x\n" + b"7\n" * (40 << 20)  # 80 MiB: large enough for progress lines
    bucket = s3_bucket(s3)
    s3_put(s3, bucket, "big.csv", data)
    lines: list[str] = []
    source = UrlSource(kind="url", url=f"s3://{bucket}/big.csv")
    read = ADAPTER.read(tmp_path, "big", source, Reading(into=tmp_path, store_endpoint=s3.endpoint_url,
                                                         log=lines.append, filesystems=STORE_FILESYSTEMS))
    assert read.identity == sha(data) and len(read.frame) == 40 << 20
    assert lines[-1] == f"fetched s3://{bucket}/big.csv: 80.0 MiB"
    assert any(line.startswith(f"fetching s3://{bucket}/big.csv: ") and line.endswith("%)") for line in lines[:-1])


def test_azure_blob(az: StoreServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    container = az_container(az)
    az_put(az, container, "d/t.csv", CSV)
    source = UrlSource(kind="url", url=f"az://{container}/d/t.csv")
    read = ADAPTER.read(tmp_path, "train", source, reading(tmp_path))
    assert read.identity == sha(CSV) and read.origin is not None and read.origin.etag
    first = ADAPTER.probe("train", source, reading(None))
    assert first == ADAPTER.probe("train", source, reading(None)) and first[source.url].startswith("etag ")
    az_put(az, container, "d/t.csv", CSV + b"9,9\n")
    assert ADAPTER.probe("train", source, reading(None)) != first

    refused = az.env["AZURE_STORAGE_CONNECTION_STRING"].replace("AccountKey=Eby8", "AccountKey=Xby8")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", refused)
    with pytest.raises(SourceError) as caught:
        ADAPTER.read(tmp_path, "train", source, reading(tmp_path))
    assert str(caught.value).startswith(f"data source 'train': az://{container}/d/t.csv: access refused (")
    assert str(caught.value).endswith("; set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with "
                                      "AZURE_STORAGE_ACCOUNT_KEY")
