"""Developments owned by their builder (issue 13, finding 3), over HTTP.

The finding: development names were global. Builder 000002 issued one lot at ¥10,000 into
builder 000001's "桑名和泉ガーデンタウン"; the public page went from 12 lots (lowest floor
¥45,000) to 13 (lowest ¥10,000), and 000002 downloaded a flyer signed by the Institute,
headed with 000001's name, for 13 lots at ¥10,000. Now a name belongs to its builder: the
intrusion is a 409 that writes nothing, the page and the flyer still say 12 lots from
¥45,000, 000002's flyer request answers 404, and 000002 may start its own development of
the name, with its own page and flyer.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import msgspec
import pytest
import zxingcpp
from litestar.testing import TestClient
from sqlalchemy import func
from sqlmodel import select

from api.app import create_app
from api.cli import main
from registry import access
from registry.actors import Role
from registry.models import Certificate, Development, House
from tests import factories as f
from tests import pdf as look

pytestmark = pytest.mark.usefixtures("parties")

NAME = "桑名和泉ガーデンタウン"
FLOORS = [
    45_000,
    50_000,
    45_000,
    48_000,
    45_000,
    50_000,
    46_000,
    45_000,
    50_000,
    47_000,
    45_000,
    49_000,
]
"""Builder 000001's twelve lots: every floor at least ¥45,000 (桑名市和泉 allows ¥50,000)."""


@pytest.fixture
def cli(settings, maker, monkeypatch):
    """The environment `kaseru` reads: the test's home, day and signing keys."""
    monkeypatch.setenv("KASERU_HOME", str(settings.home))
    monkeypatch.setenv("KASERU_TODAY", settings.current_date().isoformat())
    monkeypatch.setenv("KASERU_SIGNING_KEY", str(maker.settings.signing_key))
    monkeypatch.setenv("KASERU_SIGNING_CERT", str(maker.settings.signing_cert))
    monkeypatch.setenv("KASERU_ROOT_CERT", str(maker.settings.root_cert))
    monkeypatch.setenv("KASERU_KEYRING", str(maker.settings.keyring))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return settings.database_url


def run(capsys, *args: str) -> tuple[int, str, str]:
    """`kaseru ARGS` in-process: its exit code, standard output and standard error."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def client(maker):
    with TestClient(create_app(maker.settings)) as test_client:
        yield test_client


def _key(db, role, builder=None):
    with db.transaction() as session:
        return {
            "authorization": f"Bearer {access.create_api_key(session, f.ADMIN, role, builder)[1]}"
        }


@pytest.fixture
def keys(db):
    return {
        "a": _key(db, Role.BUILDER, f.BUILDER),
        "b": _key(db, Role.BUILDER, f.OTHER_BUILDER),
        "staff": _key(db, Role.STAFF),
    }


def _lot(builder: str, lot: str, floor: int, development: str | None = NAME) -> dict:
    house = f.house(builder_code=builder, lot=lot, development=development)
    return json.loads(msgspec.json.encode(f.certificate(house=house, floor=floor)))


def _twelve_lots(client, keys) -> None:
    lots = [_lot(f.BUILDER, f"{n:02d}", floor) for n, floor in enumerate(FLOORS, start=1)]
    answer = client.post(
        f"/api/v1/developments/{NAME}/certificates",
        json={"certificates": lots},
        headers=keys["a"],
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["issued"] == 12


def _counts(db) -> tuple[int, int, int]:
    with db.reading() as session:
        return (
            session.exec(select(func.count()).select_from(Certificate)).one(),
            session.exec(select(func.count()).select_from(House)).one(),
            session.exec(select(func.count()).select_from(Development)).one(),
        )


def _page(client, path: str) -> dict:
    answer = client.get(path, headers={"accept": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _qr(pdf: bytes) -> str:
    codes = zxingcpp.read_barcodes(look.image(pdf, 0, scale=3))
    assert len(codes) == 1
    return codes[0].text


A_PAGE = f"/developments/{f.BUILDER}/{quote(NAME, safe='')}"
B_PAGE = f"/developments/{f.OTHER_BUILDER}/{quote(NAME, safe='')}"


def test_another_builder_cannot_issue_into_a_development(db, settings, client, keys):
    """The finding, step by step: 000002 issuing a ¥10,000 lot into 000001's development."""
    _twelve_lots(client, keys)
    before = _page(client, f"/developments/{quote(NAME)}")  # the old address still answers
    assert (before["lots"], before["floor_lowest"], before["builder"]) == (
        12,
        45_000,
        "住替ハウス株式会社",
    )
    counts = _counts(db)

    single = client.post(
        "/api/v1/certificates", json=_lot(f.OTHER_BUILDER, "13", 10_000), headers=keys["b"]
    )
    assert single.status_code == 409
    assert single.headers["content-type"].startswith("application/problem+json")
    assert single.json()["field"] == "house.development"
    assert NAME in single.json()["detail"] and "another builder" in single.json()["detail"]

    bulk = client.post(
        f"/api/v1/developments/{NAME}/certificates",
        json={"certificates": [_lot(f.OTHER_BUILDER, "13", 10_000)]},
        headers=keys["b"],
    )
    assert bulk.status_code == 409
    assert bulk.json()["field"] == "certificates[0].house.development"
    # Staff acting for 000002 are refused the same way: the name is 000001's.
    staff = client.post(
        "/api/v1/certificates", json=_lot(f.OTHER_BUILDER, "13", 10_000), headers=keys["staff"]
    )
    assert staff.status_code == 409
    assert _counts(db) == counts  # nothing written

    after = _page(client, A_PAGE)
    assert after == before
    assert (after["lots"], after["floor_lowest"]) == (12, 45_000)
    # 000002 has no development of the name: its flyer request reads like a name never used.
    theirs = client.get(f"/api/v1/developments/{NAME}/guarantee.pdf", headers=keys["b"])
    never = client.get("/api/v1/developments/どこにもない/guarantee.pdf", headers=keys["b"])
    assert (theirs.status_code, never.status_code) == (404, 404)
    assert theirs.json()["detail"] == never.json()["detail"].replace("どこにもない", NAME)
    assert client.get(B_PAGE, headers={"accept": "application/json"}).status_code == 404
    # 000001's flyer: 12 lots from ¥45,000, its QR code opening 000001's page.
    flyer = client.get(f"/api/v1/developments/{NAME}/guarantee.pdf", headers=keys["a"])
    assert flyer.status_code == 200
    text = look.text(flyer.content)
    assert "12区画" in text and "毎月金45,000円以上" in text and "10,000" not in text
    assert "住替ハウス株式会社" in text
    assert _qr(flyer.content) == f"{settings.public_url}{A_PAGE}"


