"""The mutation score per module, from the results `mutmut run` left in mutants/.

    python mutate/score.py [--fail-under PERCENT] [--json FILE] PATTERN...

PATTERN selects mutants by name as `mutmut run` does (fnmatch over names such as
``registry.calculator.x_floor__mutmut_3``); `make mutate` passes the same patterns to both.
For each module: killed (a test failed), timeout (the mutant hung and was stopped: caught
too), survived (every test passed), equivalent (survived, and listed in equivalent.toml as
a change no test can see), no tests (no selected test reaches the function), not run, the
total, and the score = (killed + timeout) / total; "excl. eq." leaves the equivalent ones
out of the total. Then every mutant not caught, with the line it changes.

An entry of equivalent.toml names a mutant, the change it makes (as printed here) and why
it cannot change behaviour. It counts only while the change is the same: when the source
moves, mutmut's numbers move with it, and a stale entry is reported, not applied. Run from
the repository's root, after `mutmut run`.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

CAUGHT = ("killed", "timeout")
COLUMNS = ("killed", "timeout", "survived", "equivalent", "no tests", "not run", "other")
EQUIVALENT = Path(__file__).with_name("equivalent.toml")


def results(patterns: list[str]) -> dict[str, dict[str, str]]:
    """Status of every selected mutant, by source file: {path: {mutant name: status}}."""
    found: dict[str, dict[str, str]] = {}
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        source = str(meta.relative_to("mutants"))[: -len(".meta")]
        exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
        chosen = {
            name: "not run" if code is None else status_by_exit_code[code]
            for name, code in exit_codes.items()
            if any(fnmatch.fnmatch(name, p) for p in patterns)
        }
        if chosen:
            found[source] = dict(sorted(chosen.items(), key=lambda item: _order(item[0])))
    return found


def _order(name: str) -> tuple[str, int]:
    function, _, number = name.rpartition("__mutmut_")
    return function, int(number)


def change(name: str, source: str) -> str:
    """The mutated line(s) of a mutant, as `old  →  new`."""
    try:
        diff = get_diff_for_mutant(name, path=source).splitlines()
    except Exception as error:  # the report must not fail over one unreadable mutant
        return f"(no diff: {error})"
    old = " ".join(x[1:].strip() for x in diff if x.startswith("-") and not x.startswith("---"))
    new = " ".join(x[1:].strip() for x in diff if x.startswith("+") and not x.startswith("+++"))
    return f"{old}  →  {new}"


def _short(text: str, width: int = 200) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def apply_equivalent(found: dict[str, dict[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Mark the listed survivors "equivalent"; their reasons, and the stale entries."""
    entries = tomllib.loads(EQUIVALENT.read_text())["equivalent"] if EQUIVALENT.exists() else []
    why: dict[str, str] = {}
    stale: list[str] = []
    for entry in entries:
        name = entry["mutant"]
        source = next((s for s, statuses in found.items() if name in statuses), None)
        if source is None:
            continue  # not among the selected mutants (a sample, or another pattern)
        status = found[source][name]
        if status != "survived":
            stale.append(f"{name}: listed as equivalent, but {status}")
        elif change(name, source) != entry["change"]:
            stale.append(f"{name}: listed as equivalent, but its change is now another one")
        else:
            found[source][name] = "equivalent"
            why[name] = entry["why"]
    return why, stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="+")
    parser.add_argument("--fail-under", type=float, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    args = parser.parse_args()

    found = results(args.patterns)
    if not found:
        print("no mutation results in mutants/: run `make mutate` first", file=sys.stderr)
        return 2
    why, stale = apply_equivalent(found)
    rows = []
    for source, statuses in found.items():
        counts = Counter(s if s in COLUMNS else "other" for s in statuses.values())
        total = len(statuses)
        caught = sum(counts[c] for c in CAUGHT)
        rest = total - counts["equivalent"]
        rows.append((source, counts, caught, total, 100 * caught / total, 100 * caught / rest))

    width = max(len(r[0]) for r in rows)
    names = "  ".join(f"{c:>10}" for c in COLUMNS)
    print(f"{'module':<{width}}  {names}  {'total':>6}  {'caught':>7}  score  excl. eq.")
    for source, counts, caught, total, score, excluding in rows:
        cells = "  ".join(f"{counts[c]:>10}" for c in COLUMNS)
        print(
            f"{source:<{width}}  {cells}  {total:>6}  {caught:>7}  {score:5.1f}%  {excluding:5.1f}%"
        )
    all_caught, all_total = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(
        f"{'all':<{width}}  {' ' * len(names)}  {all_total:>6}  {all_caught:>7}  "
        f"{100 * all_caught / all_total:5.1f}%"
    )

    for source, statuses in found.items():
        missed = [(n, s) for n, s in statuses.items() if s not in CAUGHT and s != "equivalent"]
        if missed:
            print(f"\n{source}: {len(missed)} not caught")
            for name, status in missed:
                print(f"  {status:<9} {name.rpartition('.')[2]}: {_short(change(name, source))}")
    if why:
        print(f"\nequivalent ({EQUIVALENT.name}): {len(why)}")
        for name, reason in why.items():
            print(f"  {name}: {reason}")
    for line in stale:
        print(f"stale entry in {EQUIVALENT.name}: {line}", file=sys.stderr)

    if args.json:
        table = {
            r[0]: {"caught": r[2], "total": r[3], "score": round(r[4], 1), **r[1]} for r in rows
        }
        args.json.write_text(json.dumps(table, indent=2))
    if args.fail_under is not None:
        low = [r[0] for r in rows if r[4] < args.fail_under]
        if low:
            print(f"\nbelow {args.fail_under:g}%: {', '.join(low)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
