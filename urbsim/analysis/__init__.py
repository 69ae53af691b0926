"""Analyses of model output that run no model: indicators, sensitivity and calibration.

* :mod:`urbsim.analysis.indicators`: indicators of a run's places table (city sizes, Zipf
  exponent, residents by region).
* :mod:`urbsim.analysis.sensitivity`: global sensitivity designs and indices (over SALib).
* :mod:`urbsim.analysis.calibration`: the first calibration (issue 4): six national targets, a
  polynomial emulator, the fit and its uncertainty.
* :mod:`urbsim.analysis.targets`: the calibration targets of issue 14 (official series
  2010-2019 compared like with like with model outputs).
* :mod:`urbsim.analysis.emulator`: Gaussian-process emulators with leave-one-out validation.
* :mod:`urbsim.analysis.history_matching`: history matching in waves.
* :mod:`urbsim.analysis.services`: entitlement and capacity gaps of the public services by city
  size class (weighted by service users).
* :mod:`urbsim.analysis.markets`: wages and housing costs by city size class (weighted by urban
  residents, classes of a fixed year) and their growth.
* :mod:`urbsim.analysis.effects`: policy effects over an ensemble x replications (common random
  numbers, false discovery rate, periods that never count a year twice).

The modules are imported by name (``from urbsim.analysis.sensitivity import analyze``); this
package imports none of them, so that using one does not load the others' dependencies.
"""
