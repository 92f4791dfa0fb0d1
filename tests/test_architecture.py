"""The shape of the code: imports run one way (handlers → services → db), with no cycles.

The import graph is read from the source (every `import` and `from … import`, at any depth, type-only
imports included), so a cycle fails here before it can fail at start-up or in a reviewer's head.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "db")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """The modules of the tree that `name` imports (a package's `__init__` counts for its submodules)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets = [
                f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in MODULES
            ]
            targets = targets or [module]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _under(name: str, *packages: str) -> bool:
    """Whether a module is one of these packages or inside one (bot.web, not bot.webhook)."""
    return any(name == package or name.startswith(package + ".") for package in packages)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    assert "bot.app" in GRAPH and "bot.registry" in GRAPH["bot.app"]
    assert "bot.forms.flow" in GRAPH["bot.forms.conversation"]


def test_no_import_cycles() -> None:
    cycles = _cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


def test_the_edges_never_import_the_database_layer() -> None:
    """The chat's handlers and the web dashboard reach the database only through the services."""
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if _under(name, "bot.handlers", "bot.web")
        for target in targets
        if target == "db" or target.startswith("db.")
    )
    assert not offenders, "\n".join(offenders)


def test_services_and_the_form_rules_know_nothing_of_telegram() -> None:
    offenders = []
    for name, path in MODULES.items():
        if not (name.startswith("bot.services") or name in ("bot.forms.spec", "bot.forms.flow")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{name} imports {m}" for m in modules if m == "telegram" or m.startswith("telegram.")
            ]
    assert not offenders, "\n".join(offenders)


def test_layers_point_down() -> None:
    """services never import handlers, the kit or the form engine; db never imports bot."""
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if (
            name.startswith("bot.services")
            and target.startswith(("bot.handlers", "bot.kit", "bot.forms", "bot.registry"))
        )
        or (name.startswith("db") and target.startswith("bot"))
        or (_under(name, "bot.kit", "bot.forms") and _under(target, "bot.handlers", "bot.web"))
        or (_under(name, "bot.services") and _under(target, "bot.views", "bot.web"))
    )
    assert not offenders, "\n".join(offenders)


def test_the_chat_and_the_web_are_peers_over_shared_views() -> None:
    """bot/handlers (the chat) and bot/web (the dashboard) never import each other; what both need
    (words, notices to other people, spreadsheets) lives in bot/views, which imports neither."""
    assert any(_under(name, "bot.web") for name in GRAPH), "the web package is not in the graph"
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if (_under(name, "bot.web") and _under(target, "bot.handlers"))
        or (_under(name, "bot.handlers") and _under(target, "bot.web"))
        or (_under(name, "bot.views") and _under(target, "bot.handlers", "bot.web"))
    )
    assert not offenders, "\n".join(offenders)
