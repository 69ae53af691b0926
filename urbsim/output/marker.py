"""Output safety: which folders urbsim may replace, and whether an output location is usable.

Replacing a folder deletes it, so urbsim replaces only folders it wrote itself: every run,
sweep and experiment folder carries a marker file, :data:`MARKER_FILE`, naming its kind, the
urbsim version and the hash of the scenario (or sweep) that made it. A folder without a valid
marker of the expected kind is never replaced, whatever else it holds (a ``manifest.json`` is
no proof: anyone can write one). A folder that holds files tracked by git is never replaced
either, except by ``urbsim reproduce --update``, which regenerates committed results on purpose
(``allow_tracked=True``); git keeps what it replaces.

The marker holds no timestamp, so regenerating a committed folder does not change its marker.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Final

from urbsim.errors import UrbsimError

#: Name of the marker file in every folder urbsim writes.
MARKER_FILE: Final[str] = ".urbsim-output.json"
#: Kinds of folders urbsim writes.
KINDS: Final[tuple[str, ...]] = ("run", "sweep", "experiment")
#: Format of the marker (raised when its fields change meaning).
MARKER_FORMAT: Final[int] = 1
#: A marker is a few hundred bytes; anything much larger is not one.
_MAX_MARKER_BYTES: Final[int] = 64 * 1024
#: Tracked files named in a refusal (the rest are counted).
_SHOWN: Final[int] = 3
#: Environment variables that would make git look at another repository than the one holding
#: the path (they are set inside git hooks, for example).
_GIT_ENV: Final[tuple[str, ...]] = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX")


class OutputError(UrbsimError):
    """An output folder that cannot be written or read, with the reason."""


# ---------------------------------------------------------------------------------------------
# The marker
# ---------------------------------------------------------------------------------------------
def write_marker(folder: Path, kind: str, identity: str) -> None:
    """Mark ``folder`` as an urbsim output folder of ``kind``.

    Parameters
    ----------
    folder
        An existing folder that urbsim is filling.
    kind
        One of :data:`KINDS`.
    identity
        Hash of what made the folder: the resolved scenario's sha256 for a run, the resolved
        sweep's for a sweep, the experiment file's for an experiment (may be empty when unknown).

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`KINDS` (a bug in the caller, not a user mistake).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}; expected one of {KINDS}")
    from urbsim import __version__

    data = {
        "created_by": "urbsim",
        "marker_format": MARKER_FORMAT,
        "kind": kind,
        "identity": str(identity),
        "urbsim_version": __version__,
    }
    path = Path(folder) / MARKER_FILE
    tmp = path.with_name(f"{MARKER_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of ``folder``, or None if it has none or the file is not a valid marker.

    Returns
    -------
    dict or None
        ``{"created_by": "urbsim", "marker_format", "kind", "identity", "urbsim_version"}``.
    """
    path = Path(folder) / MARKER_FILE
    try:
        if not path.is_file() or path.stat().st_size > _MAX_MARKER_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    valid = (
        isinstance(data, dict)
        and data.get("created_by") == "urbsim"
        and data.get("kind") in KINDS
        and isinstance(data.get("identity"), str)
    )
    return data if valid else None


# ---------------------------------------------------------------------------------------------
# Files tracked by git
# ---------------------------------------------------------------------------------------------
def tracked_files(path: Path) -> list[str]:
    """Files at or below ``path`` that git tracks, in the repository that holds ``path``.

    Parameters
    ----------
    path
        A file or folder (one that does not exist holds nothing).

    Returns
    -------
    list of str
        Paths relative to ``path``'s folder; empty when git is not installed or ``path`` is
        not in a git work tree.

    Raises
    ------
    OutputError
        If ``path`` is in a repository but git cannot list its files, or it is inside the
        ``.git`` folder: the safe answer is unknown, so nothing may be replaced.
    """
    path = Path(path)
    if not path.exists():
        return []
    cwd, spec = (path, ".") if path.is_dir() else (path.parent, path.name)
    inside = _git(path, cwd, ["rev-parse", "--is-inside-work-tree"])
    if inside is None:
        return []  # git is not installed, or the path is in no repository
    if inside.strip() != b"true":
        # In a .git folder or a bare repository: what is tracked there cannot be told.
        raise OutputError(f"{path}: is inside a git repository's own folder, not its work tree")
    listing = _git(path, cwd, ["ls-files", "-z", "--", spec]) or b""
    return [name for name in listing.decode("utf-8", "replace").split("\0") if name]


def _git(path: Path, cwd: Path, args: list[str]) -> bytes | None:
    """Output of a read-only git command run in ``cwd``; None if git is missing or ``cwd`` is
    in no repository; OutputError if git fails otherwise."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    # safe.directory=*: a checkout owned by another user must still be read, not taken for
    # "not a repository" (which would make its files replaceable).
    cmd = ["git", "-c", "safe.directory=*", *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=60, check=False)
    except FileNotFoundError:
        return None
    except (OSError, subprocess.SubprocessError) as exc:
        raise OutputError(f"{path}: cannot tell whether git tracks files in it: {exc}") from None
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip()
        if "not a git repository" in reason:
            return None
        first = reason.splitlines()[0] if reason else f"git exited with {proc.returncode}"
        raise OutputError(f"{path}: cannot tell whether git tracks files in it: {first}")
    return proc.stdout


def _tracked_refusal(out_dir: Path, tracked: list[str]) -> OutputError:
    shown = ", ".join(tracked[:_SHOWN])
    more = f" and {len(tracked) - _SHOWN} more" if len(tracked) > _SHOWN else ""
    return OutputError(
        f"{out_dir}: holds {len(tracked)} files tracked by git ({shown}{more}); refusing to "
        "replace it (committed results are regenerated only by urbsim reproduce --update); "
        "choose another output folder"
    )


def _all_files(folder: Path) -> set[str]:
    """Every file below ``folder``, relative to it, as git names them (POSIX separators)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


# ---------------------------------------------------------------------------------------------
# The two checks
# ---------------------------------------------------------------------------------------------
def check_replaceable(out_dir: Path, kind: str, *, allow_tracked: bool = False) -> None:
    """Refuse to replace anything but an urbsim output folder of ``kind``.

    A path that does not exist may be written (its parents are created), and so may an empty
    folder. An existing folder may be replaced only if it carries a valid marker of ``kind``
    (:func:`read_marker`) and holds no file tracked by git. With ``allow_tracked`` (``urbsim
    reproduce --update`` only), tracked files do not block, and a folder without a marker may
    be replaced if git tracks every file in it (committed results written before markers).

    Parameters
    ----------
    out_dir
        The folder about to be replaced.
    kind
        The kind of folder that is about to be written (one of :data:`KINDS`).
    allow_tracked
        Let files tracked by git be replaced.

    Raises
    ------
    OutputError
        If ``out_dir`` is a file, or a folder that may not be replaced (the message says why).
    """
    out_dir = Path(out_dir)
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if not out_dir.is_dir() or out_dir.is_symlink():
        what = "a link" if out_dir.is_symlink() else "not a folder"
        raise OutputError(f"{out_dir}: exists and is {what}; refusing to replace it")
    if not any(out_dir.iterdir()):
        return
    tracked = tracked_files(out_dir)
    if tracked and not allow_tracked:
        raise _tracked_refusal(out_dir, tracked)
    marker = read_marker(out_dir)
    if marker is not None and marker["kind"] == kind:
        return
    if marker is not None:
        raise OutputError(
            f"{out_dir}: is an urbsim {marker['kind']} folder, not a {kind} folder; "
            "refusing to replace it"
        )
    if tracked and not _all_files(out_dir) - set(tracked):
        return  # allow_tracked, and git holds every file: nothing is lost
    why = "its marker is not valid" if (out_dir / MARKER_FILE).exists() else f"no {MARKER_FILE}"
    raise OutputError(
        f"{out_dir}: exists and is not an urbsim {kind} folder ({why}); refusing to replace "
        "it; choose another output folder, or delete it yourself if it is yours to delete"
    )


def check_location(out_dir: Path) -> None:
    """Make sure an output folder can be written, before any work is done.

    Creates the folder's parent and writes and removes a temporary file in it (and in the
    folder itself when it exists), so that a bad location is reported in a second, not after
    a long run.

    Parameters
    ----------
    out_dir
        The output folder.

    Raises
    ------
    OutputError
        If the path holds a NUL byte, a part of it is a file, or the parent cannot be created
        or written.
    """
    text = os.fspath(out_dir)
    if "\0" in text:
        raise OutputError(f"{text!r}: a path cannot contain a NUL byte")
    out_dir = Path(text)
    try:
        # lstat, not stat: a name too long or a loop of links is an error, not "absent".
        os.lstat(out_dir)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if not isinstance(exc, NotADirectoryError):
            raise OutputError(f"{out_dir}: {exc.strerror or exc}") from None
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    parent = out_dir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"{out_dir}: cannot create {parent}: a part of it is a file") from None
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create {parent}: {exc.strerror or exc}") from None
    for folder in (parent, out_dir) if out_dir.is_dir() else (parent,):
        _probe(out_dir, folder)


def _probe(out_dir: Path, folder: Path) -> None:
    """Write and remove a file in ``folder`` named like the temporary folders of a run."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out_dir.name}.probe-", dir=folder)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write in {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(name)


def check_subfolder_replaceable(folder: Path, name: str, kind: str) -> None:
    """Refuse to replace ``folder/name`` (a run's figures) unless urbsim wrote ``folder``.

    An absent or empty subfolder may be written. Otherwise ``folder`` must carry a marker of
    ``kind`` and the subfolder must hold no file tracked by git.

    Raises
    ------
    OutputError
        If the subfolder exists and may not be replaced.
    """
    target = Path(folder) / name
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise OutputError(f"{target}: exists and is not a folder; refusing to replace it")
    if not any(target.iterdir()):
        return
    tracked = tracked_files(target)
    if tracked:
        raise _tracked_refusal(target, tracked)
    marker = read_marker(folder)
    if marker is None or marker["kind"] != kind:
        raise OutputError(
            f"{folder}: not marked as an urbsim {kind} folder (no valid {MARKER_FILE}); "
            f"refusing to replace {target}"
        )
