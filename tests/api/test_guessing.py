"""What a stranger can learn by guessing, over HTTP (issue 13, points 2 and 4;
docs/codes.md): the public endorsement request answers every refusal that depends on the
registry with the same bytes, in the same time; the budgets of wrong codes treat a number
never issued like a known one, and refuse only the addresses that guess, never the right
code from anyone else.

The budget tests run against a real `kaseru serve` and send from distinct loopback
addresses (127.0.0.x: Linux routes the whole block to lo), as distinct clients would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time

import httpx
import pytest
from litestar.testing import TestClient

from api.app import create_app
from registry import services
from registry.services.endorsements import REFUSED
from tests import factories as f
from tests.server import Server, environment
from tests.stats import mann_whitney, summary

pytestmark = pytest.mark.usefixtures("parties")
UNKNOWN = "A0020000012015999999"


def _served(maker, tmp_path, **settings):
    """`kaseru serve` over the test database with these budgets (and no rate limit, which
    counts per address and is tested apart)."""
    at = dataclasses.replace(maker.settings, rate_limit=0)
    extra = {f"KASERU_{name.upper()}": str(value) for name, value in settings.items()}
    return Server({**environment(at), **extra}, tmp_path / "server.log").start()


def _client(server: Server, address: str) -> httpx.Client:
    """A client whose connections come from `address`."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, timeout=30)


def _refusals(db, settings):
    """One public request (JSON body) for each refusal that depends on the registry."""
    known = f.issue(db, settings, house=f.house(lot="02"))
    revoked = f.issue(db, settings, house=f.house(lot="03"))
    pending = f.issue(db, settings, house=f.house(lot="04"))
    bought = f.issue(db, settings, house=f.house(lot="05"))
    with db.transaction() as session:
        services.revoke_certificate(session, f.STAFF, settings, revoked, "取消")
    for number in (pending, bought):
        with db.transaction() as session:
            made = services.request_endorsement(
                session,
                f.STAFF,
                settings,
                f.endorsement(number, sale_date=dt.date(2026, 10, 1), requested_on=f.TODAY),
            )
    with db.transaction() as session:
        services.approve_endorsement(session, f.STAFF, settings, made.tracking_number)

    def body(number, **changes):
        return f.public_endorsement(db, settings, number, **changes)

    return {
        "unknown number": f.public_endorsement(db, settings, known, certificate_number=UNKNOWN),
        "wrong code": body(known, code="AAAA-AAAA"),
        "wrong seller": body(known, seller_name="佐藤 次郎"),
        # 森 陽介 holds lot 05 from his purchase on 2026-10-01.
        "sale before the holding": f.public_endorsement(
            db, settings, bought, seller_name="森 陽介", sale_date="2026-09-20"
        ),
        "revoked": body(revoked),
        "pending": body(pending),
    }


def test_every_refusal_of_a_public_endorsement_request_is_the_same_answer(db, settings, maker):
    """Found by the review: an unknown number answered 404, a wrong seller 422 naming the
    active issue, a sale before the holding the owner's full name and holding date, a
    second request 409 with the pending one's tracking number."""
    refusals = _refusals(db, settings)
    with TestClient(create_app(dataclasses.replace(maker.settings, rate_limit=0))) as client:
        answers = {
            kind: client.post("/api/v1/endorsements", json=b) for kind, b in refusals.items()
        }
        # Expired: the same request on a day after the certificate's last (2065-10-15).
    late = dataclasses.replace(maker.settings, rate_limit=0, today=dt.date(2065, 12, 1))
    known = refusals["wrong seller"]["certificate_number"]
    with TestClient(create_app(late)) as client:
        answers["expired"] = client.post(
            "/api/v1/endorsements",
            json=f.public_endorsement(db, settings, known, sale_date="2065-11-01"),
        )
    first = answers["wrong code"]
    assert first.status_code == 422
    assert first.headers["content-type"].startswith("application/problem+json")
    assert first.json() == {
        "type": "about:blank",
        "title": "Invalid input",
        "status": 422,
        "detail": REFUSED,
    }
    for kind, answer in answers.items():
        assert (answer.status_code, answer.content) == (first.status_code, first.content), kind


def test_a_public_request_is_dated_by_the_registry_and_needs_the_code(db, settings, maker):
    number = f.issue(db, settings)
    with TestClient(create_app(dataclasses.replace(maker.settings, rate_limit=0))) as client:
        missing = dict(f.public_endorsement(db, settings, number))
        del missing["code"]
        no_code = client.post("/api/v1/endorsements", json=missing)
        # A backdated request (the review: the deadline could be dodged) is dated today.
        made = client.post(
            "/api/v1/endorsements",
            json=f.public_endorsement(db, settings, number, requested_on="2026-05-01"),
        )
    assert no_code.status_code == 400 and "`code`" in str(no_code.json()["errors"])
    assert made.status_code == 201, made.text
    assert made.json()["requested_on"] == f.TODAY.isoformat()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"certificate_number": "A002"}, "certificate_number"),
        ({"code": "AAAA"}, "code"),
        ({"seller_name": ""}, "seller_name"),
        ({"sale_date": "2026-11-30"}, "sale_date"),
    ],
)
def test_a_malformed_public_request_names_the_field(db, settings, maker, changes, field):
    number = f.issue(db, settings)
    with TestClient(create_app(dataclasses.replace(maker.settings, rate_limit=0))) as client:
        answer = client.post(
            "/api/v1/endorsements", json=f.public_endorsement(db, settings, number, **changes)
        )
        bad_date = client.post(
            "/api/v1/endorsements",
            json=f.public_endorsement(db, settings, number, sale_date="2026-13-01"),
        )
    assert answer.status_code == 422 and answer.json()["field"] == field
    assert bad_date.status_code == 400 and "sale_date" in str(bad_date.json()["errors"])


