"""Behind a real reverse proxy (Debian's nginx, started by the test on 127.0.0.1): with
KASERU_TRUSTED_PROXIES naming it, one client's flood does not lock out another; without
it, every client shares the proxy's address and one flood locks everyone out (the
finding this reproduces). The two clients come from two loopback addresses, 127.0.0.2
and 127.0.0.3, which nginx passes on in X-Forwarded-For."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.mailbox import free_port
from tests.server import Server, environment
from tests.waiting import wait_until

LIMIT = 5

CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Nginx:
    """An nginx process in front of one upstream port, configured in its own folder."""

    def __init__(self, folder: Path, upstream: int) -> None:
        assert shutil.which("nginx"), "nginx is missing: `make test` installs it"
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = folder / "nginx.conf"
        self.config.write_text(CONFIG.format(folder=folder, port=self.port, upstream=upstream))
        self.process = subprocess.Popen(
            ["nginx", "-c", str(self.config), "-p", str(folder), "-e", str(folder / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(
            lambda: _answers(self.port) or self.process.poll() is not None, "nginx to listen"
        )
        assert self.process.poll() is None, self.process.communicate(timeout=10)[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=30)


@pytest.fixture
def behind_nginx(maker, tmp_path) -> Iterator:
    """A function that serves the registry behind nginx, with or without trusting it."""
    running: list = []

    def start(trusted: str) -> Nginx:
        values = environment(dataclasses.replace(maker.settings, rate_limit=LIMIT))
        values["KASERU_TRUSTED_PROXIES"] = trusted
        server = Server(values, tmp_path / f"server-{len(running)}.log").start()
        running.append(server)
        proxy = Nginx(tmp_path / f"nginx-{len(running)}", server.port)
        running.append(proxy)
        return proxy

    yield start
    for thing in reversed(running):
        thing.stop()


def _client(proxy: Nginx, address: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x address is this host)."""
    return httpx.Client(
        base_url=proxy.url, timeout=30, transport=httpx.HTTPTransport(local_address=address)
    )


def _flood_then_ask(proxy: Nginx) -> tuple[list[int], int]:
    with _client(proxy, "127.0.0.2") as flooding, _client(proxy, "127.0.0.3") as other:
        flood = [flooding.get("/api/v1/keys").status_code for _ in range(LIMIT + 3)]
        return flood, other.get("/api/v1/keys").status_code


def test_one_clients_flood_does_not_lock_out_another_behind_a_trusted_proxy(behind_nginx):
    flood, other = _flood_then_ask(behind_nginx("127.0.0.1"))
    assert flood == [200] * LIMIT + [429] * 3
    assert other == 200


def test_without_trusting_the_proxy_one_flood_locks_out_everyone(behind_nginx):
    flood, other = _flood_then_ask(behind_nginx(""))
    assert flood == [200] * LIMIT + [429] * 3
    assert other == 429  # the finding: every client is the proxy


def test_a_client_cannot_name_itself_through_the_proxy(behind_nginx):
    """X-Forwarded-For sent by the client is kept by nginx at the left, and not believed:
    a flooding client that changes it each time is still counted as itself."""
    proxy = behind_nginx("127.0.0.1")
    with _client(proxy, "127.0.0.2") as client:
        codes = [
            client.get("/api/v1/keys", headers={"x-forwarded-for": f"192.0.2.{n}"}).status_code
            for n in range(LIMIT + 2)
        ]
    assert codes == [200] * LIMIT + [429] * 2