def test_a_builder_may_start_its_own_development_of_the_same_name(db, settings, client, keys):
    _twelve_lots(client, keys)
    started = client.post("/api/v1/developments", json={"name": NAME}, headers=keys["b"])
    assert started.status_code == 201, started.text
    assert started.json() == {"builder_code": f.OTHER_BUILDER, "name": NAME, "page": B_PAGE}
    again = client.post("/api/v1/developments", json={"name": NAME}, headers=keys["b"])
    assert (again.status_code, again.json()["field"]) == (409, "name")
    # Another builder's development cannot be started by a builder; staff may.
    assert (
        client.post(
            "/api/v1/developments",
            json={"name": "別の分譲地", "builder_code": f.BUILDER},
            headers=keys["b"],
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/developments", json={"name": "別の分譲地"}, headers=keys["staff"]
        ).json()["field"]
        == "builder_code"
    )

    lot = client.post(
        "/api/v1/certificates", json=_lot(f.OTHER_BUILDER, "01", 10_000), headers=keys["b"]
    )
    assert lot.status_code == 201, lot.text
    assert lot.json()["house"]["development"] == NAME

    mine, theirs = _page(client, A_PAGE), _page(client, B_PAGE)
    assert (mine["lots"], mine["floor_lowest"], mine["builder_code"]) == (12, 45_000, f.BUILDER)
    assert (theirs["lots"], theirs["floor_lowest"], theirs["builder"]) == (1, 10_000, "別棟工務店")
    # The old address can no longer tell them apart: it offers both, pooling nothing.
    choice = client.get(f"/developments/{quote(NAME)}", headers={"accept": "application/json"})
    assert choice.status_code == 300
    assert choice.json() == {
        "development": NAME,
        "choices": [
            {"builder_code": f.BUILDER, "builder": "住替ハウス株式会社", "url": A_PAGE},
            {"builder_code": f.OTHER_BUILDER, "builder": "別棟工務店", "url": B_PAGE},
        ],
    }
    html = client.get(f"/developments/{quote(NAME)}")
    assert html.status_code == 300 and 'data-status="choice"' in html.text
    assert f'href="{A_PAGE}"' in html.text and f'href="{B_PAGE}"' in html.text
    assert "区画" not in html.text.split('id="choices"')[1]  # no figures on the choice

    ours = client.get(f"/api/v1/developments/{NAME}/guarantee.pdf", headers=keys["a"]).content
    other = client.get(f"/api/v1/developments/{NAME}/guarantee.pdf", headers=keys["b"]).content
    assert "12区画" in look.text(ours) and "毎月金45,000円以上" in look.text(ours)
    assert "1区画" in look.text(other) and "毎月金10,000円以上" in look.text(other)
    assert "別棟工務店" in look.text(other) and "住替ハウス株式会社" not in look.text(other)
    assert _qr(ours) == f"{settings.public_url}{A_PAGE}"
    assert _qr(other) == f"{settings.public_url}{B_PAGE}"
    # A builder cannot reach the other's flyer by naming its code; staff must name one.
    assert (
        client.get(
            f"/api/v1/developments/{NAME}/guarantee.pdf",
            params={"builder": f.BUILDER},
            headers=keys["b"],
        ).status_code
        == 404
    )
    unsaid = client.get(f"/api/v1/developments/{NAME}/guarantee.pdf", headers=keys["staff"])
    assert (unsaid.status_code, unsaid.json()["field"]) == (422, "builder")
    said = client.get(
        f"/api/v1/developments/{NAME}/guarantee.pdf",
        params={"builder": f.OTHER_BUILDER},
        headers=keys["staff"],
    )
    assert said.status_code == 200 and "1区画" in look.text(said.content)

    listed = {
        who: client.get(
            "/api/v1/certificates", params={"development": NAME}, headers=keys[who]
        ).json()["total"]
        for who in ("a", "b", "staff")
    }
    assert listed == {"a": 12, "b": 1, "staff": 13}


