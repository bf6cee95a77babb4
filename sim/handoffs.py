"""Hand-offs: which accounts change hands when the plan's owners change, and which of them warmly.

A pure function of the population's relationship holders, the plan and the
team; the population applies the result (``Population.hand_over``) and the
team books the warm ones' hours (``Team.owe_handoffs``).
"""

from __future__ import annotations

import numpy as np

from sim.tasks import at_seat


def changes_of_hands(
    holder: np.ndarray,
    personal: np.ndarray,
    owner: np.ndarray,
    warm_plan: np.ndarray,
    filled: np.ndarray,
    worth_handing: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Accounts whose planned ``owner`` does not hold their personal relationship: (accounts, old holder,
    new owner, warm).

    A change is warm when the plan asks for it (``warm_plan``), both seats are
    filled (the old holder is there to introduce the new owner) and there is a
    personal relationship worth handing over (at least ``worth_handing``,
    touch-equivalents); every other change is cold. Accounts with no owner
    keep their holder.
    """
    moving = np.flatnonzero((owner >= 0) & (holder != owner))
    old, new = holder[moving], owner[moving]
    warm = warm_plan[moving] & (personal[moving] >= worth_handing)
    warm &= at_seat(filled, old, False) & at_seat(filled, new, False)
    return moving, old, new, warm
