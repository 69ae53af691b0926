"""What the document generators share: replacing a marked block, and rewriting or checking.

Used by ``docs/gen_parameters.py`` and ``docs/gen_outputs.py`` (each run as a script, with this
folder on ``sys.path``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def replace_marked(text: str, block: str, name: str, start: str, end: str) -> str:
    """``text`` with the part between the markers ``start`` and ``end`` (inclusive) replaced by
    ``block``; ``name`` (the document) goes into the error."""
    i = text.find(start)
    j = text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"{name}: markers {start} ... {end} not found")
    return text[:i] + block + text[j + len(end) :]


def write_or_check(
    argv: list[str] | None,
    description: str,
    render: Callable[[], dict[Path, str]],
    root: Path,
    regenerate: str,
    summary: Callable[[int], str],
) -> int:
    """Rewrite the documents ``render`` returns, or with ``--check`` exit 1 if any is stale.

    ``summary(n_rewritten)`` is printed after a rewrite.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if a document is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, content in render().items():
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        if old == content:
            continue
        stale.append(path.relative_to(root))
        if not args.check:
            path.write_text(content, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(map(str, stale))}; run `{regenerate}`", file=sys.stderr)
        return 1
    if not args.check:
        print(summary(len(stale)))
    return 0