def _guess(client: httpx.Client, number: str, code: str = "AAAA-AAAA") -> httpx.Response:
    return client.get(f"/api/v1/certificates/{number}", params={"code": code})


def test_a_known_and_an_unknown_number_answer_alike_past_the_budget(db, settings, maker, tmp_path):
    """Found by the review: only known numbers counted wrong codes, so a known number
    answered 429 after 20 of them and an unknown one 404 forever (the budget told which
    numbers exist)."""
    known = f.issue(db, settings)
    server = _served(maker, tmp_path, code_failures_per_day=3, code_failures_per_address=100)
    try:
        answers = {}
        for number, address in ((known, "127.0.0.2"), (UNKNOWN, "127.0.0.3")):
            with _client(server, address) as client:
                answers[number] = [_guess(client, number) for _ in range(6)]
    finally:
        server.stop()
    seen = {n: [(a.status_code, a.content) for a in found] for n, found in answers.items()}
    assert [status for status, _ in seen[known]] == [404, 404, 404, 429, 429, 429]
    assert seen[known] == seen[UNKNOWN]


def test_after_20_wrong_codes_the_right_code_still_opens(db, settings, maker, tmp_path):
    """Found by the review: after 20 wrong codes from anyone, even the right code got 429
    for the rest of the day, so a stranger could block any certificate's manual check."""
    number = f.issue(db, settings)
    right = f.code(db, settings, number)
    server = _served(maker, tmp_path)  # the defaults: 20 a number, 100 an address
    try:
        strangers = [f"127.0.0.{n}" for n in range(10, 14)]  # 4 addresses, 5 guesses each
        wrong = []
        for address in strangers:
            with _client(server, address) as client:
                wrong += [_guess(client, number).status_code for _ in range(5)]
        with _client(server, strangers[0]) as client:
            again = _guess(client, number, right)  # a guesser's address is refused
        with _client(server, "127.0.0.20") as owner:
            opened = _guess(owner, number, right)
        with _client(server, "127.0.0.21") as other:  # the number is slow: one try each
            tries = [_guess(other, number).status_code for _ in range(2)]
    finally:
        server.stop()
    assert wrong == [404] * 20
    assert again.status_code == 429
    assert opened.status_code == 200 and opened.json()["number"] == number
    assert tries == [404, 429]


def test_an_address_past_its_budget_is_refused_on_every_number(db, settings, maker, tmp_path):
    numbers = [f.issue(db, settings, house=f.house(lot=f"{n:02d}")) for n in range(1, 4)]
    server = _served(maker, tmp_path, code_failures_per_day=20, code_failures_per_address=4)
    try:
        with _client(server, "127.0.0.30") as client:
            spread = [_guess(client, n).status_code for n in (*numbers, UNKNOWN)]
            refused = _guess(client, numbers[0], f.code(db, settings, numbers[0]))
        with _client(server, "127.0.0.31") as owner:
            opened = _guess(owner, numbers[0], f.code(db, settings, numbers[0]))
    finally:
        server.stop()
    assert spread == [404] * 4
    assert refused.status_code == 429
    assert opened.status_code == 200


def test_refusals_take_indistinguishable_time(db, settings, maker, tmp_path):
    """The review's "Done when": byte-identical answers, in statistically
    indistinguishable time, over 200 requests each, for an unknown number, a wrong code,
    a wrong seller name and a sale before the holding. The kinds are sent interleaved in
    a random order, so load on the machine falls on all alike; the times are compared
    with a Mann-Whitney U test between each pair, never against a clock. Budgets are set
    beyond reach, so every failure is counted (written) as in production."""
    refusals = _refusals(db, settings)
    kinds = ["unknown number", "wrong code", "wrong seller", "sale before the holding"]
    server = _served(maker, tmp_path, code_failures_per_day=10**9, code_failures_per_address=10**9)
    order = [kind for kind in kinds for _ in range(200)]
    random.Random(13).shuffle(order)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    bodies = set()
    try:
        with _client(server, "127.0.0.40") as client:
            for kind in kinds * 10:  # warm up each path (imports, caches, connection)
                client.post("/api/v1/endorsements", json=refusals[kind])
            for kind in order:
                started = time.perf_counter()
                answer = client.post("/api/v1/endorsements", json=refusals[kind])
                times[kind].append(time.perf_counter() - started)
                bodies.add((answer.status_code, answer.content))
    finally:
        server.stop()
    assert len(bodies) == 1 and next(iter(bodies))[0] == 422
    report = "\n".join(f"{kind}: {summary(times[kind])}" for kind in kinds)
    print(report)  # shown with pytest -s
    pairs = [(a, b) for i, a in enumerate(kinds) for b in kinds[i + 1 :]]
    for a, b in pairs:
        p = mann_whitney(times[a], times[b])
        # Six comparisons at a family-wise 0.001 (Bonferroni): strict, so that a test
        # that can fail fails on a systematic shift, not on one run's noise.
        assert p > 0.001 / len(pairs), f"{a} vs {b}: p={p:.2g}\n{report}"
