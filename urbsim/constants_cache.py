"""A cache on disk of fitted destination constants, addressed by everything they are fitted on.

At the parameters a calibration keeps, fitting the destination constants
(:func:`urbsim.dynamics.destination_constants.fit_constants`) takes most of a census run: 13 of
18 seconds of a 2010-2035 run at the hand-placed set of ``experiments/calibration/
probe_sets_s32.csv``, against 4 seconds for the 25 years. Runs that share a seed, a world and
parameters fit the same constants from the same inputs, and experiments with common random
numbers run exactly those: every scenario of ``experiments/policy_directions`` runs each
(parameter set, replication) of the ensemble with one seed, and the sensitivity study's two
Morris sweeps run the same points and seeds. The constants are fitted on the start year,
before any policy of the scenarios differs.

An entry's name is a hash of every input of the fit (the weights, provinces, stock and place
codes: bytes, shapes and dtypes), of the source of the module that fits them and of the
numerical libraries that do its arithmetic (NumPy, the BLAS library, its version and CPU
kernels, the machine): an entry is only read where fitting would give the same bits, so a run
with the cache writes the same tables as one without (``tests/test_constants_cache.py``).

The folder is ``$URBSIM_CACHE_DIR/destination-constants``, by default under the user's cache
folder (``$XDG_CACHE_HOME/urbsim`` or ``~/.cache/urbsim``); ``URBSIM_CACHE_DIR=off`` turns the
cache off. It keeps the :data:`MAX_ENTRIES` entries last used (46 KB each on the census
world). The cache never fails a run: an entry that cannot be read is fitted again, one that
cannot be written is not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

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
FORMAT: Final[int] = 1


def default_folder(environ: os._Environ[str] | dict[str, str] | None = None) -> Path | None:
    """The cache's folder the environment gives: None when :data:`ENV_VAR` turns it off."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value is not None:
        return None if value.strip().lower() in OFF else Path(value) / "destination-constants"
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "urbsim" / "destination-constants"


def _arithmetic() -> bytes:
    """What the fit's last bits depend on besides its inputs and code: NumPy and the BLAS
    library (name, version, the CPU kernels it chose) on this machine."""
    from threadpoolctl import threadpool_info

    blas = sorted(
        f"{i.get('internal_api')}:{i.get('version')}:{i.get('architecture')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )
    parts = [np.__version__, platform.machine(), platform.system(), *blas]
    return "|".join(parts).encode()


def fit_key(
    weights: np.ndarray,
    province: np.ndarray,
    origins: np.ndarray,
    in_migrants: np.ndarray,
    places: np.ndarray | None,
) -> str:
    """The entry name of :func:`~urbsim.dynamics.destination_constants.fit_constants` on these
    inputs (the same arguments), with its code and the arithmetic's libraries."""
    h = hashlib.sha256()
    h.update(f"urbsim-destination-constants:{FORMAT}".encode())
    h.update(Path(dc.__file__).read_bytes())
    h.update(_arithmetic())
    for arr in (weights, province, origins, in_migrants, places):
        if arr is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
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

        Returns
        -------
        numpy.ndarray
            ``(2, n)`` float64 util, the same to the last bit as fitting them here.

        Raises
        ------
        UnattainableShares, ValueError
            As ``fit_constants`` (errors are never kept: the inputs are fitted again).
        """
        if self.folder is None:
            return dc.fit_constants(weights, province, origins, in_migrants, places)[0]
        key = fit_key(weights, province, origins, in_migrants, places)
        n = np.shape(origins)[0]
        found = self._read(key, n)
        if found is not None:
            return found
        constants = dc.fit_constants(weights, province, origins, in_migrants, places)[0]
        self._write(key, constants)
        return constants

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{key}.npy"

    def _read(self, key: str, n: int) -> np.ndarray | None:
        """The entry ``key`` if it is whole and of the expected shape, else None (and a damaged
        entry is removed, so that the fit replaces it)."""
        path = self._path(key)
        try:
            found = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):  # unreadable, truncated, not an array
            found = None
        if found is None or found.dtype != np.float64 or found.shape != (2, n):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
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
                np.save(fh, np.ascontiguousarray(constants, dtype=np.float64))
            os.replace(tmp, path)
            self._evict()
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)

    def _evict(self) -> None:
        assert self.folder is not None
        entries = []
        for p in self.folder.glob("*.npy"):
            try:
                entries.append((p.stat().st_mtime_ns, p))
            except OSError:  # removed by another run meanwhile
                continue
        entries.sort()
        for _, p in entries[: max(len(entries) - self.max_entries, 0)]:
            with contextlib.suppress(OSError):
                p.unlink(missing_ok=True)
