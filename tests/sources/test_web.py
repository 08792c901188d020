"""https:// and http:// sources against a real http.server on 127.0.0.1: identity, bounds, redirects, tokens."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlspec.sources import remote, web
from mlspec.sources.base import Reading, SourceError
from mlspec.spec import UrlSource

ADAPTER = remote.UrlAdapter()
CSV = b"x,y\n1,0\n2,1\n"
TOKEN = "s3cr3t"


class Handler(http.server.SimpleHTTPRequestHandler):
    """Files from the served directory (Last-Modified, no ETag), and a few routes a real service has."""

    def log_message(self, format: str, *args: object) -> None:  # quiet: the test output is the asserts
        pass

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0]
        if route == "/etag/t.csv":
            return self._send(CSV, {"ETag": '"v1"'})
        if route == "/to-file.csv":
            return self._redirect("file:///etc/passwd")
        if route == "/to-https.csv":
            return self._redirect("https://127.0.0.1:1/t.csv")
        if route == "/to-same.csv":
            return self._redirect("/t.csv")
        if route == "/endless.csv":  # no Content-Length: the body decides its size
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x\n" + b"1\n" * (1 << 20))
            return None
        if route == "/short.csv":  # promises more than it sends
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(CSV)
            return None
        if route == "/private.csv":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_error(401, "Unauthorized")
                return None
            return self._send(CSV, {})
        if route == "/private-moved.csv":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_error(401, "Unauthorized")
                return None
            return self._redirect("/echo-auth.csv")
        if route == "/echo-auth.csv":  # shows whether a token followed the redirect
            return self._send(f"auth\n{self.headers.get('Authorization') or 'none'}\n".encode(), {})
        return super().do_GET()

    def do_HEAD(self) -> None:
        if self.path == "/no-head.csv":
            self.send_error(405)
            return
        if self.path == "/endless.csv":  # neither ETag nor Last-Modified nor Content-Length
            self.send_response(200)
            self.end_headers()
            return
        if self.path.startswith("/etag/"):
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(CSV)))
            self.end_headers()
            return
        super().do_HEAD()

    def _send(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, where: str) -> None:
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``tmp_path / "www"``; its base URL and the directory."""
    root = tmp_path / "www"
    root.mkdir()

    def handler(*args: object) -> Handler:
        return Handler(*args, directory=str(root))  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def read(tmp_path: Path, url: str, **extra: object) -> object:
    source = UrlSource(kind="url", url=url, **extra)  # type: ignore[arg-type]
    return ADAPTER.read(tmp_path, "train", source, Reading(into=tmp_path / "source"))


def refused(tmp_path: Path, url: str, **extra: object) -> str:
    with pytest.raises(SourceError) as caught:
        read(tmp_path, url, **extra)
    assert caught.value.spec_path == ("data", "sources", "train", "url")
    return str(caught.value)


def test_download_keeps_the_bytes_and_the_identity(site: tuple[str, Path], tmp_path: Path) -> None:
    base, root = site
    (root / "t.csv").write_bytes(CSV)
    got = read(tmp_path, f"{base}/t.csv")
    assert got.identity == "sha256:" + hashlib.sha256(CSV).hexdigest()  # type: ignore[attr-defined]
    assert (tmp_path / "source" / "train.csv").read_bytes() == CSV
    origin = got.origin  # type: ignore[attr-defined]
    assert (origin.size, origin.etag, origin.version_id) == (len(CSV), None, None)
    assert origin.last_modified.endswith(" GMT")


def test_probe_follows_last_modified_and_size(site: tuple[str, Path]) -> None:
    import os

    base, root = site
    (root / "t.csv").write_bytes(CSV)
    os.utime(root / "t.csv", (1_700_000_000, 1_700_000_000))
    source = UrlSource(kind="url", url=f"{base}/t.csv")
    first = ADAPTER.probe("train", source, Reading())
    assert first == {source.url: f"modified Tue, 14 Nov 2023 22:13:20 GMT size {len(CSV)}"}
    assert ADAPTER.probe("train", source, Reading()) == first
    (root / "t.csv").write_bytes(CSV + b"3,0\n")
    assert ADAPTER.probe("train", source, Reading()) != first


