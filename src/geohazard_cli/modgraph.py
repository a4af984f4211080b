"""Which of the tool's own modules a module imports, read from the sources (``ast``), never by
importing them.

Two users: the profile cache keys an entry on the sources of every module that computes it
(cache.py: ``closure``), so an edit to any of them is a miss without a hand-kept list; and
tests/test_shape.py holds ``src/`` free of import circles (``graph``, ``cycles``). Imports inside
functions count (they run when the function does); imports under ``if TYPE_CHECKING:`` do not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "geohazard_cli"


def package_root() -> Path:
    """The directory holding the package directory (``src/`` in a checkout, site-packages when installed)."""
    return Path(__file__).resolve().parent.parent


def module_file(name: str, root: Path) -> Path | None:
    """The source file of module ``name`` under ``root``, or None when it is not one of ours."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement inside ``node``, at any depth, except under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        elif isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        else:
            yield from _import_nodes(child)


def imports(name: str, root: Path) -> set[str]:
    """The package's modules that module ``name`` imports by name (not its parent packages)."""
    path = module_file(name, root)
    if path is None:
        return set()
    tree = ast.parse(path.read_bytes(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            # `from pkg import mod` imports the submodule when there is one, else a name of pkg.
            targets = [f"{base}.{alias.name}" if module_file(f"{base}.{alias.name}", root) else base
                       for alias in node.names]
        found.update(t for t in targets if (t == PACKAGE or t.startswith(PACKAGE + ".")) and module_file(t, root))
    found.discard(name)
    return found


def closure(name: str, root: Path) -> list[str]:
    """Module ``name`` and every module of the package that importing and running it can import,
    with their parent packages (whose ``__init__`` runs first), sorted."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or module_file(current, root) is None:
            continue
        seen.add(current)
        parts = current.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        todo.extend(imports(current, root))
    return sorted(seen)


def graph(root: Path) -> dict[str, set[str]]:
    """Every module of the package under ``root`` and the package modules it imports."""
    names = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return {n: imports(n, root) for n in names}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: each set of modules that import one another in a ring (Tarjan's
    strongly connected components of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)
