"""A hand-made world of six places in three prefectures of two provinces, for the tests of
policies that name places."""

from __future__ import annotations

import numpy as np

from urbsim.scenario.places import PlaceIndex, index_from_columns

#: Beijing: two districts of prefecture 110100. Guangdong: two districts of Guangzhou (440100),
#: one of Shenzhen (440300) and a county of Qingyuan (441800).
CODE = np.array([110101, 110102, 440103, 440105, 440304, 441821])
NAME = np.array(["东城区", "西城区", "荔湾区", "海珠区", "福田区", "佛冈县"], dtype=object)
PREFECTURE = np.array([110100, 110100, 440100, 440100, 440300, 441800])
PROVINCE = np.array([11, 11, 44, 44, 44, 44])
PREFECTURE_NAMES = {110100: "北京市", 440100: "广州市", 440300: "深圳市", 441800: "清远市"}
SIZE = np.array([0, 0, 1, 1, 1, 4], dtype=np.int8)
KIND = np.array([0, 0, 0, 0, 0, 1], dtype=np.uint8)
CAPITAL = np.array([True, True, True, True, False, False])


def small_index() -> PlaceIndex:
    """The :class:`PlaceIndex` of the six places."""
    return index_from_columns(CODE, NAME, PREFECTURE, PROVINCE, PREFECTURE_NAMES, world="small")
