"""The `kaseru` command line, run in-process through its real entry point `main` (and once
as a subprocess), against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import main
from registry.settings import Settings
from tests import pdf as look


def run(capsys, settings: Settings, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--db", settings.database_url])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def demo(settings, capsys, tmp_path, monkeypatch):
    """The demo registry, built through the CLI with today pinned to the test's TODAY."""
    monkeypatch.setenv("KASERU_TODAY", settings.current_date().isoformat())
    monkeypatch.setenv("KASERU_HOME", str(tmp_path / "home"))
    code, out, err = run(capsys, settings, "demo", "--out", str(tmp_path / "out"))
    assert (code, err) == (0, "")
    return out


def test_demo_prints_the_summary(demo, tmp_path, capsys):
    assert "15 certificates: 12 fixed-floor, 3 standard" in demo
    assert "11 up to date, 1 due, 3 overdue" in demo
    assert "1 endorsement approved" in demo
    assert "audit chain: 48 events, intact" in demo
    url = next(line for line in demo.splitlines() if line.startswith("verify lot 01"))
    assert "http://127.0.0.1:8000/v/" in url
    rows = json.loads((tmp_path / "out" / "certificates.json").read_text())
    assert len(rows) == 15
    written = sorted(p.name for p in (tmp_path / "out").glob("*.pdf"))
    kinds = {name.split("-")[0] for name in written}
    assert kinds == {"certificate", "notice", "guarantee", "reminder"}
    assert len([n for n in written if n.startswith("certificate-")]) == 15
    for name in written:
        out = look.poppler("pdfsig", (tmp_path / "out" / name).read_bytes())
        assert "Signature is Valid" in out and "Total document signed" in out, name
    keys = tmp_path / "home" / "keys"
    for name in written:
        if name.startswith("certificate-"):
            code = main(
                [
                    "verify",
                    "pdf",
                    str(tmp_path / "out" / name),
                    "--keys",
                    str(keys / "keyring.json"),
                    "--root",
                    str(keys / "root-cert.pem"),
                ]
            )
            assert code == 0, name


def test_demo_again_is_safe(demo, settings, capsys, tmp_path):
    code, again, err = run(capsys, settings, "demo", "--out", str(tmp_path / "out"))
    assert (code, err) == (0, "")
    assert again == demo
    code, listed, _ = run(capsys, settings, "certificates", "list", "--json")
    assert len(json.loads(listed)) == 15


def test_demo_reads_the_settings_again_only_when_it_marks_the_home(
    settings, capsys, tmp_path, monkeypatch
):
    """A fresh home: the demo reads the settings, marks the home as a development one and
    reads them again (the mode, code secret and public URL follow from the mark). A home
    it marked before: read once, like every other command (api/cli/context.py)."""
    monkeypatch.setenv("KASERU_TODAY", settings.current_date().isoformat())
    monkeypatch.setenv("KASERU_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KASERU_ENV", raising=False)
    reads = []
    read = Settings.from_env.__func__

    def counted(cls, env=None):
        reads.append(read(cls, env))
        return reads[-1]

    monkeypatch.setattr(Settings, "from_env", classmethod(counted))
    first, _, err = run(capsys, settings, "demo", "--out", str(tmp_path / "out"))
    assert (first, err) == (0, "")
    assert [r.env for r in reads] == ["production", "development"]
    reads.clear()
    again, _, err = run(capsys, settings, "demo", "--out", str(tmp_path / "out"))
    assert (again, err) == (0, "")
    assert [r.env for r in reads] == ["development"]


