"""Yearly dynamics of places and governments, shared by both household engines.

* :mod:`urbsim.dynamics.policy`: the policy in force expanded to places, pilot selection.
* :mod:`urbsim.dynamics.economy`: the sequence of a year's place and government updates,
  renewal, the county-town programme, local budgets, borrowing, service capacity and points
  quotas.
* :mod:`urbsim.dynamics.labour`: productivity, labour demand, wages, jobs and employment.
* :mod:`urbsim.dynamics.housing`: housing stock and cost.
* :mod:`urbsim.dynamics.services`: service entitlement by residence status and entitled demand.
* :mod:`urbsim.dynamics.series`: year series read at a year.
* :mod:`urbsim.dynamics.indicators`: served persons, service gaps and the national aggregates
  of a recorded year.

The submodules are not imported here: :mod:`urbsim.governments` imports the policy functions,
and the economy needs the government state, so importing both from this package would tie
them into a cycle.
"""
