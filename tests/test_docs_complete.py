"""The map and the command table stay true: docs/architecture.md names every module where it
says its package's concerns live, and the README's command table names every command."""

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
SECTIONS = {"fieldapp": "### fieldapp", "sync": "### sync", "ui": "### ui"}


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = re.compile(r"^#{2,3} ", re.M).search(text, start + len(heading))
    return text[start:end.start() if end else len(text)]


def test_the_architecture_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = []
    for package, heading in SECTIONS.items():
        named = set(re.findall(r"`([\w/]+\.py)`", _section(text, heading)))
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT / package).as_posix()
            if path.name == "__init__.py" or "/migrations/" in f"/{relative}":
                continue
            if relative not in named:
                missing.append(f"{package}/{relative}")
    assert not missing, f"docs/architecture.md does not say where these live: {missing}"


class _Parsed(Exception):
    def __init__(self, parser):
        self.parser = parser


def _command_lines(main, program: str, monkeypatch) -> set[str]:
    """Every command line `main` accepts ('tandem-server releases import', …), read from the
    argparse parser it builds (stopped before it parses anything)."""
    def stop(parser, *_args, **_kwargs):
        raise _Parsed(parser)
    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_args", stop)
        try:
            main([])
        except _Parsed as parsed:
            return _walk(parsed.parser, program)
    raise AssertionError(f"{program} never built its parser")


def _walk(parser: argparse.ArgumentParser, words: str) -> set[str]:
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        return {words}
    return {line for action in subcommands for name, sub in action.choices.items()
            for line in _walk(sub, f"{words} {name}")}


def test_the_readme_names_every_command(monkeypatch):
    from sync.server.cli import main as server_main
    from ui.cli import main as laptop_main

    readme = (ROOT / "README.md").read_text()
    table = [row.split("`")[1] for row in readme.splitlines() if row.startswith("| `tandem")]
    commands = (_command_lines(laptop_main, "tandem", monkeypatch) - {"tandem app"}) | \
        _command_lines(server_main, "tandem-server", monkeypatch)
    assert len(commands) > 20
    missing = [words for words in sorted(commands) if not any(
        row == words or row.startswith(words + " ") or
        # one row for a command's actions: `tandem-server settings [list … | set KEY …]`
        (row.startswith(words.rsplit(" ", 1)[0] + " ") and
         re.search(rf"[\[|] ?{re.escape(words.rsplit(' ', 1)[1])}\b", row))
        for row in table)]
    assert not missing, f"the README's command table lacks: {missing}"