def test_list_and_show_json(demo, settings, capsys):
    code, out, _ = run(capsys, settings, "certificates", "list", "--status", "active", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 15
    sold = next(r for r in rows if r["lot"] == "03")
    code, out, _ = run(capsys, settings, "certificates", "show", sold["number"], "--json")
    view = json.loads(out)
    for key in (
        "number",
        "kind",
        "floor",
        "valid_from",
        "valid_until",
        "status",
        "owner",
        "issue_number",
        "standing",
    ):
        assert key in view
    assert view["owner"] == "森 陽介"
    assert view["owner_sequence"] == 2
    assert view["floor"] == 45_000
    assert view["valid_until"] == "2065-10-16"


def test_show_accepts_a_number_typed_with_hyphens_and_full_width_digits(demo, settings, capsys):
    code, out, _ = run(
        capsys, settings, "certificates", "show", "A002-000001-2015-００００１０", "--json"
    )
    assert code == 0
    assert json.loads(out)["standing"] == "overdue"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("certificates", "show", "A00200000120150000"), "has 20 characters"),
        (("certificates", "show", "A0090000012015000001"), "kind code 009"),
        (("certificates", "show", "A0020000012015999999"), "no certificate with number"),
        (("certificates", "list", "--status", "lost"), "'lost' is not one of"),
        (("certificates", "list", "--as-of", "2025-02-30"), "'2025-02-30' is not a date"),
        (("certificates", "revoke", "A0020000012015000001", "--reason", " "), "reason"),
        (("certificates", "frobnicate"), "No such command"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(demo, settings, capsys, args, needle):
    code, out, err = run(capsys, settings, *args)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("kaseru: error: ")
    assert needle in err


def test_revoke_through_the_cli(demo, settings, capsys):
    code, out, _ = run(
        capsys, settings, "certificates", "revoke", "A0020000012015000001", "--reason", "虚偽申請"
    )
    assert code == 0 and "revoked A0020000012015000001" in out
    code, out, _ = run(capsys, settings, "certificates", "list", "--status", "revoked", "--json")
    assert [r["number"] for r in json.loads(out)] == ["A0020000012015000001"]


def test_unreachable_database_is_one_line(capsys):
    code = main(
        [
            "certificates",
            "list",
            "--db",
            "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("kaseru: error: database error:") and err.count("\n") == 1


def test_installed_entry_point_runs(tmp_path, settings):
    """The `kaseru` script that `make` installs: init on a fresh SQLite file."""
    script = Path(sys.executable).with_name("kaseru")
    env = {**os.environ, "KASERU_HOME": str(tmp_path / "fresh")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [str(script), "init"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "fresh" / "kaseru.db").exists()
    assert "registry ready" in done.stdout


def test_areas_import_reports_bad_rows_with_line_numbers(settings, capsys, tmp_path):
    bad = tmp_path / "areas.csv"
    bad.write_text("postal_code,category\n1000001,70000\n0000000,50000\n5300001,lots\n")
    code, out, err = run(capsys, settings, "areas", "import", str(bad))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{bad}:3: postal code 000-0000 does not exist",
        f"{bad}:4: category 'lots' is not one of 70000, 50000, 30000, none, mixed",
        "kaseru: error: 2 of 3 rows are bad; nothing was loaded (--skip-bad loads the good rows)",
    ]
    code, out, _ = run(capsys, settings, "areas", "show", "100-0001", "--json")
    assert json.loads(out)["category"] is None
    code, out, _ = run(capsys, settings, "areas", "import", str(bad), "--skip-bad")
    assert code == 0 and "loaded 1 postal code (70000: 1); skipped 2 bad row(s)" in out
    code, out, _ = run(capsys, settings, "areas", "show", "100-0001", "--json")
    assert json.loads(out) == {
        "postal_code": "1000001",
        "prefecture": "東京都",
        "region": "首都圏",
        "category": "70000",
    }


def test_areas_assess_prints_a_reference(settings, capsys):
    code, out, err = run(
        capsys,
        settings,
        "areas",
        "assess",
        "--postal-code",
        "1000001",
        "--address",
        "東京都千代田区千代田1",
        "--limit",
        "70000",
    )
    assert (code, out, err) == (0, "0000000001\n", "")
    code, _, err = run(
        capsys,
        settings,
        "areas",
        "assess",
        "--postal-code",
        "1000001",
        "--address",
        "x",
        "--limit",
        "-1",
    )
    assert code == 1 and err.startswith("kaseru: error: floor_limit:")


def test_render_commands_write_each_kind(demo, settings, capsys, tmp_path):
    rows = json.loads(run(capsys, settings, "certificates", "list", "--json")[1])
    overdue = next(r["number"] for r in rows if r["standing"] == "overdue")
    commands = [
        ("certificate", overdue),
        ("notice", "0000000001"),
        ("guarantee", "桑名和泉ガーデンタウン"),
        ("reminder", overdue, "--stage", "overdue"),
    ]
    for kind, *args in commands:
        target = tmp_path / f"{kind}.pdf"
        code, out, err = run(capsys, settings, "render", kind, *args, "--out", str(target))
        assert (code, err) == (0, ""), err
        assert out.startswith(f"wrote {target}")
        assert "Signature is Valid" in look.poppler("pdfsig", target.read_bytes())
    code, _, err = run(capsys, settings, "render", "guarantee", "どこにもない分譲地")
    assert code == 1 and err == "kaseru: error: no development 'どこにもない分譲地'\n"
