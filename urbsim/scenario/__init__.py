"""Scenarios: strict schema, loading with ``extends`` and overrides, the policy timeline."""

from urbsim.scenario.load import LoadedScenario, ScenarioError, load_scenario, validate
from urbsim.scenario.schema import Policy, Scenario

__all__ = ["LoadedScenario", "Policy", "Scenario", "ScenarioError", "load_scenario", "validate"]
