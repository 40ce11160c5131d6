"""Security headers (issue 13, finding 7): the HTML pages had no Content-Security-Policy,
no nosniff, no frame-ancestors and no Referrer-Policy. Now every response carries nosniff
and no-referrer, every page a CSP that allows only its own hashed style; a real Chromium
opens the pages under that policy and its console reports no violation. /schema's
interactive page is served in development mode only."""

from __future__ import annotations

import base64
import hashlib
import http.server
import re
import shutil
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.security import REDOC_JS, style_hashes
from registry.services.certificates import active_issue, find_certificate
from tests import factories as f
from tests.server import Server, environment

pytestmark = pytest.mark.usefixtures("parties")


def _pages(db, settings, maker) -> dict[str, str]:
    number = f.issue(db, settings, house=f.house(development="桑名和泉ガーデンタウン"))
    with db.reading() as session:
        certificate = find_certificate(session, f.STAFF, number)
        payload = maker.payload(certificate, active_issue(session, certificate))
    return {
        "verification": f"/v/{payload}",
        "forged": f"/v/{payload[:-4]}AAAA",
        "development": "/developments/桑名和泉ガーデンタウン",
        "no development": "/developments/どこにもない",
    }


def _policy(header: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


def test_every_page_carries_the_headers(db, settings, maker):
    pages = _pages(db, settings, maker)
    with TestClient(create_app(maker.settings)) as client:
        for name, path in pages.items():
            answer = client.get(path, headers={"accept": "text/html"})
            assert answer.headers["content-type"].startswith("text/html"), name
            policy = _policy(answer.headers["content-security-policy"])
            assert policy["default-src"] == "'none'", name
            assert policy["frame-ancestors"] == "'none'", name
            assert "script-src" not in policy and "unsafe-inline" not in policy["style-src"]
            assert policy["style-src"].split() == list(style_hashes())
            assert answer.headers["x-content-type-options"] == "nosniff", name
            assert answer.headers["referrer-policy"] == "no-referrer", name
            assert answer.headers["x-frame-options"] == "DENY", name
            # Every inline style the page has is one the policy names.
            blocks = re.findall(r"<style>(.*?)</style>", answer.text, re.DOTALL)
            assert blocks, name
            for block in blocks:
                digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
                assert f"'sha256-{digest}'" in style_hashes(), name
        as_json = client.get(pages["verification"], headers={"accept": "application/json"})
        assert as_json.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in as_json.headers
        problem = client.get("/api/v1/certificates/A0020000012015000004?code=XXXX-XXXX")
        assert problem.headers["x-content-type-options"] == "nosniff"


def test_the_style_hash_is_that_of_the_template(tmp_path):
    """A changed style changes its hash (so an injected one is never allowed)."""
    (tmp_path / "a.html").write_text("<style>body { color: red }</style>")
    [before] = style_hashes.__wrapped__(tmp_path)
    (tmp_path / "a.html").write_text("<style>body { color: blue }</style>")
    [after] = style_hashes.__wrapped__(tmp_path)
    assert before != after and before.startswith("'sha256-")


def test_schema_page_only_in_development_mode(settings):
    with TestClient(create_app(settings)) as client:
        page = client.get("/schema")
        assert page.headers["content-type"].startswith("text/html")
        assert REDOC_JS in page.text and "@latest" not in page.text and "/latest/" not in page.text
        policy = _policy(page.headers["content-security-policy"])
        origin = re.match(r"https://[^/]+", REDOC_JS)
        assert origin and origin.group(0) in policy["script-src"]
        assert policy["frame-ancestors"] == "'none'"
        assert client.get("/schema/openapi.json").status_code == 200
    with TestClient(create_app(replace(settings, env="production"))) as client:
        page = client.get("/schema")
        assert not page.headers["content-type"].startswith("text/html")
        assert "<script" not in page.text
        for path in ("/schema/redoc", "/schema/swagger", "/schema/rapidoc", "/schema/elements"):
            assert client.get(path).status_code == 404, path
        assert client.get("/schema/openapi.json").json()["info"]["title"] == "kaseru registry API"


def _chromium(url: str, profile: Path) -> tuple[str, str]:
    """The page's DOM and Chromium's log, where the console's messages go."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing (make test installs it)"
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout, done.stderr


def test_a_real_browser_sees_no_policy_violation(db, settings, maker, tmp_path):
    pages = _pages(db, settings, maker)
    server = Server(environment(maker.settings), tmp_path / "server.log").start()
    try:
        seen = {
            name: _chromium(server.url + path, tmp_path / f"profile-{i}")
            for i, (name, path) in enumerate(pages.items())
        }
    finally:
        server.stop()
    for name, (dom, log) in seen.items():
        assert "<main>" in dom, name
        assert "Content Security Policy" not in log, (name, log)
    assert 'data-status="valid"' in seen["verification"][0]


def test_the_browser_check_sees_a_violation(tmp_path):
    """The check above can fail: a page whose style the policy does not name is reported
    in the same log (served by a plain HTTP server thread, with a wrong hash)."""
    page = b"<html><head><style>body { color: red }</style></head><body><main>x</main></body>"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header(
                "content-security-policy", "default-src 'none'; style-src 'sha256-AAAA'"
            )
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _, log = _chromium(f"http://127.0.0.1:{server.server_port}/", tmp_path / "profile")
    finally:
        server.shutdown()
        server.server_close()
    assert "violates the following Content Security Policy directive" in log
