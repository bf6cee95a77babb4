"""Experiments: designs, replications with common random numbers, a resumable store, statistics, reports.

Modules: spec (experiment files), design (design points and runs), records (what workers exchange),
worker (one run), runner (executors), store (SQLite), batch (plan + store + run), stats, morris (screening
design and elementary effects), discovery (PRIM scenario discovery: the box of uncertain parameters inside
which a case of interest concentrates), report/.
"""
