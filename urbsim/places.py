"""Places: county-level units with an urban and a rural zone.

State lives in :class:`urbsim.state.PlaceState`, one array per attribute; each :class:`Place`
Mesa agent reads and writes its row through properties (``place.wage``), so users can inspect
places or select them with an AgentSet while the yearly updates run vectorized over whole arrays.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

import mesa
import numpy as np

from urbsim.kernels import aggregate as A
from urbsim.state import PlaceState
from urbsim.world import SIZE_CLASSES, PlaceTable
from urbsim.world.base import EARTH_RADIUS_KM, prefecture_city_size, size_class_of

if TYPE_CHECKING:
    from urbsim.model import UrbanizationModel

#: Index of the county-town entry in the settlement-rule table (after the six size classes).
COUNTY_TOWN = len(SIZE_CLASSES)

__all__ = ["COUNTY_TOWN", "Place", "PlaceState", "distances_km", "set_counts", "size_classes"]


def set_counts(state: PlaceState, counts: np.ndarray, hpa: float) -> None:
    """Update the population attributes of ``state`` from the integer household counts
    (:func:`urbsim.kernels.aggregate.count_households`), scaled by households per agent."""
    state.residents[:] = counts[:, A.A_RESIDENTS] * hpa
    state.urban_residents[:] = counts[:, A.A_URBAN] * hpa
    state.hukou_residents[:] = counts[:, A.A_HUKOU_RESIDENTS] * hpa
    state.registered_population[:] = counts[:, A.A_REGISTERED] * hpa
    state.floating_residents[:] = counts[:, A.A_FLOATING] * hpa
    state.permit_holders[:] = counts[:, A.A_PERMIT] * hpa
    state.nonagri_registered[:] = counts[:, A.A_NONAGRI_REGISTERED] * hpa
    state.urban_households[:] = counts[:, A.A_URBAN_HOUSEHOLDS] * hpa


def _state_property(name: str) -> property:
    def get(self: Place) -> float:
        return float(getattr(self.model.place_state, name)[self.place_id])

    def set_(self: Place, value: float) -> None:
        getattr(self.model.place_state, name)[self.place_id] = value

    return property(get, set_, doc=f"{name} of this place (see PlaceState)")


class Place(mesa.Agent):
    """A county-level unit; its attributes are views into the model's place arrays.

    Parameters
    ----------
    model
        The model.
    place_id
        Row of this place in the place arrays.
    """

    model: UrbanizationModel

    def __init__(self, model: UrbanizationModel, place_id: int) -> None:
        super().__init__(model)
        self.place_id = int(place_id)

    @property
    def name(self) -> str:
        """Name of the unit."""
        return str(self.model.place_table.name[self.place_id])

    @property
    def code(self) -> int:
        """Administrative code."""
        return int(self.model.place_table.code[self.place_id])

    @property
    def kind(self) -> int:
        """Index into :data:`urbsim.world.KINDS`."""
        return int(self.model.place_table.kind[self.place_id])

    @property
    def region(self) -> int:
        """Index into :data:`urbsim.world.REGIONS`."""
        return int(self.model.place_table.region[self.place_id])

    @property
    def size_class(self) -> int:
        """Size class of the prefecture city, index into :data:`urbsim.world.SIZE_CLASSES`."""
        return int(self.model.size_class[self.place_id])

    def __repr__(self) -> str:
        return f"Place({self.place_id}, {self.name!r})"


for _f in fields(PlaceState):
    setattr(Place, _f.name, _state_property(_f.name))


# ---------------------------------------------------------------------------------------------
# Vectorized yearly updates (pure functions of arrays)
# ---------------------------------------------------------------------------------------------
def size_classes(
    table: PlaceTable, urban_residents: np.ndarray, prefecture_index: np.ndarray, n_prefectures: int
) -> np.ndarray:
    """Size class of each place's prefecture city, from its districts' urban residents.

    The rule (:func:`urbsim.world.base.prefecture_city_size` and
    :func:`urbsim.world.base.size_class_of`) is the one the world builders use: a prefecture
    without urban districts is classed by the urban residents of all its places.
    """
    city = prefecture_city_size(table.kind, urban_residents, prefecture_index, n_prefectures)
    return size_class_of(city)[prefecture_index]


def distances_km(
    lat: np.ndarray, lon: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distances (km) from each point (radians) to each of a second set."""
    dlat = lat2[None, :] - lat[:, None]
    dlon = lon2[None, :] - lon[:, None]
    a = (
        np.sin(0.5 * dlat) ** 2
        + np.cos(lat)[:, None] * np.cos(lat2)[None, :] * np.sin(0.5 * dlon) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
