"""A cache on disk of fitted destination constants, addressed by everything they are fitted on.

At the parameters a calibration keeps, fitting the destination constants
(:func:`urbsim.dynamics.destination_constants.fit_constants`) takes most of a census run: a
2010-2035 run at the hand-placed set of ``experiments/calibration/probe_sets_s32.csv`` took
15.2 s without the cache and 4.4 s reading its constants (``benchmarks/constants_cache.py``).
Runs that share a seed, a world and parameters fit the same constants from the same inputs,
and experiments with common random numbers run exactly those: every scenario of
``experiments/policy_directions`` runs each (parameter set, replication) of the ensemble with
one seed, and the sensitivity study's two Morris sweeps run the same points and seeds. The
constants are fitted on the start year, before any policy of the scenarios differs.

An entry's name is a hash of every input of the fit (the weights, provinces, stock and place
codes: bytes, shapes and dtypes), of the code that fits them (the compiled functions of the
fitting module and its settings as they are when the fit runs) and of what its arithmetic
depends on (Python, NumPy and its build, the CPU features NumPy uses, the C library, the BLAS
library NumPy calls, its version and CPU kernels): an entry is only read where fitting would
give the same bits, so a run with the cache writes the same tables as one without
(``tests/test_constants_cache.py``). An entry holds a digest of its data, checked when read.

The folder is ``$URBSIM_CACHE_DIR/destination-constants``, by default under the user's cache
folder (``$XDG_CACHE_HOME/urbsim`` or ``~/.cache/urbsim``); ``URBSIM_CACHE_DIR=off`` turns the
cache off. It keeps the :data:`MAX_ENTRIES` entries last used (46 KB each on the census
world). The cache never fails a run: an entry that cannot be read, or whose digest does not
match, is fitted again; one that cannot be written is not kept; without a BLAS library that
threadpoolctl can see (so that the fit's one-thread limit holds) nothing is cached.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import sys
import time
import types
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from threadpoolctl import threadpool_info

from urbsim.dynamics import destination_constants as dc

#: The environment variable naming the cache's parent folder (or turning the cache off).
ENV_VAR: Final[str] = "URBSIM_CACHE_DIR"
#: Values of :data:`ENV_VAR` that turn the cache off (compared in lower case).
OFF: Final[frozenset[str]] = frozenset({"", "0", "off", "none", "false", "no"})
#: Entries kept: those last used (about 92 MB on the census world). A calibration's runs,
#: each with a seed and parameters of its own, never share constants, so a larger cache would
#: fill with entries never read again.
MAX_ENTRIES: Final[int] = 2000
#: Bumped when the entries' layout changes, so that older entries are never read.
FORMAT: Final[int] = 2
#: Suffix of an entry's file.
SUFFIX: Final[str] = ".constants"
#: Seconds after which a temporary file is taken for one a killed run left behind.
STALE_SECONDS: Final[float] = 3600.0
#: Names of the files the cache writes (an entry, a write under way): the only files in its
#: folder it ever removes.
_ENTRY: Final = re.compile(r"[0-9a-f]{64}" + re.escape(SUFFIX))
_TEMPORARY: Final = re.compile(r"\.[0-9a-f]{64}\.\d+-[0-9a-f]{8}\.tmp")


def default_folder(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache's folder the environment gives: None when :data:`ENV_VAR` turns it off (or
    when neither it nor a home folder is known)."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value is not None:
        return None if value.strip().lower() in OFF else Path(value) / "destination-constants"
    base = env.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no password entry: nowhere to keep it
            return None
    return Path(base) / "urbsim" / "destination-constants"


def _code_parts(code: types.CodeType) -> Iterator[bytes]:
    """A code object's bytecode, names and constants, nested code included (line numbers and
    file names left out: moving a function does not change what it computes)."""
    yield code.co_code
    yield repr((code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars)).encode()
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_parts(const)
        else:
            yield repr(const).encode()


@functools.cache
def _code_digest() -> bytes:
    """Digest of the fitting module's functions as this process compiled them (not of its file,
    which can change under a running sweep)."""
    h = hashlib.sha256()
    for name, obj in sorted(vars(dc).items()):
        if isinstance(obj, types.FunctionType) and obj.__module__ == dc.__name__:
            for part in (name.encode(), *_code_parts(obj.__code__)):
                h.update(len(part).to_bytes(8, "little") + part)
    return h.digest()


def _settings() -> bytes:
    """The fitting module's numbers and strings as they are now (its tolerances and budgets,
    which a benchmark or a test may change for a while)."""
    plain = (bool, int, float, str, bytes)
    settings = ((k, v) for k, v in vars(dc).items() if not k.startswith("__"))
    return repr(sorted((k, v) for k, v in settings if isinstance(v, plain))).encode()


@functools.cache
def _numpy_build() -> str:
    """NumPy's version, build configuration and the CPU features it dispatches to."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # another NumPy layout: the version and build must do
        features = {}
    config = np.show_config(mode="dicts")
    enabled = sorted(k for k, v in features.items() if v)
    return repr((np.__version__, config, enabled))


