"""Analyses of model output that run no model: indicators, sensitivity and calibration.

* :mod:`urbsim.analysis.indicators`: indicators of a run's places table (city sizes, Zipf
  exponent, residents by region).
* :mod:`urbsim.analysis.sensitivity`: global sensitivity designs and indices (over SALib).
* :mod:`urbsim.analysis.calibration`: official targets, an emulator, the fit and its
  uncertainty (history matching).

The modules are imported by name (``from urbsim.analysis.sensitivity import analyze``); this
package imports none of them, so that using one does not load the others' dependencies.
"""
