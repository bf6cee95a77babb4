"""Errors the command line turns into one line per problem and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: a list of problems, each already naming where it is.

    ``problems`` holds one human-readable line per problem, for example
    ``"scenarios/x.toml: reps.0.count: must be >= 0"``.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class PolicyError(Exception):
    """A coverage policy broke its contract (wrong shape, invalid rep, mutated its view)."""
