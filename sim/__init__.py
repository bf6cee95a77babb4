"""covsim: an agent-based simulator of sales coverage models."""

__version__ = "0.1.0"
