"""``python -m sim.cli``: the ``covsim`` command."""

from sim.cli import main

main()
