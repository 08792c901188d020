"""Source URLs: what each scheme names, and the refusals that keep secrets out of the committed spec."""

from __future__ import annotations

import pytest

from mlspec.sourceurl import SourceUrl, SourceUrlError, parse, problem, redacted


@pytest.mark.parametrize(("text", "parts"), [
    ("s3://bkt/data/t.csv", SourceUrl("s3", "bkt", "data/t.csv", text="s3://bkt/data/t.csv")),
    ("gcs://bkt/t.pq", SourceUrl("gs", "bkt", "t.pq", text="gcs://bkt/t.pq")),
    ("abfs://ctr/a/b.csv", SourceUrl("az", "ctr", "a/b.csv", text="abfs://ctr/a/b.csv")),
    ("sftp://me@host:2222/srv/t.csv", SourceUrl("sftp", "host", "/srv/t.csv", "me", 2222,
                                                "sftp://me@host:2222/srv/t.csv")),
    ("https://example.com/x/t.csv.gz", SourceUrl("https", "example.com", "/x/t.csv.gz",
                                                 text="https://example.com/x/t.csv.gz")),
    ("http://[::1]:8000/t.csv", SourceUrl("http", "::1", "/t.csv", port=8000, text="http://[::1]:8000/t.csv")),
])
def test_parts(text: str, parts: SourceUrl) -> None:
    assert parse(text) == parts and problem(text) is None


def test_loopback_and_name() -> None:
    assert parse("http://127.0.0.1:1/a/t.csv").loopback and parse("http://localhost/t.csv").loopback
    assert not parse("http://example.com/t.csv").loopback and not parse("http://10.0.0.1/t.csv").loopback
    assert parse("s3://bkt/a/t.csv.gz").name == "t.csv.gz"


@pytest.mark.parametrize(("text", "message"), [
    ("data/t.csv", "'data/t.csv' is not a URL; write s3://bucket/key, https://host[:port]/path, ... (a file of the "
                   "project is a source with `path:` instead)"),
    ("ftp://h/t.csv", "'ftp://h/t.csv': unknown scheme 'ftp'; use one of s3://, gs://, az://, sftp://, https://, "
                      "http://"),
    ("https://u:pw@h/t.csv", "'https://u:***@h/t.csv': never put a password in the spec; credentials come from the "
                             "environment (see the README's url sources)"),
    ("sftp://u:pw@h/t.csv", "'sftp://u:***@h/t.csv': never put a password in the spec; credentials come from the "
                            "environment (see the README's url sources)"),
    ("https://h/t.csv?sig=abc", "'https://h/t.csv?***': a source URL takes no query or fragment (a signed URL "
                                "carries its token there, and the spec is committed); credentials come from the "
                                "environment"),
    ("https://h/t.csv#x", "'https://h/t.csv#x': a source URL takes no query or fragment (a signed URL carries its "
                          "token there, and the spec is committed); credentials come from the environment"),
    ("https://token@h/t.csv", "'https://token@h/t.csv': write https://host[:port]/path; credentials come from the "
                              "environment"),
    ("s3://AKIA@bkt/t.csv", "'s3://AKIA@bkt/t.csv': write s3://bucket/key; credentials come from the environment"),
    ("s3://bkt:9000/t.csv", "'s3://bkt:9000/t.csv': write s3://bucket/key; an S3-compatible service's address goes "
                            "in `endpoint_url`"),
    ("s3://Bucket/t.csv", "'s3://Bucket/t.csv': 'Bucket' is not a bucket or container name (lowercase letters, "
                          "digits, '.', '-', '_')"),
    ("s3://bkt", "'s3://bkt': name one object (a file), not a bucket or a directory; write s3://bucket/key"),
    ("gs://bkt/dir/", "'gs://bkt/dir/': name one object (a file), not a bucket or a directory; write gs://bucket/key"),
    ("s3://bkt/../t.csv", "'s3://bkt/../t.csv': '.' and '..' have no place in a source URL"),
    ("https://h:99999/t.csv", "'https://h:99999/t.csv': the port must be a number from 1 to 65535"),
    ("https://h h/t.csv", "'https://h h/t.csv': a URL has no spaces or control characters (percent-encode them)"),
    ("https://h_!/t.csv", "'https://h_!/t.csv': write https://host[:port]/path"),
])
def test_refused(text: str, message: str) -> None:
    with pytest.raises(SourceUrlError) as caught:
        parse(text)
    assert str(caught.value) == message and problem(text) == message


def test_redacted_masks_passwords_and_queries() -> None:
    assert redacted("https://u:pw@h/t.csv?token=1") == "https://u:***@h/t.csv?***"
    assert redacted("s3://bkt/t.csv") == "s3://bkt/t.csv"
