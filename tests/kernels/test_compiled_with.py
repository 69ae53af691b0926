"""Numba's cache must not serve code compiled from sources that have since changed.

Numba (0.68) keys a function's cached machine code on the contents of the file that defines it
and nothing else, yet the code it caches has the functions it calls from other modules compiled
in (inlined or linked), and their module constants frozen. Editing ``urbsim/kernels/choice.py``
alone therefore left the household step's cache valid, and runs went on with the old utility
(found 2026-12-03: a test of a new rule passed against the old kernel until the cache was
cleared). Each module that defines compiled functions carries ``COMPILED_WITH``, a digest of the
urbsim modules its compiled code depends on; this test recomputes it, so that a change to a
dependency fails here until the digest, and with it the module's own contents and so its cache
key, is updated.

A module's dependencies are the urbsim modules it imports (anywhere in the file, relative
imports resolved), and those of the imported modules that define compiled functions themselves
(their code is compiled into the importer's); the digest is over their sources without their
own ``COMPILED_WITH`` lines (so that one edit needs one round of updates), sorted by path.
Compiled functions outside the package are not cached at all (they would go stale the same
way), which the last test checks.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "urbsim"
_DIGEST = re.compile(r'^COMPILED_WITH: Final = "([0-9a-f]{16})"$', re.MULTILINE)
_DIGEST_LINE = re.compile(rb'^COMPILED_WITH: Final = "[0-9a-f]{16}"$', re.MULTILINE)


def _path(module: str) -> Path | None:
    """The source file of an urbsim module (None for a package's namespace)."""
    rel = Path(*module.split("."))
    for candidate in (ROOT / rel.with_suffix(".py"), ROOT / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


#: Numba's compiling decorators and functions.
_NUMBA = {"njit", "jit", "vectorize", "guvectorize", "cfunc", "register_jitable", "stencil"}


def _name(node: ast.AST) -> str | None:
    """``f`` of ``f``, ``numba.f``, ``f(...)`` and ``numba.f(...)``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def _compiles(path: Path) -> bool:
    """Whether a file defines compiled functions: a Numba decorator, or a call such as
    ``njit(**JIT)(f)``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and any(
            _name(d) in _NUMBA for d in node.decorator_list
        ):
            return True
        if isinstance(node, ast.Call) and _name(node.func) in _NUMBA:
            return True
    return False


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path) -> set[Path]:
    """The urbsim modules a file imports anywhere (``from urbsim.x import y`` names module
    ``urbsim.x``, or ``urbsim.x.y`` when that is a module; relative imports resolved)."""
    out: set[Path] = set()
    package = _module_of(path).rsplit(".", 1)[0]
    if path.name == "__init__.py":
        package = _module_of(path.parent / "x.py").rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if not module.startswith("urbsim"):
                continue
            for alias in node.names:
                sub = _path(f"{module}.{alias.name}")
                found = sub if sub is not None else _path(module)
                if found is not None:
                    out.add(found)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("urbsim") and (found := _path(alias.name)):
                    out.add(found)
    return out


def dependencies(path: Path) -> set[Path]:
    """Modules whose sources the compiled code of ``path`` depends on (not ``path`` itself)."""
    seen: set[Path] = set()
    todo = [path]
    while todo:
        for dep in _imports(todo.pop()):
            if dep not in seen and dep != path:
                seen.add(dep)
                if _compiles(dep):
                    todo.append(dep)
    return seen


def digest(path: Path, read: Callable[[Path], bytes] = Path.read_bytes) -> str:
    """First 16 hex digits of the sha256 over the dependencies' paths and sources (``read``
    gives a file's bytes)."""
    h = hashlib.sha256()
    for dep in sorted(dependencies(path)):
        h.update(dep.relative_to(ROOT).as_posix().encode())
        h.update(b"\0")
        h.update(_DIGEST_LINE.sub(b"", read(dep)))
    return h.hexdigest()[:16]


COMPILING = sorted(p for p in PACKAGE.rglob("*.py") if _compiles(p))


def test_the_modules_that_compile_are_found() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in COMPILING}
    assert {"kernels/household_step.py", "kernels/choice.py", "rng.py"} <= names


@pytest.mark.parametrize("path", COMPILING, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_compiled_with_names_the_current_dependencies(path: Path) -> None:
    found = _DIGEST.findall(path.read_text(encoding="utf-8"))
    expected = digest(path)
    rel = path.relative_to(ROOT)
    deps = ", ".join(sorted(d.relative_to(ROOT).as_posix() for d in dependencies(path)))
    assert found == [expected], (
        f"{rel}: a module its compiled code depends on changed ({deps}), and Numba's cache "
        f'looks at {rel} alone. Set its line to\nCOMPILED_WITH: Final = "{expected}"'
    )


def test_a_dependency_change_changes_the_digest() -> None:
    """The digest follows a dependency's contents (here: an edit of choice.py, or of gravity.py
    that choice.py compiles in, moves the household step's; the step's own file does not)."""
    step = PACKAGE / "kernels" / "household_step.py"
    choice = PACKAGE / "kernels" / "choice.py"
    gravity = PACKAGE / "kernels" / "gravity.py"
    assert {choice, gravity} <= dependencies(step) and step not in dependencies(step)
    before = digest(step)
    for edited in (choice, gravity, step):

        def read(p: Path, edited: Path = edited) -> bytes:
            return p.read_bytes() + (b"\n# edited\n" if p == edited else b"")

        assert (digest(step, read) != before) == (edited != step)


def test_compiled_functions_outside_the_package_are_not_cached() -> None:
    """Tests, experiments and benchmarks compile functions that call the package's kernels;
    cached, they would keep old copies of them (nothing updates a digest there)."""
    cached = re.compile(r"cache\s*=\s*True")
    found = [
        p.relative_to(ROOT).as_posix()
        for folder in ("tests", "experiments", "benchmarks", "docs")
        for p in sorted((ROOT / folder).rglob("*.py"))
        if p != Path(__file__) and _compiles(p) and cached.search(p.read_text(encoding="utf-8"))
    ]
    assert not found, f"compiled with cache=True outside urbsim/: {found}"
