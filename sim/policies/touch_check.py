"""Checking the touches a policy offers beyond any cadence: the owners' (``checked_touches``, from
``Policy.touches``) and the line specialists' (``checked_specialist_touches``, from ``Policy.specialist_touches``).

Each is refused with a ``PolicyError`` naming the first fault rather than
dropped: an offered touch that nobody can keep (an account with no owner, a
line with no specialist) had vanished without a word.
"""

from __future__ import annotations

import numpy as np

from sim.distinct import distinct
from sim.errors import PolicyError
from sim.format import counted
from sim.policies.views import CoveragePlan, read_only


def what_returned(a: object, arr: np.ndarray) -> str:
    """What a policy returned, as an error line says it: its shape, or its type where it is no array (None, a set,
    a number: all 0-d to numpy)."""
    return f"shape {arr.shape}" if arr.ndim and arr.dtype != object else f"{type(a).__name__} {a!r:.40}"


def checked_touches(accounts: object, owner: np.ndarray, policy: str) -> np.ndarray:
    """The accounts a policy offered a touch (``Policy.touches``), unique and sorted, or PolicyError; ``owner``:
    each account's owner in the plan in force (a touch is its owner's task: one offered an account with none
    is refused, where it had been dropped without a word)."""
    a, n = np.asarray(accounts), owner.size
    if a.size == 0:
        return NO_ACCOUNTS
    if a.ndim == 1 and a.dtype == np.bool_:  # a mask over the accounts: a natural thing to write, and refused
        raise PolicyError(f"policy {policy}: touches() returned a mask; return account indices (np.flatnonzero(mask))")
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
        raise PolicyError(
            f"policy {policy}: touches() must return a 1-d array of account indices, got "
            + (f"{a.ndim}-d {a.dtype}" if a.ndim and a.dtype != object else what_returned(accounts, a))
        )
    if (out := np.flatnonzero((a < 0) | (a >= n))).size:
        raise PolicyError(f"policy {policy}: touches() returned an account outside 0..{n - 1}{_first(a, out)}")
    if (nobody := np.flatnonzero(owner[a] < 0)).size:
        raise PolicyError(
            f"policy {policy}: touches() offered {counted(nobody.size, 'touch', 'touches')} of accounts with no owner in the plan (the "
            f"first: account {int(a[nobody[0]])}); a touch is its owner's task: offer only accounts with "
            "view.plan.owner >= 0"
        )
    return distinct(a.astype(np.int64))


def checked_specialist_touches(cells: object, plan: CoveragePlan, lines: int, policy: str) -> np.ndarray:
    """The (account, line) cells a policy offered a specialist's touch (``Policy.specialist_touches``: rows of account
    and product line), as flat indices ``account * lines + line``, unique and sorted, or PolicyError; ``plan``:
    the plan in force, whose ``specialist`` must name a seat for every cell offered (the touch is that
    specialist's task)."""
    a = np.asarray(cells)
    if a.size == 0:
        return NO_ACCOUNTS
    said = f"policy {policy}: specialist_touches()"
    if a.ndim != 2 or a.shape[1] != 2 or not np.issubdtype(a.dtype, np.integer):
        got = f"{a.dtype} of shape {a.shape}" if a.ndim and a.dtype != object else what_returned(cells, a)
        raise PolicyError(f"{said} must return an integer array of (account, line) rows, shape (k, 2), got {got}")
    account, line = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64)
    n = plan.owner.size
    if (out := np.flatnonzero((account < 0) | (account >= n))).size:
        raise PolicyError(f"{said} returned an account outside 0..{n - 1}{_first(account, out)}")
    if (out := np.flatnonzero((line < 0) | (line >= lines))).size:
        raise PolicyError(
            f"{said} returned a line outside 0..{lines - 1} (the scenario's product lines){_first(line, out)}"
        )
    nobody = np.arange(account.size) if plan.specialist is None else np.flatnonzero(plan.specialist[account, line] < 0)
    if nobody.size:
        first = nobody[0]
        raise PolicyError(
            f"{said} offered {counted(nobody.size, 'touch', 'touches')} of (account, line) cells with no specialist in the plan (the "
            f"first: account {int(account[first])}, line {int(line[first])}); a line's touch is its specialist's "
            "task: offer only cells with view.plan.specialist[account, line] >= 0"
        )
    return distinct(account * lines + line)


def _first(values: np.ndarray, out: np.ndarray) -> str:
    """`` (3 of them; the first: 100000, at index 4)``: how many of ``values`` are out of range (at indices
    ``out``) and the first, so a researcher's off-by-one is found without printing the array."""
    first = f"{int(values[out[0]])}, at index {int(out[0])}"
    return f" ({first})" if out.size == 1 else f" ({out.size:,} of them; the first: {first})"


#: Nothing offered: the accounts (or cells) of an empty offer, and ``Policy.touches``'s default.
NO_ACCOUNTS = read_only(np.empty(0, dtype=np.int64))
