"""Coverage policies: the protocol, the built-ins and loading by name or import path."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from sim.errors import InputError
from sim.policies.hunter_farmer import HunterFarmer
from sim.policies.protocol import Policy
from sim.policies.segment_tiers import SegmentTiers
from sim.policies.unstructured import Unstructured

BUILT_IN: dict[str, type[Policy]] = {p.name: p for p in (Unstructured, SegmentTiers, HunterFarmer)}


def policy_class(name: str, where: str = "policy.name") -> type[Policy]:
    """A built-in policy by name, or a user policy as ``package.module:ClassName``."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    if ":" not in name:
        known = ", ".join(sorted(BUILT_IN))
        raise InputError([f"{where}: unknown policy {name!r} (built-in: {known}; or package.module:ClassName)"])
    module_name, _, attr = name.partition(":")
    # A user's policy module usually sits in the folder they run covsim from.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # any import failure is the user's module, reported in one line
        raise InputError([f"{where}: cannot import {module_name!r}: {type(e).__name__}: {e}"]) from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Policy)):
        raise InputError([f"{where}: {name!r} is not a subclass of sim.policies.Policy"])
    return cls


def make_policy(name: str, params: dict[str, Any] | None = None, where: str = "policy") -> Policy:
    """Build a policy from its name and parameters, validating both; ``where`` prefixes errors."""
    return policy_class(name, f"{where}.name").from_config(params or {}, f"{where}.params")


__all__ = ["BUILT_IN", "Policy", "make_policy", "policy_class"]
