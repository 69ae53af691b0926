"""Numba kernels: pure functions over arrays and scalars, each with a checked public wrapper."""
