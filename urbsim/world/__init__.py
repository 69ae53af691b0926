"""Worlds: the places of a country and its households at the start year."""

from urbsim.world.base import KINDS, REGIONS, SIZE_CLASSES, PlaceTable, World

__all__ = ["KINDS", "REGIONS", "SIZE_CLASSES", "PlaceTable", "World"]
