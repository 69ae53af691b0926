"""Numerical settings shared by every kernel: the one place Numba flags live.

Kernels import :data:`JIT` (serial) or :data:`JIT_PARALLEL` and never spell flags of their own,
so that a published result can never silently depend on ``fastmath`` or on the thread count.
"""

from __future__ import annotations

import os
from typing import Any, Final

#: OpenMP threads (Numba's ``omp`` layer) sleep between parallel loops instead of spinning, unless
#: the user says otherwise. A year runs several short parallel loops with serial NumPy work
#: between them; spinning workers then compete with that work, and on a machine whose cores
#: are shared with other processes a count took ~150 ms instead of ~12 ms. Waking a sleeping
#: thread costs microseconds. Read by the OpenMP runtime when Numba first starts its threads,
#: which happens after this module is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Flags for serial kernels. ``fastmath`` stays off: it lets LLVM reassociate sums and contract
#: multiply-adds, which would make the Numba engine differ from the reference engine in the last
#: bit and flip discrete choices.
JIT: Final[dict[str, Any]] = {
    "cache": True,
    "fastmath": False,
    "nogil": True,
    "error_model": "numpy",
}

#: Flags for kernels that run a ``prange`` over chunks.
JIT_PARALLEL: Final[dict[str, Any]] = {**JIT, "parallel": True}

#: Households are split into this many contiguous chunks for parallel loops, whatever the number
#: of threads, so that every reduction is grouped the same way on 1 or 64 cores.
N_CHUNKS: Final[int] = 64

#: Chunks of the counting kernels (:mod:`urbsim.kernels.aggregate`). Their sums are integers,
#: exact in any grouping; each chunk holds partial counts of every place, so a few suffice.
COUNT_CHUNKS: Final[int] = 4

#: Flags for helpers called once per household from a parallel loop: inlined at the Numba IR
#: level, since a call that passes some thirty arrays costs more than the work it does.
JIT_INLINE: Final[dict[str, Any]] = {**JIT, "inline": "always"}
