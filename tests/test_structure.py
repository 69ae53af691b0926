"""Structure of the urbsim package, read statically (ast) from urbsim/**/*.py.

* The import graph among urbsim modules has no cycle: neither among the imports run when a
  module is loaded (module level), nor once the imports inside functions are added.
* No function is over :data:`MAX_LINES` lines, except the kernels' hot loops of
  :data:`HOT_LOOPS`, each of which says why in a comment containing "hot loop" at its top.
* No module imports a private name (``_x``) of another module, nor reaches one through an
  imported module (``module._x``).

An edge of the graph goes to the module an import names: ``from urbsim.plots import run`` to
``urbsim.plots.run`` (a submodule), ``from urbsim.plots import draw_all`` to ``urbsim.plots``
(the package's ``__init__``). Importing ``urbsim.plots.run`` also runs the ``__init__`` of
``urbsim.plots`` first, so the importer gets an edge to each package on the way too (except
its own packages, which are already loading when it runs). Imports under
``if TYPE_CHECKING:`` are not counted: they never run.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "urbsim"

#: Longest function allowed (lines from ``def`` to its last line, docstring included).
MAX_LINES = 80
#: Functions allowed to be longer: Numba kernels whose loop body is kept in one function so that
#: the compiler sees it whole. Each must say why in a "hot loop" comment (see
#: :func:`test_hot_loops_justify_their_length`).
HOT_LOOPS: frozenset[tuple[str, str]] = frozenset(
    {
        ("urbsim/kernels/household_step.py", "_step"),
        ("urbsim/kernels/household_step.py", "_choose"),
    }
)


# ---------------------------------------------------------------------------------------------
# Reading the package
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edge:
    """One import of an urbsim module by another."""

    source: str
    target: str
    where: str  # "path:line"
    in_function: bool


def _sources() -> dict[str, Path]:
    """Module name -> file, for every module of the package."""
    out: dict[str, Path] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _sources()
TREES = {name: ast.parse(path.read_text(), filename=str(path)) for name, path in MODULES.items()}


def _rel(name: str) -> str:
    return MODULES[name].relative_to(ROOT).as_posix()


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


#: An import statement and whether it sits inside a function.
FoundImport = tuple[ast.Import | ast.ImportFrom, bool]


def _imports(tree: ast.AST) -> Iterator[FoundImport]:
    """Every import statement that can run, with whether it sits inside a function."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[FoundImport]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            elif isinstance(child, ast.If) and _is_type_checking(child):
                yield from walk(ast.Module(body=child.orelse, type_ignores=[]), in_function)
            else:
                inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                yield from walk(child, inner)

    yield from walk(tree, False)


def _base(module: str, node: ast.ImportFrom) -> str:
    """Absolute name of the module a ``from ... import`` reads from (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def _owner(name: str) -> str | None:
    """The urbsim module a dotted name lives in: the longest prefix that is a module."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in MODULES:
            return ".".join(parts[:k])
    return None


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str | None]]:
    """(urbsim module imported, name taken from it or None for the module itself)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            owner = _owner(alias.name)
            if owner is not None:
                yield owner, None
        return
    base = _base(module, node)
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            yield f"{base}.{alias.name}", None
        elif base in MODULES:
            yield base, alias.name


def _packages(name: str) -> list[str]:
    """The packages Python loads before a module: ``a.b.c`` -> ``a``, ``a.b``."""
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def _edges() -> list[Edge]:
    out = []
    for module, tree in TREES.items():
        own = set(_packages(module))
        for node, in_function in _imports(tree):
            where = f"{_rel(module)}:{node.lineno}"
            for target, _ in _targets(module, node):
                loaded = [p for p in _packages(target) if p in MODULES and p not in own]
                for t in [*loaded, target]:
                    if t != module:
                        out.append(Edge(module, t, where, in_function))
    return out


EDGES = _edges()


# ---------------------------------------------------------------------------------------------
# (a) Import cycles
# ---------------------------------------------------------------------------------------------
def _cycles(edges: list[Edge]) -> list[list[Edge]]:
    """One cycle (as its edges) per strongly connected component with more than one module."""
    graph: dict[str, dict[str, Edge]] = {}
    for e in edges:
        graph.setdefault(e.source, {}).setdefault(e.target, e)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        # Tarjan's algorithm; the package has ~100 modules, far below the recursion limit.
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                connect(w)
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
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_cycle_in(graph, set(c), c[0]) for c in components]


def _cycle_in(graph: dict[str, dict[str, Edge]], members: set[str], start: str) -> list[Edge]:
    """A shortest cycle through ``start`` inside one component (breadth-first)."""
    previous: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w, e in sorted(graph.get(v, {}).items()):
                if w not in members:
                    continue
                if w == start:
                    path = [e]
                    while path[0].source != start:
                        path.insert(0, previous[path[0].source])
                    return path
                if w not in previous:
                    previous[w] = e
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"{start} is in a component but on no cycle")


def _describe(cycles: list[list[Edge]]) -> str:
    lines = []
    for cycle in cycles:
        lines.append(" -> ".join([cycle[0].source] + [e.target for e in cycle]))
        lines += [
            f"    {e.where}: imports {e.target}{' (in a function)' if e.in_function else ''}"
            for e in cycle
        ]
    return "\n".join(lines)


def test_structure_sees_the_package() -> None:
    """The checks below read the real package: known modules and a known import edge."""
    assert {"urbsim", "urbsim.plots", "urbsim.plots.run", "urbsim.analysis.sensitivity"} <= set(
        MODULES
    )
    assert any(e.source == "urbsim.plots.run" and e.target == "urbsim.plots.style" for e in EDGES)
    # A function-level import is classed as such.
    assert any(
        e.source == "urbsim.plots.sweep" and e.target == "urbsim.sweep.driver" and e.in_function
        for e in EDGES
    )


def test_cycle_finder_finds_a_known_cycle() -> None:
    """The cycle finder on a hand-made graph: a -> b -> c -> a and d -> d's neighbour only."""
    edges = [
        Edge("a", "b", "a.py:1", False),
        Edge("b", "c", "b.py:1", True),
        Edge("c", "a", "c.py:1", False),
        Edge("d", "a", "d.py:1", False),
    ]
    (cycle,) = _cycles(edges)
    assert [e.source for e in cycle] == ["a", "b", "c"]
    assert "a -> b -> c -> a" in _describe([cycle])
    assert _cycles(edges[:2] + edges[3:]) == []


