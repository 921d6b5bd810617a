"""The README is what a new user reads first: keep it true."""

import re
from pathlib import Path

import click
import pytest

from monitor.cli import cli
from monitor.settings import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "tsur"):
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")


ALL = list(commands(cli))


@pytest.mark.parametrize("name, command", ALL, ids=[n for n, _ in ALL])
def test_every_command_is_in_the_readme_and_has_help_with_an_example(name, command):
    assert f"`{name}" in README, f"{name} is missing from README.md"
    assert command.help, f"{name} has no help"
    if not isinstance(command, click.Group):
        assert "Example:" in command.help, f"{name} --help has no example"


@pytest.mark.parametrize("var", ENVIRONMENT, ids=lambda v: v.name)
def test_every_environment_variable_is_documented(var):
    assert f"`{var.name}`" in README


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "pip install -e '.[dev]' && pytest -q"
    assert command in README and command in ci
    assert "pip install -e . && tsur demo" in README


LAYOUT = README.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
MONITOR_LAYOUT = LAYOUT.split("- `monitor/`", 1)[1].split("\n- `", 1)[0]


def test_the_layout_names_every_package_of_monitor_and_no_other():
    named = set(re.findall(r"^  - `(\w+)/`", MONITOR_LAYOUT, re.M))
    packages = {p.parent.name for p in (ROOT / "monitor").glob("*/__init__.py")}
    assert named == packages, (f"README Layout names {sorted(named - packages)} that do not "
                               f"exist and misses {sorted(packages - named)}")


def test_the_layout_names_every_top_module_of_monitor_and_no_other():
    top_line = next(line for line in MONITOR_LAYOUT.split("\n  - ") if "`cli.py`" in line)
    named = set(re.findall(r"`(\w+\.py)`", top_line))
    modules = {p.name for p in (ROOT / "monitor").glob("*.py")} - {"__init__.py"}
    assert named == modules


def test_every_file_the_layout_names_in_nlp_exists():
    nlp_line = LAYOUT.split("- `nlp/`", 1)[1].split("\n- `", 1)[0]
    named = re.findall(r"`(\w+\.py)`", nlp_line)
    assert named and all((ROOT / "nlp" / name).exists() for name in named)
