"""Every `kaseru` command the README shows, and every long option it shows with it, is
named by some test: the README is a promise and this keeps each part of it under test.

A command counts as tested where a function under tests/ runs the command line (it, or a
helper it calls from its own module, calls `main` or names the `kaseru` script or the
`api.cli` module) and passes the command's words as strings one after the other
(`main(["keys", "rotate"])`, `run(capsys, settings, "certificates", "list", ...)`, a
subprocess's argument list), or passes the subcommand (`"owner-rent"`, `"notice"`) while it
or such a helper passes the group (`main(["calc", *args])`, `run(..., "render", kind)`). An
option counts where a function that tests the command, or a helper it calls, passes it.
Comments, docstrings and strings with a space in them (messages, names) do not count.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
README = ROOT / "README.md"

SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
WORD = re.compile(r"[a-z][a-z0-9-]*")
OPTION = re.compile(r"--[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Command:
    """One command the README shows: its subcommand path and the long options shown."""

    path: tuple[str, ...]
    options: frozenset[str]

    @property
    def name(self) -> str:
        return " ".join(self.path)


def _split_top(text: str) -> list[str]:
    """`text` cut at each ` | ` outside brackets: the README's alternatives
    (`keys list [--json] | rotate | compromise KID`), not `(--a X | --b Y)` or `a|b`."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif text.startswith(" | ", i) and depth == 0:
            parts.append(text[start:i])
            start = i + 3
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _path(words: list[str]) -> tuple[str, ...]:
    path = []
    for word in words:
        if not WORD.fullmatch(word):
            break
        path.append(word)
    return tuple(path)


def readme_commands(text: str) -> list[Command]:
    """The `kaseru …` lines of the text's ```sh blocks, one Command per alternative; an
    alternative after ` | ` is a sibling of the first (`keys rotate`)."""
    found: dict[tuple[str, ...], set[str]] = {}
    for block in SH_BLOCK.findall(text):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line.strip())
            if not line.startswith("kaseru "):
                continue
            first, *others = _split_top(line.removeprefix("kaseru "))
            path = _path(first.split())
            alternatives = [(path, first)]
            for other in others:
                alternatives.append(((*path[:1], *_path(other.split())), other))
            for alternative_path, words in alternatives:
                found.setdefault(alternative_path, set()).update(OPTION.findall(words))
    return [Command(path, frozenset(options)) for path, options in found.items()]


@dataclass
class _Function:
    words: list[str]
    """Its string constants in source order (docstrings left out)."""
    calls: set[str] = field(default_factory=set)
    """Names of the functions it calls."""


def _words(node: ast.AST) -> list[str]:
    constants = [
        n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    constants.sort(key=lambda n: (n.lineno, n.col_offset))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(node)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    # One string, one argument: a string with a space in it ("kaseru keys init" in an error
    # message, a name) is no word of a command line, and stands between the words around it.
    values = [str(n.value) for n in constants if id(n) not in docstrings]
    return ["" if re.search(r"\s", value) else value for value in values]


def _functions(source: str) -> list[tuple[str, _Function]]:
    tree = ast.parse(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            calls = {
                n.func.id
                for n in ast.walk(node)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            out.append((node.name, _Function(_words(node), calls)))
    return out


def _contains(words: list[str], path: tuple[str, ...]) -> bool:
    n = len(path)
    return any(tuple(words[i : i + n]) == path for i in range(len(words) - n + 1))


def untested(readme: Path | str, tests: Path = TESTS) -> list[str]:
    """What the README at `readme` (a path, or its text) shows that no test names: each
    command as `kaseru PATH`, each option as `kaseru PATH --OPTION`."""
    text = readme.read_text() if isinstance(readme, Path) else readme
    units: list[tuple[_Function, set[str]]] = []
    for file in sorted(tests.rglob("*.py")):
        if file == tests / Path(__file__).name:  # this file names commands in its examples
            continue
        functions = _functions(file.read_text())
        by_name: dict[str, list[_Function]] = {}
        for name, function in functions:
            by_name.setdefault(name, []).append(function)
        for _, function in functions:
            # The words of this function and of the module's functions it calls, and so on.
            reach, calls, todo = set(function.words), set(function.calls), list(function.calls)
            seen: set[str] = set()
            while todo:
                name = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                for helper in by_name.get(name, []):
                    reach.update(helper.words)
                    calls.update(helper.calls)
                    todo.extend(helper.calls)
            # It runs the command line: api.cli's `main`, or the installed script or module.
            if "main" in calls or {"kaseru", "api.cli"} & reach:
                units.append((function, reach))
    missing = []
    for command in readme_commands(text):
        group, sub = command.path[0], command.path[1:]
        naming = [
            reach
            for function, reach in units
            if _contains(function.words, command.path)
            or (sub and _contains(function.words, sub) and group in reach)
        ]
        if not naming:
            missing.append(f"kaseru {command.name}")
        for option in sorted(command.options):
            if not any(option in reach for reach in naming):
                missing.append(f"kaseru {command.name} {option}")
    return missing


def test_every_command_and_option_the_readme_shows_is_tested():
    assert untested(README) == []


def test_the_readme_commands_are_read_as_shown():
    commands = {c.name: c.options for c in readme_commands(README.read_text())}
    assert commands["keys list"] == {"--json"}
    assert commands["keys rotate"] == frozenset()
    assert commands["keys compromise"] == {"--since"}
    assert commands["render guarantee"] == {"--builder", "--market-rent"}
    assert commands["render reminder"] == {"--stage"}
    assert commands["calc stress"] >= {"--rent", "--decline", "--city", "--sigma", "--fee"}
    assert commands["reminders run"] == {"--as-of", "--send", "--json"}
    assert commands["certificates list"] == {"--status", "--development", "--as-of", "--json"}
    assert "make" not in {c.path[0] for c in readme_commands(README.read_text())}
    assert len(commands) >= 30


def test_an_untested_command_or_option_is_reported(tmp_path):
    readme = README.read_text() + (
        "\n```sh\nkaseru foo --bar                 # made up\n"
        "kaseru keys list [--json] | rotate [--frobnicate] | melt KID\n```\n"
    )
    copy = tmp_path / "README.md"
    copy.write_text(readme)
    assert sorted(untested(copy)) == [
        "kaseru foo",
        "kaseru foo --bar",
        "kaseru keys melt",
        "kaseru keys rotate --frobnicate",
    ]


def test_only_code_that_runs_the_command_counts(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    text = "```sh\nkaseru keys rotate [--json]\nkaseru calc stress --rent YEN\n```\n"
    (tests / "test_x.py").write_text(
        '"""kaseru keys rotate --json"""\n\n'
        "def test_one():\n"
        '    """Runs keys rotate --json."""\n'
        "    # main(['keys', 'rotate', '--json'])\n"
        "    assert ['keys', 'rotate', '--json'] != []  # strings, but nothing runs them\n"
    )
    assert untested(text, tests) == [
        "kaseru keys rotate",
        "kaseru keys rotate --json",
        "kaseru calc stress",
        "kaseru calc stress --rent",
    ]
    # A helper that runs the command line, given the words (the group from a helper of its own).
    (tests / "test_x.py").write_text(
        "def _run(*args):\n"
        "    return main([*args, '--json'])\n\n"
        "def calc(*args):\n"
        "    return _run('calc', *args)\n\n"
        "def test_one():\n"
        "    _run('keys', 'rotate')\n"
        "    calc('stress', '--years', '1')\n"
    )
    assert untested(text, tests) == ["kaseru calc stress --rent"]
