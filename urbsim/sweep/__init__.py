"""Parameter sweeps: designs, seeds, executors, streamed results, sensitivity and reproduction.

``urbsim sweep FILE`` runs a sweep file (:mod:`urbsim.sweep.spec`) into a folder
(:mod:`urbsim.sweep.store`); ``urbsim reproduce experiments/<name>`` reruns an experiment and
compares its tables with the committed ones (:mod:`urbsim.sweep.reproduce`). See
``docs/sweeps.md``.
"""

from urbsim.sweep.design import build_design, run_seed, run_table
from urbsim.sweep.driver import SweepOutcome, load_sweep_dir, run_sweep
from urbsim.sweep.spec import SweepError, SweepSpec, load_sweep

__all__ = [
    "SweepError",
    "SweepOutcome",
    "SweepSpec",
    "build_design",
    "load_sweep",
    "load_sweep_dir",
    "run_seed",
    "run_sweep",
    "run_table",
]
