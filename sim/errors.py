"""Errors the command line turns into one line per problem and exit code 2, and how a Ctrl-C is told apart."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: a list of problems, each already naming where it is.

    ``problems`` holds one human-readable line per problem, for example
    ``"scenarios/x.toml: reps.0.count: must be >= 0"``.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class FailedRuns(UserWarning):
    """Runs of a batch failed (``BatchOutcome.failed``): warned by the Python API, where an outcome not printed had
    left a notebook's differences empty, unsaid; the command line says them itself, and exits 1."""


class PolicyError(Exception):
    """A coverage policy broke its contract (wrong shape, invalid rep, mutated its view)."""


def interrupted(e: BaseException) -> bool:
    """Whether ``e`` was caused by a Ctrl-C (or a stop from outside, which raises the same): a KeyboardInterrupt
    itself, or an error Python made of one. A Ctrl-C whose handler runs inside a compiled loop's call, as it
    hands its result back, comes out as ``SystemError: ... returned a result with an exception set`` caused by
    the KeyboardInterrupt: it is a stop, not a failure of the run or of its policy."""
    seen: set[int] = set()
    cause: BaseException | None = e
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def raised(e: BaseException) -> str:
    """``Type: message`` of what a user's code (a policy, a module it imports) raised, as an error line quotes it;
    an exception whose own ``__str__`` fails is said to, not read as a failure of covsim."""
    try:
        text = str(e)
    except Exception as inner:
        text = f"(its message cannot be shown: its __str__ raised {type(inner).__name__})"
    return f"{type(e).__name__}: {text}"
