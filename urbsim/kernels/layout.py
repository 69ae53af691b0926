"""Codes the kernels and the reference engine share: settlement rules, the draw slots that key
every random number, and the counters of a household step.

Parameters and place values are not numbered here: they travel as named records
(:mod:`urbsim.inputs`). The draw slots are part of the random-number keys: changing one changes
every run. Numba folds these constants at compile time.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from urbsim.kernels.match_bounds import MATCH_BOUNDS as _BOUNDS

# --- settlement rules (the ``rule`` of :data:`urbsim.inputs.PlaceInputs`) ------------------
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

# --- draw slots per household and year --------------------------------------------------------
DRAW_DEMOGRAPHY: Final = 0  # (birth/death, ageing)
DRAW_MOVE: Final = 1  # (employment, consider moving)
DRAW_INSITU: Final = 2  # (reclassification, requisition)
DRAW_SETTLE: Final = 3  # (permit take-up, hukou application)
DRAW_POINTS: Final = 4  # tie-break among points applicants
DRAW_CHOICE: Final = 5  # the logit draw
DRAW_CANDIDATE0: Final = 6  # candidate k uses DRAW_CANDIDATE0 + k: (source, pick)
# (leaving home, children left behind on leaving the hukou place or, for a household living
# away, which never leaves it, the return hazard); far above the candidates' slots
DRAW_LEAVE_HOME: Final = 60000
# The match of a household with place j (:data:`MATCH_STEP`) is drawn with slot DRAW_MATCH0 + j:
# above the candidates' slots (at most 32 of them) and, for any place index below 2**15 (places
# are ``int16``: urbsim.world.base refuses a world of more than 32,767), below DRAW_LEAVE_HOME.
DRAW_MATCH0: Final = 0x6000
# Whether the job of a household away ends this year (behaviour.job_separation): above the
# matches' slots and leaving home's, below the start year's slots.
DRAW_JOB_END: Final = 0xF000

# --- ages of the household's members (urbsim.kernels.demography) -----------------------------
MAX_AGE: Final = 100  # oldest age; everyone of that age dies within the year
KID_AGES: Final = 32  # resident children are 0-31 (bits of ``kids``); at 31 they leave home
SCHOOL_FIRST: Final = 6  # school age: the nine years of compulsory education, 6-14
SCHOOL_LAST: Final = 14
SCHOOL_MASK: Final = ((1 << (SCHOOL_LAST + 1)) - 1) ^ ((1 << SCHOOL_FIRST) - 1)
MAX_SCHOOL_CHILDREN: Final = 3  # ``children`` counts school-age children up to this
MAX_PERSONS: Final = 15  # no birth beyond this household size

# The settlement decision's own slots sit at the top of the range, so that a longer candidate
# list (or any slot added after it) never reaches them.
DRAW_SETTLE_ACCEPT: Final = 0xFF00  # the logit draw of a hukou applicant
DRAW_LAND_VALUE: Final = 0xFF01  # the household's land-value quantile, keyed by LAND_YEAR
#: Year slot of the draws that do not change with the year (a household's land value): no run
#: lives year 0 (runs start in 2010 or later), so its key is shared by no year's draws.
LAND_YEAR: Final = 0
#: Slots of the draws of a household's match with the place it lives at in the start year
#: (``DRAW_START_MATCH + k`` for its k-th proposal, k < START_MATCH_TRIES; keyed by LAND_YEAR,
#: drawn once, at the start of the run; urbsim.kernels.start_match).
DRAW_START_MATCH: Final = 0xFF02
START_MATCH_TRIES: Final = 64
#: Slots of the candidate draws that estimate, for the start matches, the weight of the places a
#: household away might move on to (``DRAW_START_CANDIDATE0 + k``; keyed by LAND_YEAR).
DRAW_START_CANDIDATE0: Final = 0xFE00

# --- the household's match with a place -------------------------------------------------------
# A standard-normal draw held as a whole number of MATCH_STEP standard deviations (an ``int8``
# household field): level k stands for k * MATCH_STEP. A uniform u has the level whose interval
# holds its normal quantile: the number of MATCH_BOUNDS at or below u, less MATCH_LEVELS // 2.
# The bounds are the normal probabilities of the midpoints between levels, written out in
# urbsim.kernels.match_bounds, so that both engines compare the same uniforms with the same
# numbers on every machine and no engine evaluates a normal quantile of its own.
MATCH_STEP: Final = 1.0 / 16.0
MATCH_LEVELS: Final = 256
MATCH_MIN: Final = -(MATCH_LEVELS // 2)
MATCH_MAX: Final = MATCH_LEVELS // 2 - 1
MATCH_BOUNDS: Final = np.array(_BOUNDS)

# --- counters of a household step -------------------------------------------------------------
C_BIRTHS: Final = 0  # persons
C_DEATHS: Final = 1  # persons
C_MOVES: Final = 2  # households that changed place or zone
C_SETTLED: Final = 3  # migrants (hukou elsewhere) granted local hukou: open/conditional rule
C_INSITU: Final = 4  # persons reclassified rural -> urban in place
C_REQUISITION: Final = 5  # locals converted to non-agricultural hukou by requisition
C_PERMITS: Final = 6  # persons in households issued a permit
C_DISSOLVED: Final = 7  # households whose last person died
C_CONSIDERED: Final = 8  # households that considered moving
C_PROVINCE_MOVES: Final = 9  # moves across a province border
C_RETURNS: Final = 10  # moves back to the hukou place
C_URBAN_BIRTHS: Final = 11  # persons born in households of the urban zone
C_URBAN_DEATHS: Final = 12  # persons dying in households of the urban zone
C_URBAN_IN: Final = 13  # persons moving from a rural zone into an urban zone
C_URBAN_OUT: Final = 14  # persons moving from an urban zone into a rural zone
C_RETURN_MIGRANTS: Final = 15  # persons moving from elsewhere back to their hukou place
C_LEFT_HOME: Final = 16  # persons who left their parents' household
C_FORMED: Final = 17  # households formed by those who left home
C_LOCAL_CONVERSIONS: Final = 18  # locals agri -> non-agri at home under the settlement rules
C_HAZARD_RETURN_MIGRANTS: Final = 19  # persons of C_RETURN_MIGRANTS sent home by the hazard
C_JOB_ENDS: Final = 20  # persons in households away whose job ended (behaviour.job_separation)
C_JOB_END_MOVERS: Final = 21  # persons of C_JOB_ENDS whose household moved (place or zone)
N_COUNT: Final = 22

# --- the province flow matrix of a household step ---------------------------------------------
# ``flows[origin province, destination province, F_*]``: moves that change place (a change of
# zone within a place is not a flow), by the province of the place left and of the place chosen.
F_HOUSEHOLDS: Final = 0  # agent households
F_PERSONS: Final = 1  # persons in them
N_FLOW: Final = 2
