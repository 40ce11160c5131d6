"""A real browser (Debian's headless Chromium) opens the verification page, served by
`kaseru serve`, for a valid, a superseded, a revoked and a forged payload, and checks what a
person sees. Screenshots are kept in artifacts/ (a test artifact, not committed)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from registry import services
from registry.services.certificates import active_issue, find_certificate
from tests import factories as f
from tests.server import Server, environment

pytestmark = pytest.mark.usefixtures("parties")
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=390,844",
]


@pytest.fixture
def server(maker, tmp_path):
    """`kaseru serve` over the test database, as a separate process."""
    running = Server(environment(maker.settings), tmp_path / "server.log").start()
    yield running.url
    running.stop()


def _browser(url: str, shot: Path, profile: Path) -> str:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing (make test installs it)"
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    subprocess.run(
        [*common, f"--screenshot={shot}", url], capture_output=True, timeout=60, check=True
    )
    dom = subprocess.run(
        [*common, "--dump-dom", url], capture_output=True, text=True, timeout=60, check=True
    )
    return dom.stdout


def test_what_a_buyer_sees(db, settings, maker, server, tmp_path):
    valid = f.issue(db, settings)
    sold = f.issue(db, settings, house=f.house(lot="02"))
    revoked = f.issue(db, settings, house=f.house(lot="03"))
    with db.reading() as session:
        payloads = {}
        for name, number in (("valid", valid), ("superseded", sold), ("revoked", revoked)):
            certificate = find_certificate(session, f.STAFF, number)
            payloads[name] = maker.payload(certificate, active_issue(session, certificate))
    with db.transaction() as session:
        request = services.request_endorsement(session, f.STAFF, settings, f.endorsement(sold))
    with db.transaction() as session:
        services.approve_endorsement(session, f.STAFF, settings, request.tracking_number)
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, revoked, "虚偽の申請")
    text = payloads["valid"]
    payloads["forged"] = text[:30] + ("B" if text[30] != "B" else "C") + text[31:]

    ARTIFACTS.mkdir(exist_ok=True)
    expected = {
        "valid": ("有効", valid, "山本 ＊＊"),
        "superseded": ("再発行済み", sold, "所有者2"),
        "revoked": ("取消し", revoked, "虚偽の申請"),
        "forged": ("確認できません", "偽造または改ざん", "確認できません"),
    }
    for name, payload in payloads.items():
        shot = ARTIFACTS / f"verify-{name}.png"
        dom = _browser(f"{server}/v/{payload}", shot, tmp_path / f"profile-{name}")
        assert f'data-status="{name if name != "forged" else "invalid"}"' in dom, name
        for needle in expected[name]:
            assert needle in dom, (name, needle)
        assert shot.stat().st_size > 5000  # a real picture, not an empty page
    assert "森" not in _browser(
        f"{server}/v/{payloads['superseded']}", tmp_path / "again.png", tmp_path / "profile-again"
    )


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe
    (--remote-debugging-pipe: commands on fd 3, answers on fd 4, each JSON ending in NUL),
    so that a test can type into a page and press Enter as a person does."""

    def __init__(self, profile: Path) -> None:
        chromium = shutil.which("chromium")
        assert chromium, "Debian's chromium is missing (make test installs it)"
        to_browser, self._commands = os.pipe()
        self._answers, from_browser = os.pipe()
        # Chromium reads commands on its fd 3 and writes answers on its fd 4.
        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            # 3 and 4 too: the child closes every other descriptor after preexec_fn.
            pass_fds=(3, 4, to_browser, from_browser),
            preexec_fn=lambda: (os.dup2(to_browser, 3), os.dup2(from_browser, 4)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._next, self._buffer, self.session = 0, b"", None
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send("Page.enable")

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(left, 0))
            assert ready, "Chromium did not answer within 60 s"
            chunk = os.read(self._answers, 1 << 20)
            assert chunk, "Chromium closed its pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, wait_for: str | None = None, **params) -> dict:
        """Send one command; return its result (after the event `wait_for`, if named)."""
        self._next += 1
        command = {"id": self._next, "method": method, "params": params}
        if self.session:
            command["sessionId"] = self.session
        os.write(self._commands, json.dumps(command).encode() + b"\0")
        deadline, result, seen = time.monotonic() + 60, None, wait_for is None
        while result is None or not seen:
            message = self._message(deadline)
            if message.get("id") == self._next:
                assert "error" not in message, message
                result = message["result"]
            seen = seen or message.get("method") == wait_for
        return result

    def evaluate(self, expression: str):
        return self.send("Runtime.evaluate", expression=expression)["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.send("Browser.close")
        self.process.wait(30)
        os.close(self._commands)
        os.close(self._answers)


def test_a_buyer_types_the_owners_name_and_it_stays_out_of_the_url(
    db, settings, maker, server, tmp_path
):
    """Found by the review: the name was sent as ?name=, into the URL, the history and
    the server's log. Now the form posts it: the page after Enter has the same address,
    and says whether the name matches."""
    number = f.issue(db, settings)
    with db.reading() as session:
        certificate = find_certificate(session, f.STAFF, number)
        payload = maker.payload(certificate, active_issue(session, certificate))
    url = f"{server}/v/{payload}"
    browser = Browser(tmp_path / "profile-name")
    try:
        found = {}
        for typed in ("山本　一郎", "山本 次郎"):
            browser.send("Page.navigate", wait_for="Page.loadEventFired", url=url)
            browser.evaluate("document.getElementById('name').focus()")
            browser.send("Input.insertText", text=typed)
            key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
            browser.send("Input.dispatchKeyEvent", type="keyDown", text="\r", **key)
            browser.send(
                "Input.dispatchKeyEvent", wait_for="Page.loadEventFired", type="keyUp", **key
            )
            found[typed] = (
                browser.evaluate("location.href"),
                browser.evaluate("document.documentElement.outerHTML"),
            )
        ARTIFACTS.mkdir(exist_ok=True)
        shot = browser.send("Page.captureScreenshot", format="png")["data"]
        (ARTIFACTS / "verify-name.png").write_bytes(base64.b64decode(shot))
    finally:
        browser.close()
    matched, refused = found["山本　一郎"], found["山本 次郎"]
    assert matched[0] == url and refused[0] == url  # no name in any address
    assert 'data-result="match"' in matched[1] and "（山本 一郎）" in matched[1]
    assert 'data-result="mismatch"' in refused[1] and "（山本 ＊＊）" in refused[1]
    assert "山本 次郎" in refused[1]  # the typed name is back in the field, not the URL
    log = (tmp_path / "server.log").read_text()
    assert "一郎" not in log and "%E4%B8%80%E9%83%8E" not in log


def test_the_page_a_flyers_qr_code_opens(db, settings, server, tmp_path):
    from urllib.parse import quote

    from registry import developments
    from registry.services.parties import builder_by_code

    numbers = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in range(1, 4)]
    f.issue(db, settings, house=f.house(lot="04"), floor=30_000)
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, numbers[2], "虚偽の申請")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "development.png"
    # The flyer's QR code holds the builder's code with the name (issue 13).
    page = f"{server}/developments/{f.BUILDER}/{quote('テスト分譲地', safe='')}"
    dom = _browser(page, shot, tmp_path / "profile")
    # Three lots in force (the revoked one is not), floors from ¥30,000 to ¥45,000; all
    # four overdue on their 10-year inspection (2025-10-16) as of 2026-11-23.
    assert 'data-status="valid"' in dom
    assert "3区画" in dom and "30,000円〜45,000円" in dom and "点検遅延 3区画" in dom
    assert "山本" not in dom  # nothing personal
    assert shot.stat().st_size > 5000
    missing = _browser(
        f"{server}/developments/{quote('無い分譲地')}", tmp_path / "m.png", tmp_path / "p2"
    )
    assert 'data-status="invalid"' in missing and "有効な定額型証明書がありません" in missing
    # The address older flyers carry leads to the one builder's page.
    answer = json.loads(
        urllib.request.urlopen(
            urllib.request.Request(
                f"{server}/developments/{quote('テスト分譲地')}",
                headers={"accept": "application/json"},
            ),
            timeout=60,
        ).read()
    )
    assert answer == {
        "development": "テスト分譲地",
        "builder": "住替ハウス株式会社",  # builder 000001, as tests/factories.py names it
        "builder_code": f.BUILDER,
        "lots": 3,
        "floor_lowest": 30_000,
        "floor_highest": 45_000,
        "years": 50,
        "standings": {"overdue": 3},
    }
    # Another builder starts its own development of the name: the old address offers
    # both builders' pages and pools nothing; the first builder's page is unchanged.
    with db.transaction() as session:
        other = builder_by_code(session, f.OTHER_BUILDER)
        developments.create(session, f.OTHER_ACTOR, other, "テスト分譲地")
        session.commit()
    f.issue(db, settings, f.OTHER_ACTOR, house=f.house(builder_code=f.OTHER_BUILDER), floor=10_000)
    choice = _browser(
        f"{server}/developments/{quote('テスト分譲地')}", tmp_path / "c.png", tmp_path / "p3"
    )
    assert 'data-status="choice"' in choice
    assert "住替ハウス株式会社" in choice and "別棟工務店" in choice and "10,000" not in choice
    again = _browser(page, tmp_path / "a.png", tmp_path / "p4")
    assert "3区画" in again and "30,000円〜45,000円" in again and "10,000円" not in again