def _arithmetic() -> bytes | None:
    """What the fit's last bits depend on besides its inputs and code: Python, NumPy, the C
    library, the machine, and the BLAS library NumPy calls (name, version, the CPU kernels it
    chose). None when threadpoolctl sees no BLAS library: the fit's one-thread limit then
    cannot be relied on, and its bits could follow the thread count."""
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not blas:
        return None
    # NumPy's own (in its wheel's library folder) when it can be told apart: SciPy's, loaded
    # by some imports and not others, would otherwise change the name for nothing.
    own = [i for i in blas if "numpy" in str(i.get("filepath", ""))] or blas
    libraries = sorted(
        f"{i.get('internal_api')}:{i.get('version')}:{i.get('architecture')}:"
        f"{os.path.basename(str(i.get('filepath')))}"
        for i in own
    )
    parts = [
        sys.version,
        _numpy_build(),
        repr(platform.libc_ver()),
        platform.machine(),
        platform.system(),
        *libraries,
    ]
    return "|".join(parts).encode()


def fit_key(
    weights: np.ndarray,
    province: np.ndarray,
    origins: np.ndarray,
    in_migrants: np.ndarray,
    places: np.ndarray | None,
) -> str | None:
    """The entry name of :func:`~urbsim.dynamics.destination_constants.fit_constants` on these
    inputs (the same arguments), with its code, settings and the arithmetic's libraries; None
    when they cannot name one (an array that is not numeric, no BLAS library in sight)."""
    arithmetic = _arithmetic()
    if arithmetic is None:
        return None
    h = hashlib.sha256()

    def part(data: bytes | memoryview) -> None:
        # Each part's length first: no two sequences of parts give the same bytes.
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)

    part(f"urbsim-destination-constants:{FORMAT}".encode())
    part(_code_digest())
    part(_settings())
    part(arithmetic)
    for arr in (weights, province, origins, in_migrants, places):
        if arr is None:
            part(b"none")
            continue
        a = np.ascontiguousarray(arr)
        if a.dtype.kind not in "biuf":
            return None
        part(f"{a.dtype.str}{a.shape}".encode())
        part(memoryview(a).cast("B"))
    return h.hexdigest()


