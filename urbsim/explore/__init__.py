"""The interactive explorer (``urbsim explore``): a Solara page that runs scenarios with levers.

:mod:`urbsim.explore.state` holds the levers, runs and exports without any user interface
(importable without Solara); :mod:`urbsim.explore.views` draws the figures and
:mod:`urbsim.explore.app` is the page (needs the ``explore`` extra:
``pip install 'urbsim[explore]'``).
"""
