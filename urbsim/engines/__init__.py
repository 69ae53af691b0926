"""Household engines: the Numba kernels (default) and the Mesa reference agents."""
