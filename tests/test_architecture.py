"""nlp/ is a pure library: it never reaches for the service, a database or the network."""

import ast
from pathlib import Path

import pytest

NLP = Path(__file__).resolve().parents[1] / "nlp"
FORBIDDEN = ("monitor", "sqlite3", "sqlite_utils", "httpx", "aiogram", "requests", "vk_api",
             "urllib.request", "socket", "aiohttp")


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("path", sorted(NLP.glob("*.py")), ids=lambda p: p.name)
def test_nlp_module_imports_nothing_forbidden(path):
    bad = [m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN]
    assert not bad, f"{path.name} imports {bad}"


def test_nlp_modules_are_checked():
    assert len(list(NLP.glob("*.py"))) >= 5
