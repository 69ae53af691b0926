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

A module's dependencies are the urbsim modules it imports, and those of the imported modules
that define compiled functions themselves (their code is compiled into the importer's), read
from the import statements; the digest is over their sources, sorted by path.
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


def _path(module: str) -> Path | None:
    """The source file of an urbsim module (None for a package's namespace)."""
    rel = Path(*module.split("."))
    for candidate in (ROOT / rel.with_suffix(".py"), ROOT / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _compiles(path: Path) -> bool:
    return "@njit" in path.read_text(encoding="utf-8")


def _imports(path: Path) -> set[Path]:
    """The urbsim modules a file imports at its top level (``from urbsim.x import y`` names
    module ``urbsim.x``, or ``urbsim.x.y`` when that is a module)."""
    out: set[Path] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("urbsim"):
            for alias in node.names:
                sub = _path(f"{node.module}.{alias.name}")
                found = sub if sub is not None else _path(node.module)
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
        h.update(read(dep))
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
