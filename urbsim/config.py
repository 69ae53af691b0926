"""Numerical settings shared by every kernel: the one place Numba flags live.

Kernels import :data:`JIT` (serial) or :data:`JIT_PARALLEL` and never spell flags of their own,
so that a published result can never silently depend on ``fastmath`` or on the thread count.
"""

from __future__ import annotations

from typing import Any, Final

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

#: Flags for helpers called once per household from a parallel loop: inlined at the Numba IR
#: level, since a call that passes some thirty arrays costs more than the work it does.
JIT_INLINE: Final[dict[str, Any]] = {**JIT, "inline": "always"}
