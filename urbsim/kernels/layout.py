"""Column layout of the arrays that carry place values and parameters into the kernels.

Kernels take numpy arrays and scalars only. Per-place values travel in one float64 matrix
``pf[place, column]`` and one int64 matrix ``pi[place, column]``; behavioural parameters in one
float64 vector ``par``. The constants below name the columns; Numba folds them at compile time.
"""

from __future__ import annotations

from typing import Final

# --- per-place float columns (pf) ------------------------------------------------------------
PF_LOGINC_URBAN: Final = 0  # log(urban wage * employment probability)
PF_LOGINC_RURAL: Final = 1  # log(rural-zone income)
PF_LOGCOST_URBAN: Final = 2  # log(urban housing cost)
PF_LOGCOST_RURAL: Final = 3  # log(rural-zone housing cost)
PF_QUALITY: Final = 4  # service quality, capacity / entitled demand, capped at 1
PF_AMENITY: Final = 5  # amenity index of the urban zone
PF_EMPLOY: Final = 6  # probability that an urban-zone head has a job
PF_BIRTH_URBAN: Final = 7  # births per person and year, urban zone
PF_BIRTH_RURAL: Final = 8  # births per person and year, rural zone
PF_DEATH: Final = 9  # deaths per person and year
PF_INSITU: Final = 10  # share of rural-zone households reclassified urban this year
PF_LAT: Final = 11  # latitude, radians
PF_LON: Final = 12  # longitude, radians
PF_COSLAT: Final = 13  # cos(latitude)
N_PF: Final = 14

# --- per-place int columns (pi) --------------------------------------------------------------
PI_PROVINCE: Final = 0  # province index 0..n_provinces-1
PI_RULE: Final = 1  # settlement rule: RULE_* below
PI_MIN_YEARS: Final = 2  # years of residence the settlement rule requires
PI_GOV: Final = 3  # index of the local government (prefecture)
N_PI: Final = 4

RULE_CLOSED: Final = 0
RULE_OPEN: Final = 1
RULE_CONDITIONAL: Final = 2
RULE_POINTS: Final = 3
RULE_CODES: Final[dict[str, int]] = {
    "closed": RULE_CLOSED,
    "open": RULE_OPEN,
    "conditional": RULE_CONDITIONAL,
    "points": RULE_POINTS,
}

# --- behavioural parameters (par) -------------------------------------------------------------
P_MOVE_BASE: Final = 0
P_MOVE_AGE0: Final = 1  # four entries, one per age group
P_TENURE_DECAY: Final = 5
P_MOVE_UNEMPLOYED: Final = 6
P_NETWORK_SHARE: Final = 7
P_D0: Final = 8
P_BETA_INCOME: Final = 9
P_BETA_HOUSING: Final = 10
P_BETA_SERVICE: Final = 11
P_CHILD_WEIGHT: Final = 12
P_BETA_DISTANCE: Final = 13
P_BETA_PROVINCE: Final = 14
P_MOVING_COST: Final = 15
P_BETA_NETWORK: Final = 16
P_BETA_AMENITY: Final = 17
P_HOME_PREFERENCE: Final = 18
P_PERMIT_TAKEUP: Final = 19
P_HUKOU_APPLY: Final = 20
P_LAND_VALUE: Final = 21
P_HUKOU_PREMIUM: Final = 22
P_HPA: Final = 23  # households per agent
P_AGEING: Final = 24
P_REQUISITION: Final = 25
P_PERMIT_ON: Final = 26  # 1.0 when permits are issued
P_PERMIT_MONTHS: Final = 27
P_BASE_ACCESS: Final = 28
P_POINTS_EDUCATION: Final = 29
P_POINTS_YEARS: Final = 30
N_PAR: Final = 31

# --- draw slots per household and year --------------------------------------------------------
DRAW_DEMOGRAPHY: Final = 0  # (birth/death, ageing)
DRAW_MOVE: Final = 1  # (employment, consider moving)
DRAW_INSITU: Final = 2  # (reclassification, requisition)
DRAW_SETTLE: Final = 3  # (permit take-up, hukou application)
DRAW_POINTS: Final = 4  # tie-break among points applicants
DRAW_CHOICE: Final = 5  # the logit draw
DRAW_CANDIDATE0: Final = 6  # candidate k uses DRAW_CANDIDATE0 + k: (source, pick)

# --- counters of a household step -------------------------------------------------------------
C_BIRTHS: Final = 0  # persons
C_DEATHS: Final = 1  # persons
C_MOVES: Final = 2  # households that changed place or zone
C_CONVERSIONS: Final = 3  # persons granted local hukou (conditional or open rule)
C_INSITU: Final = 4  # persons reclassified rural -> urban in place
C_REQUISITION: Final = 5  # persons converted to non-agricultural hukou by requisition
C_PERMITS: Final = 6  # persons in households issued a permit
C_DISSOLVED: Final = 7  # households whose last person died
C_CONSIDERED: Final = 8  # households that considered moving
C_PROVINCE_MOVES: Final = 9  # moves across a province border
C_RETURNS: Final = 10  # moves back to the hukou place
N_COUNT: Final = 11
