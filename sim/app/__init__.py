"""The what-if page (``covsim app``): compare coverage models in a browser.

``engine`` runs a paired comparison as ``covsim compare`` does, on warm worker
processes, and summarises it with the same statistics; ``form`` turns what the
page's fields hold into a scenario and policies, with the command line's
one-line messages for bad input; ``jobs`` runs a comparison in the background
with its progress; ``charts`` draws the results; ``layout`` and ``callbacks``
are the page (Dash); ``server`` starts the workers and serves the page. Only
``layout``, ``callbacks``, ``charts`` and ``server`` import Dash and Plotly.
"""