def test_module_level_imports_have_no_cycle() -> None:
    """Loading any urbsim module never re-enters a module being loaded."""
    cycles = _cycles([e for e in EDGES if not e.in_function])
    assert not cycles, "import cycles among module-level imports:\n" + _describe(cycles)


def test_imports_including_function_level_have_no_cycle() -> None:
    """No cycle either once the imports inside functions count (they only defer a cycle)."""
    cycles = _cycles(EDGES)
    assert not cycles, "import cycles (module- and function-level imports):\n" + _describe(cycles)


# ---------------------------------------------------------------------------------------------
# (b) Function length
# ---------------------------------------------------------------------------------------------
def _functions() -> Iterator[tuple[str, str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(file, qualified name, node) of every function and method, nested ones included."""

    def walk(node: ast.AST, prefix: str, path: str) -> Iterator:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    yield path, name, child
                yield from walk(child, name + ".", path)
            else:
                yield from walk(child, prefix, path)

    for module, tree in TREES.items():
        yield from walk(tree, "", _rel(module))


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return int(node.end_lineno or node.lineno) - node.lineno + 1


def test_no_function_over_the_limit() -> None:
    """Every function fits in MAX_LINES lines, except the listed kernel hot loops."""
    long = sorted(
        f"{path}: {name} ({_length(node)} lines)"
        for path, name, node in _functions()
        if _length(node) > MAX_LINES and (path, name) not in HOT_LOOPS
    )
    assert not long, f"functions over {MAX_LINES} lines:\n" + "\n".join(long)


def _comments(path: Path) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return {t.start[0]: t.string for t in tokens if t.type == tokenize.COMMENT}


@pytest.mark.parametrize(("path", "name"), sorted(HOT_LOOPS))
def test_hot_loops_justify_their_length(path: str, name: str) -> None:
    """An allowed long function says why in a "hot loop" comment before its first statement
    (after the docstring), and is still long: a stale entry must leave the list."""
    found = [node for p, n, node in _functions() if (p, n) == (path, name)]
    assert found, f"{path}: no function {name}; remove it from HOT_LOOPS"
    node = found[0]
    assert _length(node) > MAX_LINES, f"{path}: {name} fits in {MAX_LINES} lines now; unlist it"
    body = node.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    first_code = body[1] if has_doc and len(body) > 1 else body[0]
    comments = _comments(ROOT / path)
    top = [comments[i] for i in range(node.lineno, first_code.lineno + 1) if i in comments]
    assert any("hot loop" in c.lower() for c in top), (
        f"{path}: {name} is {_length(node)} lines; justify it with a comment containing "
        "'hot loop' between its def and its first statement"
    )


# ---------------------------------------------------------------------------------------------
# (c) Private names
# ---------------------------------------------------------------------------------------------
def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_uses(module: str, tree: ast.AST) -> Iterator[str]:
    """Private names this module takes from other urbsim modules, as "path:line: what"."""
    where = _rel(module)
    aliases: dict[str, str] = {}  # local name -> urbsim module it is bound to
    for node, _ in _imports(tree):
        for target, name in _targets(module, node):
            if target == module:
                continue
            if name is not None and _private(name):
                yield f"{where}:{node.lineno}: from {target} import {name}"
            elif name is None and any(_private(p) for p in target.split(".")):
                yield f"{where}:{node.lineno}: imports private module {target}"
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            if isinstance(node, ast.ImportFrom):
                full = f"{_base(module, node)}.{alias.name}"
                if full in MODULES:
                    aliases[local] = full
            elif alias.asname and alias.name in MODULES:
                aliases[local] = alias.name
    # Attribute access through a module bound by an import: `store.column_bytes`.
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ):
            yield f"{where}:{node.lineno}: {aliases[node.value.id]}.{node.attr}"


def test_private_name_detection() -> None:
    """The detector flags ``from m import _x``, ``m._x`` through an imported module and a
    private module, and accepts public names given a private alias."""
    source = (
        "from urbsim.plots.style import _hidden, save_figure as _save\n"
        "from urbsim.plots import style\n"
        "def f():\n"
        "    return style._other\n"
    )
    found = list(_private_uses("urbsim.plots.run", ast.parse(source)))
    assert found == [
        "urbsim/plots/run.py:1: from urbsim.plots.style import _hidden",
        "urbsim/plots/run.py:4: urbsim.plots.style._other",
    ]


def test_no_private_imports_across_modules() -> None:
    """Helpers another module needs are public (named, documented) in the module owning them."""
    found = [use for module, tree in TREES.items() for use in _private_uses(module, tree)]
    assert not found, "private names used across modules:\n" + "\n".join(found)