@dataclass(frozen=True)
class ConstantsCache:
    """Fitted destination constants kept in ``folder`` (None: a cache that keeps nothing).

    Parameters
    ----------
    folder
        Where the entries are kept; created when the first is written.
    max_entries
        Entries kept, those last used; older ones are removed when one is written.
    """

    folder: Path | None
    max_entries: int = MAX_ENTRIES

    def __post_init__(self) -> None:
        if self.folder is not None and not isinstance(self.folder, Path):
            object.__setattr__(self, "folder", Path(self.folder))

    @classmethod
    def from_environment(cls) -> ConstantsCache:
        """The cache :data:`ENV_VAR` names (by default in the user's cache folder)."""
        return cls(default_folder())

    def fit(
        self,
        weights: np.ndarray,
        province: np.ndarray,
        origins: np.ndarray,
        in_migrants: np.ndarray,
        places: np.ndarray | None = None,
    ) -> np.ndarray:
        """The constants of :func:`~urbsim.dynamics.destination_constants.fit_constants` on
        these arguments: read from the cache when it holds them, else fitted and kept.

        Parameters
        ----------
        weights, province, origins, in_migrants, places
            As for ``fit_constants``; ``weights`` is overwritten when the constants are
            fitted, and left as it is when they are read.

        Returns
        -------
        numpy.ndarray
            ``(2, n)`` float64 util, the same to the last bit as fitting them here.

        Raises
        ------
        UnattainableShares, ValueError
            As ``fit_constants`` (errors are never kept: the inputs are fitted again).
        """
        key = None
        if self.folder is not None:
            try:
                key = fit_key(weights, province, origins, in_migrants, places)
            except Exception:  # a cache that cannot name an entry just fits
                key = None
        if key is not None:
            found = self._read(key, np.shape(origins)[0])
            if found is not None:
                return found
        constants = dc.fit_constants(weights, province, origins, in_migrants, places)[0]
        if key is not None:
            self._write(key, constants)
        return constants

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{key}{SUFFIX}"

    def _read(self, key: str, n: int) -> np.ndarray | None:
        """Entry ``key`` if it is whole (its digest matches), names ``key`` and holds a
        ``(2, n)`` array, else None; an entry that fails a check is removed, so that the fit
        replaces it."""
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except Exception:  # unreadable: fit
            return None
        found = _decode(raw, key, n)
        with contextlib.suppress(OSError):
            if found is None:
                path.unlink(missing_ok=True)
            else:
                os.utime(path)  # last used: what the eviction keeps
        return found

    def _write(self, key: str, constants: np.ndarray) -> None:
        """Keep ``constants`` as entry ``key`` (whole or not at all), then drop the entries
        least recently used beyond :attr:`max_entries`. A folder that cannot be written only
        means nothing is kept."""
        assert self.folder is not None
        path = self._path(key)
        tmp = path.with_name(f".{key}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(_encode(constants, key))
                fh.flush()
                # On disk before it is named: after a crash an entry is whole or absent.
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            self._evict()
        except Exception:  # nothing is kept
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)

    def _evict(self) -> None:
        """Remove the entries beyond :attr:`max_entries`, least recently used first, and the
        temporary files of writes that were killed (older than :data:`STALE_SECONDS`)."""
        assert self.folder is not None
        entries = []
        stale = time.time() - STALE_SECONDS
        for p in self.folder.iterdir():
            try:
                mtime = p.stat().st_mtime_ns
            except OSError:  # removed by another run meanwhile
                continue
            if _ENTRY.fullmatch(p.name):
                entries.append((mtime, p))
            elif _TEMPORARY.fullmatch(p.name) and mtime / 1e9 < stale:
                with contextlib.suppress(OSError):
                    p.unlink(missing_ok=True)
        entries.sort()
        for _, p in entries[: max(len(entries) - self.max_entries, 0)]:
            with contextlib.suppress(OSError):
                p.unlink(missing_ok=True)


def _encode(constants: np.ndarray, key: str) -> bytes:
    """An entry: one line of JSON (format, key, shape, digest of the data), then the data
    (little-endian float64)."""
    data = np.ascontiguousarray(constants, dtype="<f8").tobytes()
    header = {
        "format": FORMAT,
        "key": key,
        "shape": list(np.shape(constants)),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return json.dumps(header).encode() + b"\n" + data


def _decode(raw: bytes, key: str, n: int) -> np.ndarray | None:
    """The constants of an entry if it is whole and is entry ``key`` of ``(2, n)`` constants."""
    line, sep, data = raw.partition(b"\n")
    try:
        header = json.loads(line)
        ok = (
            sep == b"\n"
            and header.get("format") == FORMAT
            and header.get("key") == key
            and header.get("shape") == [2, n]
            and len(data) == 16 * n
            and header.get("sha256") == hashlib.sha256(data).hexdigest()
        )
    except Exception:  # not an entry
        return None
    if not ok:
        return None
    return np.frombuffer(data, dtype="<f8").reshape(2, n).astype(np.float64)
