"""The report's ledger: the runs done, failed and pending, their run time, each failed run with its error, and
the sentence that says an answer rests on part of a batch."""

from __future__ import annotations

import pandas as pd

from sim.experiment.report.context import ReportContext
from sim.experiment.report.markdown import code
from sim.format import counted

#: Failed runs listed one by one in the ledger section.
MAX_FAILED_LISTED = 100


def unfinished(runs: pd.DataFrame) -> str:
    """The sentence that says an answer rests on part of the batch (``runs``: the plan's distinct runs with
    their ``status``), or none of it, or "" when every run is done or none has run yet."""
    done, failed = (int((runs["status"] == status).sum()) for status in ("done", "failed"))
    if done == len(runs) or done + failed == 0:
        return ""
    pending = len(runs) - done - failed
    left = ", ".join(x for x in (f"{failed} failed" if failed else "", f"{pending} pending" if pending else "") if x)
    rest = (
        "fix the cause of the failures and rerun the command that made this folder: it runs only what is not done"
        if failed
        else "rerun the command that made this folder to finish it"
    )
    if not done:
        return f"none of the batch's {counted(len(runs), 'run')} is done ({left}): {rest}."
    return (
        f"{done} of {counted(len(runs), 'run')} of the batch are done ({left}): what is said here is of those; {rest}."
    )


#: A run slower than this (and ten times the median) may have compiled the loops (README: half a minute to a
#: minute and a half, once) [A].
COMPILING_S = 20.0


def ledger(ctx: ReportContext) -> list[str]:
    """Runs done, failed and pending, run time, and each failed run with its error."""
    lines = ["## Ledger", ""]
    runs = ctx.cells.drop_duplicates("run_key")
    counts = runs["status"].value_counts()
    done, failed = int(counts.get("done", 0)), int(counts.get("failed", 0))
    pending = len(runs) - done - failed
    cells_done = int((ctx.cells["status"] == "done").sum())
    lines.append(
        f"{counted(done, 'run')} done, {failed} failed, {pending} pending, of {counted(len(runs), 'distinct run')} "
        f"({cells_done} of {counted(len(ctx.cells), 'cell')} {'has' if cells_done == 1 else 'have'} results)."
    )
    seconds = runs.loc[runs.status == "done", "seconds"].dropna()
    if not seconds.empty:
        said = f"Run time: {seconds.sum():.1f} s in total, {seconds.median():.2f} s median per run"
        if seconds.max() > max(10 * seconds.median(), COMPILING_S):
            # A researcher's 79.1 s "in total" was two workers compiling the loops at once, 75 s of it.
            said += (
                f"; the slowest, {seconds.max():.1f} s, may include compiling covsim's loops, which the first run "
                "of a process does once on a machine (and after an update of covsim)"
            )
        lines.append(said + ".")
    # Not in the total: a policy author's "0.6 s in total" had waited 16 s on runs stopped at their time limit.
    if (lost := runs.loc[runs.status == "failed", "seconds"].dropna().sum()) > 0:
        lines.append(f"The failed runs took {lost:.1f} s more (one stopped at its time limit: about its limit).")
    if failed:
        lines += ["", "Failed runs (fix the cause and rerun the same command to resume):", ""]
        failures = ctx.cells[ctx.cells.status == "failed"].groupby("run_key", sort=False)
        for shown, (key, g) in enumerate(failures):
            if shown == MAX_FAILED_LISTED:
                lines.append(f"- ... and {failed - shown} more: every error is in the `runs` table of the store.")
                break
            where = "; ".join(f"point {r.point}, {r.policy}, replication {r.replication}" for r in g.itertuples())
            error = str(g["error"].iloc[0] or "no error message").replace("`", "'")
            lines.append(f"- run {code(str(key)[:12])} ({where}): {code(error)}")
    if pending:
        lines += ["", "Pending runs have not been executed yet: rerun the same command to resume the batch."]
    return lines
