"""Fitted emulators kept on disk while a calibration runs: a resumed fit does not refit them.

A calibration on the census world runs for hours, longer than this project's sessions, and
``urbsim reproduce ... --update --resume`` continues a killed one: its sweeps read their finished
runs back, but every wave's emulators used to be fitted again (about 30 minutes for three waves
of 75 targets). :class:`FitCache` wraps the ``map`` the waves fit their targets with
(:func:`urbsim.analysis.history_matching.fit_wave`): each job's result is written to the cache
folder as soon as it is fitted, under a digest of the function, the job and the code and library
versions that compute it, and read back instead of being fitted again when the same job comes
back. Fitting is deterministic (each target's optimizer has its own seed), so a result read back
is the result a refit would give, to the bit; the test holds it to that.

The cache is a working folder of one fit, not a result: ``history_match.py`` removes it when the
fit ends (its tables written, or the fit stopped by an empty space), and a run killed before that
leaves it for ``--resume``. It holds pickles this script wrote into its own output folder only.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from urbsim.analysis import emulator, history_matching
from urbsim.sweep.store import atomic_path

#: The code whose results are cached: a change to either module (or to the libraries below)
#: changes every digest, so a cache of older code is never read.
_CODE = (Path(emulator.__file__), Path(history_matching.__file__))


def _code_digest() -> bytes:
    h = hashlib.sha256()
    for path in _CODE:
        h.update(path.read_bytes())
    for version in (np.__version__, sklearn.__version__):
        h.update(version.encode())
    return h.digest()


class FitCache:
    """A ``map(fn, jobs)`` that reads each job's result from ``folder`` when it is there and
    maps the others with ``map_fn``, writing each result as soon as it arrives (a
    ``ProcessPoolExecutor.map`` yields them in order as they finish).

    Parameters
    ----------
    folder
        Where the results go, one pickle per job (created when the first is written).
    map_fn
        The ``map`` that computes the missing results (a process pool's, or the built-in).
    """

    def __init__(self, folder: Path, map_fn: Callable[..., Iterable[Any]] = map) -> None:
        self.folder = Path(folder)
        self.map_fn = map_fn
        self._code = _code_digest()
        #: Results read back and computed by the last calls (for the progress lines and tests).
        self.read = 0
        self.computed = 0

    def key(self, fn: Callable[..., Any], job: Any) -> str:
        """Digest of ``fn`` (by name), ``job`` (its pickle: arrays by dtype, shape and bytes)
        and the code that computes it."""
        h = hashlib.sha256(self._code)
        h.update(f"{fn.__module__}.{fn.__qualname__}".encode())
        h.update(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
        return h.hexdigest()

    def __call__(self, fn: Callable[..., Any], jobs: Iterable[Any]) -> list[Any]:
        jobs = list(jobs)
        paths = [self.folder / f"{self.key(fn, job)}.pkl" for job in jobs]
        missing = [k for k, path in enumerate(paths) if not path.is_file()]
        computed = iter(self.map_fn(fn, [jobs[k] for k in missing]))
        results: list[Any] = [None] * len(jobs)
        for k in missing:
            results[k] = next(computed)
            self._write(paths[k], results[k])
        done = set(missing)
        for k, path in enumerate(paths):
            if k not in done:
                results[k] = pickle.loads(path.read_bytes())
        self.computed += len(missing)
        self.read += len(jobs) - len(missing)
        return results

    def _write(self, path: Path, value: Any) -> None:
        # Whole or not at all: a kill while writing leaves a hidden temporary file (never read),
        # not a short pickle under the result's name.
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def remove(self) -> None:
        """Delete the results written here, and the folder when nothing else is in it (the fit
        is over: nothing is left to resume; a file this cache did not write stays)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            # Results, and temporaries of writes a kill interrupted (atomic_path's names).
            mine = path.suffix == ".pkl" or (path.suffix == ".tmp" and ".pkl." in path.name)
            if mine and path.is_file():
                path.unlink(missing_ok=True)
        if not any(self.folder.iterdir()):
            self.folder.rmdir()
