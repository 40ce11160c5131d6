"""Rules for the tests themselves (issue 12): every process a test starts has a time limit,
so a hang fails one test instead of stalling CI; no test sleeps to wait for something to
happen, and a sleep that remains (a poll of a state with no signal) says why."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
RUNS = {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"}


def _calls(path: Path) -> list[tuple[int, str, ast.Call]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, ast.unparse(node.func), node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    ]


def untimed_processes(path: Path) -> list[str]:
    """`file:line call` for each subprocess call or communicate() without a timeout."""
    found = []
    for line, name, call in _calls(path):
        waits = name in RUNS or name.endswith(".communicate")
        if waits and not any(k.arg == "timeout" for k in call.keywords):
            found.append(f"{path.name}:{line} {name}")
    return found


def unexplained_sleeps(path: Path) -> list[str]:
    """`file:line` for each time.sleep with no comment on its line or the line above."""
    lines = path.read_text().splitlines()
    found = []
    for line, name, _ in _calls(path):
        if name in {"time.sleep", "sleep", "asyncio.sleep"}:
            here, above = lines[line - 1], lines[line - 2] if line > 1 else ""
            if "#" not in here and not above.strip().startswith("#"):
                found.append(f"{path.name}:{line}")
    return found


def _files() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def test_every_process_a_test_starts_has_a_time_limit():
    assert [f for path in _files() for f in untimed_processes(path)] == []


def test_no_unexplained_sleep():
    assert [f for path in _files() for f in unexplained_sleeps(path)] == []


def test_the_checks_find_what_they_look_for(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text(
        "import subprocess, time\n"
        "def test_x(p):\n"
        "    subprocess.run(['true'])\n"
        "    p.communicate()\n"
        "    p.communicate(timeout=5)\n"
        "    time.sleep(1)\n"
        "    time.sleep(1)  # a poll: nothing else to wait on\n"
    )
    assert untimed_processes(bad) == [
        "test_bad.py:3 subprocess.run",
        "test_bad.py:4 p.communicate",
    ]
    assert unexplained_sleeps(bad) == ["test_bad.py:6"]


ROOT = Path(__file__).resolve().parent.parent


def scripts_missing_from_smoke(bench: Path, makefile: str) -> list[str]:
    """The bench scripts (a Python file with a __main__ block, or a shell script) that the
    Makefile's bench-smoke target does not run with --smoke: a bench nothing runs rots
    (issue 14: bench/render.py broke unseen when the certificate template grew a field)."""
    recipe = makefile.split("\nbench-smoke:", 1)[1].split("\n\n", 1)[0]
    missing = []
    for script in sorted(bench.iterdir()):
        runnable = script.suffix == ".sh" or (
            script.suffix == ".py" and '__name__ == "__main__"' in script.read_text()
        )
        if runnable and f"bench/{script.name} --smoke" not in recipe:
            missing.append(script.name)
    return missing


def test_make_bench_smoke_runs_every_bench():
    makefile = (ROOT / "Makefile").read_text()
    assert scripts_missing_from_smoke(ROOT / "bench", makefile) == []


def test_a_bench_left_out_of_bench_smoke_is_found(tmp_path):
    (tmp_path / "kept.py").write_text('if __name__ == "__main__":\n    pass\n')
    (tmp_path / "forgotten.py").write_text('if __name__ == "__main__":\n    pass\n')
    (tmp_path / "load.sh").write_text("#!/bin/sh\n")
    (tmp_path / "library.py").write_text("def served(): ...\n")
    makefile = (
        "test:\n\tpytest\n\nbench-smoke: x\n\t$(BIN)/python bench/kept.py --smoke\n\n"
        "lint:\n\tbench/load.sh --smoke\n"
    )
    assert scripts_missing_from_smoke(tmp_path, makefile) == ["forgotten.py", "load.sh"]