def test_the_old_address_leads_to_the_one_builders_page(client, keys):
    _twelve_lots(client, keys)
    moved = client.get(f"/developments/{quote(NAME)}", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (302, A_PAGE)
    page = client.get(f"/developments/{quote(NAME)}")
    assert page.status_code == 200 and "12区画" in page.text
    for missing in (
        "/developments/どこにもない",
        f"/developments/{f.OTHER_BUILDER}/{quote(NAME)}",
        f"/developments/999999/{quote(NAME)}",
        f"/developments/not-a-code/{quote(NAME)}",
    ):
        html = client.get(missing)
        assert html.status_code == 404 and 'data-status="invalid"' in html.text, missing
        assert client.get(missing, headers={"accept": "application/json"}).status_code == 404


def test_a_name_with_a_slash_has_a_page(client, keys):
    name = "桑名/和泉"
    lot = _lot(f.BUILDER, "01", 45_000, development=name)
    assert client.post("/api/v1/certificates", json=lot, headers=keys["a"]).status_code == 201
    page = _page(client, f"/developments/{f.BUILDER}/{quote(name, safe='')}")
    assert (page["development"], page["lots"]) == (name, 1)


def test_render_guarantee_names_the_builder_when_two_use_the_name(
    db, settings, client, keys, cli, capsys, tmp_path
):
    """`kaseru render guarantee NAME --builder CODE`: the CLI acts for any builder, so a
    name two builders use needs the code; without it, one line naming --builder's field."""
    _twelve_lots(client, keys)
    client.post("/api/v1/developments", json={"name": NAME}, headers=keys["b"])
    client.post("/api/v1/certificates", json=_lot(f.OTHER_BUILDER, "01", 10_000), headers=keys["b"])
    code, out, err = run(capsys, "render", "guarantee", NAME, "--db", cli)
    assert (code, out) == (1, "")
    assert err.startswith("kaseru: error: builder: ") and err.count("\n") == 1
    assert f.BUILDER in err and f.OTHER_BUILDER in err
    theirs = tmp_path / "theirs.pdf"
    code, out, err = run(
        capsys,
        "render",
        "guarantee",
        NAME,
        "--builder",
        f.OTHER_BUILDER,
        "--out",
        str(theirs),
        "--db",
        cli,
    )
    assert (code, err) == (0, "")
    text = look.text(theirs.read_bytes())
    assert "1区画" in text and "別棟工務店" in text and "毎月金10,000円以上" in text
    assert _qr(theirs.read_bytes()) == f"{settings.public_url}{B_PAGE}"
    code, _, err = run(capsys, "render", "guarantee", NAME, "--builder", "000009", "--db", cli)
    assert code == 1 and err == f"kaseru: error: no development {NAME!r}\n"
