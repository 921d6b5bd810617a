"""Where code lives and which way imports point: nlp/ is a pure library, monitor/ has no
import cycles and imports its own modules at the top."""

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


# --- monitor/: imports point one way --------------------------------------------------

MONITOR = NLP.parent / "monitor"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(NLP.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in MONITOR.rglob("*.py")}


def _is_type_checking(node) -> bool:
    return isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"


def _imports_of(path: Path):
    """(imported module, node) for every import of a monitor module, a module taken
    from a package (`from . import x`) counting as that module."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for block in tree.body if _is_type_checking(block)
                   for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: never imported at run time
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
            targets = subs if len(subs) == len(node.names) else [base, *subs]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node


def _graph(unit=lambda m: m) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {unit(m): set() for m in MODULES}
    for name, path in MODULES.items():
        for target, _ in _imports_of(path):
            if unit(target) != unit(name):
                graph[unit(name)].add(unit(target))
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _feature(module: str) -> str:
    """monitor.incidents.lifecycle -> monitor.incidents; monitor.clock stays itself."""
    return ".".join(module.split(".")[:2])


def test_no_two_monitor_modules_import_each_other():
    assert _cycles(_graph()) == []


def test_no_two_monitor_packages_import_each_other():
    assert _cycles(_graph(_feature)) == []


# The only imports allowed inside functions: modules whose third-party stack is slow to
# import and needed by a few commands only (every `tsur` command and subprocess pays for
# what the CLI imports at start).
LAZY = {
    "monitor.collectors.telegram": "aiogram takes seconds; only a configured bot needs it",
    "monitor.web.app": "FastAPI, Jinja2 and every page: only serve and demo",
    "monitor.web.bench": "the web stack and its test client: only bench web",
}


@pytest.mark.parametrize("path", sorted(MONITOR.rglob("*.py")), ids=_module_name)
def test_monitor_imports_its_own_modules_at_the_top_only(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {node.lineno for node in tree.body}
    hidden = [f"line {node.lineno}" for target, node in _imports_of(path)
              if node.lineno not in top and target not in LAZY]
    assert not hidden, f"{path.name}: imports inside functions at {hidden}"


def test_the_lower_packages_never_import_the_upper_ones():
    upper = {"monitor.web", "monitor.commands", "monitor.cli"}
    for name, path in MODULES.items():
        if _feature(name) in upper:
            continue
        bad = {t for t, _ in _imports_of(path) if _feature(t) in upper}
        assert not bad, f"{name} imports {sorted(bad)}"
    incidents = [t for n, p in MODULES.items() if _feature(n) == "monitor.incidents"
                 for t, _ in _imports_of(p) if _feature(t) == "monitor.replies"]
    assert not incidents, "incidents/ queues into its outbox; replies/ sends, never the reverse"


@pytest.mark.parametrize("path", sorted([*MONITOR.glob("web/*.py"), *MONITOR.glob("commands/*.py")]),
                         ids=_module_name)
def test_web_and_commands_hold_no_sql(path):
    """Queries live in the domain packages; pages and commands call them."""
    text = path.read_text(encoding="utf-8")
    found = [s for s in ("db.execute", "db[", "db.query", "SELECT ", "INSERT ", "UPDATE ",
                         "DELETE FROM") if s in text]
    assert not found, f"{path.name} holds SQL: {found}"


def test_every_ctx_parameter_is_typed_and_pages_take_it_through_one_alias():
    untyped, repeated = [], []
    for path in MONITOR.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                untyped += [f"{path.name}:{node.name}" for a in args
                            if a.arg == "ctx" and a.annotation is None]
        if text.count("Depends(request_context)") > (path.name == "auth.py"):
            repeated.append(path.name)
    assert not untyped, "ctx without `: Context`"
    assert not repeated, "use CtxDep instead of Depends(request_context)"


def test_the_command_line_starts_without_the_slow_stacks():
    import subprocess
    import sys

    code = ("import sys, monitor.cli; print(' '.join(m for m in ('aiogram', 'fastapi', 'uvicorn')"
            " if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=NLP.parent).stdout.split()
    assert loaded == [], f"`tsur` imports {loaded} at start; import them where they are used"
