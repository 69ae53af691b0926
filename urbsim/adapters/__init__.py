"""Entry points for other modelling frameworks.

* :mod:`urbsim.adapters.ema`: an EMA Workbench model (``pip install 'urbsim[ema]'``);
* :mod:`urbsim.adapters.mesa_batch`: a model class for ``mesa.batch_run``.

Neither is imported by ``import urbsim``.
"""