def test_probe_prefers_the_etag_and_falls_back_when_head_is_refused(site: tuple[str, Path]) -> None:
    base, root = site
    source = UrlSource(kind="url", url=f"{base}/etag/t.csv")
    assert ADAPTER.probe("train", source, Reading()) == {source.url: f'etag "v1" size {len(CSV)}'}
    (root / "no-head.csv").write_bytes(CSV)
    no_head = UrlSource(kind="url", url=f"{base}/no-head.csv")
    assert ADAPTER.probe("train", no_head, Reading())[no_head.url].startswith("modified ")  # asked with a GET


def test_a_server_without_any_validator_reruns_every_time(site: tuple[str, Path]) -> None:
    base, _ = site
    source = UrlSource(kind="url", url=f"{base}/endless.csv")
    first = ADAPTER.probe("train", source, Reading())[source.url]
    assert first.startswith(remote.UNVERSIONED) and ADAPTER.probe("train", source, Reading())[source.url] != first


def test_missing_and_unreachable(site: tuple[str, Path], tmp_path: Path) -> None:
    from tests.servers import free_port

    base, _ = site
    assert refused(tmp_path, f"{base}/nope.csv") == (f"data source 'train': {base}/nope.csv does not exist "
                                                     "(HTTP 404); check `url`")
    down = f"http://127.0.0.1:{free_port()}/t.csv"
    assert refused(tmp_path, down) == (f"data source 'train': cannot reach {down}: [Errno 111] Connection refused; "
                                       "check the URL and that the server is up")
    assert ADAPTER.probe("train", UrlSource(kind="url", url=down), Reading()) == {down: remote.UNAVAILABLE}


def test_size_limit_by_header_and_by_body(site: tuple[str, Path], tmp_path: Path) -> None:
    base, root = site
    (root / "big.csv").write_bytes(b"x\n" + b"1\n" * (1 << 20))
    assert refused(tmp_path, f"{base}/big.csv", max_size_mib=1) == (
        f"data source 'train': {base}/big.csv is 2.0 MiB, more than the 1.0 MiB the source allows; raise "
        "`max_size_mib` if that is expected")
    assert refused(tmp_path, f"{base}/endless.csv", max_size_mib=1) == (
        f"data source 'train': {base}/endless.csv sent more than the 1.0 MiB the source allows; raise "
        "`max_size_mib` if that is expected")
    assert refused(tmp_path, f"{base}/short.csv") == (
        f"data source 'train': {base}/short.csv: the download stopped at 12 of 1000 bytes; run again")
    assert [p.name for p in (tmp_path / "source").iterdir()] == []  # nothing partial left behind


def test_redirects_stay_on_their_scheme(site: tuple[str, Path], tmp_path: Path) -> None:
    base, root = site
    (root / "t.csv").write_bytes(CSV)
    assert refused(tmp_path, f"{base}/to-file.csv") == (
        f"data source 'train': {base}/to-file.csv redirects to file:// (file:///etc/passwd); a http:// source is "
        "read over http:// only")
    assert refused(tmp_path, f"{base}/to-https.csv") == (
        f"data source 'train': {base}/to-https.csv redirects to https:// (https://127.0.0.1:1/t.csv); a http:// "
        "source is read over http:// only")
    assert (tmp_path / "source" / "train.csv").exists() is False
    read(tmp_path, f"{base}/to-same.csv")
    assert (tmp_path / "source" / "train.csv").read_bytes() == CSV


def test_token_from_the_environment_never_follows_a_redirect(site: tuple[str, Path], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = site
    monkeypatch.delenv("DATA_TOKEN", raising=False)
    assert refused(tmp_path, f"{base}/private.csv") == (
        f"data source 'train': {base}/private.csv: access refused (HTTP 401 Unauthorized); if it needs a token, "
        "put it in an environment variable and name that variable in `token_env`")
    assert refused(tmp_path, f"{base}/private.csv", token_env="DATA_TOKEN") == (
        f"data source 'train': {base}/private.csv: `token_env` names DATA_TOKEN, which is not set; set it to the "
        "token")
    monkeypatch.setenv("DATA_TOKEN", TOKEN)
    read(tmp_path, f"{base}/private.csv", token_env="DATA_TOKEN")
    assert (tmp_path / "source" / "train.csv").read_bytes() == CSV
    read(tmp_path, f"{base}/private-moved.csv", token_env="DATA_TOKEN")
    assert (tmp_path / "source" / "train.csv").read_bytes() == b"auth\nnone\n"


def test_a_server_that_never_answers_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(web, "TIMEOUT", 0.5)
    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/t.csv"
        message = refused(tmp_path, url)
    assert message == f"data source 'train': cannot reach {url}: timed out; check the URL and that the server is up"
