"""``run(..., accounts=True)``: one row per account at the run's end, agreeing with the run's own totals."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.account_table import ACCOUNT_COLUMNS
from sim.errors import InputError
from sim.policies import make_policy
from sim.run import run
from sim.scenario import load_scenario
from tests.test_error_contract import SMALL


@pytest.fixture(scope="module")
def world():
    return load_scenario(SMALL)


def test_the_accounts_table_agrees_with_the_run_s_totals_and_changes_no_result(world) -> None:
    policy = make_policy("segment_tiers", scenario=world)
    with_table = run(world, policy, seed=3, accounts=True)
    a, m = with_table.accounts, with_table.metrics
    assert list(a.columns) == list(ACCOUNT_COLUMNS) and len(a) == world.population.customers
    assert list(a.account) == list(range(len(a))) and set(a.policy) == {"segment_tiers"} and set(a.seed) == {3}

    def total(metric: str) -> pd.Series:
        return m[(m.metric == metric) & (m.segment == "all")].sort_values("quarter").value

    # Customers at the end, churned over the run, and every hour the seats worked, account by account.
    assert (a.status == "customer").sum() == total("customers").iloc[-1] == 384
    assert (a.status == "churned").sum() == total("churned").sum() == 35
    assert a.rep_hours.sum() == pytest.approx(with_table.seats.hours.sum(), rel=1e-12)
    # No account goes back to being a prospect; new logos are prospects won in the run.
    assert (a.status_at_start[a.status == "prospect"] == "prospect").all()
    won = ((a.status_at_start == "prospect") & (a.status != "prospect")).sum()
    assert won == total("new_logos").sum() > 0
    # The last plan's service and owner: a named account has one, a digital one none.
    assert (a.owner[a.service == "high_touch"] >= 0).all() and (a.owner[a.service == "digital"] == -1).all()
    assert (a.personal <= a.relationship + 1e-9).all() and (a.spend <= a.potential + 1e-9).all()
    by_segment = a.groupby("segment", observed=True).size()
    assert list(by_segment.index) == list(world.segment_names)
    with pytest.raises(InputError) as e:  # a non-empty string had kept the table
        run(world, policy, seed=3, accounts="no")  # type: ignore[arg-type]
    assert e.value.problems == ["run: accounts: True or False, not str 'no'"]
    # Asked for or not, the run is the same; not asked for, there is no table.
    without = run(world, policy, seed=3)
    assert without.accounts is None
    pd.testing.assert_frame_equal(without.metrics, m)


def test_run_writes_accounts_csv_when_asked_and_no_stale_one_is_left(tmp_path) -> None:
    from tests.test_error_contract import invoke, lines_of

    out = tmp_path / "run"
    args = ["run", str(SMALL), "--quarters", "2", "--policy", "segment_tiers", "--policy", "pooled"]
    result = invoke(*args, "--out", str(out), "--per-account")
    assert result.exit_code == 0, result.stderr
    accounts, metrics = pd.read_csv(out / "per_account.csv"), pd.read_csv(out / "metrics.csv")
    assert list(accounts.columns) == list(ACCOUNT_COLUMNS) and len(accounts) == 2 * 5_000
    churned = metrics[(metrics.metric == "churned") & (metrics.segment == "all")].groupby("policy").value.sum()
    assert (accounts.status == "churned").groupby(accounts.policy).sum().to_dict() == churned.to_dict()
    assert "per_account.csv" in result.stdout.splitlines()[-1]
    # Without --out there is nowhere to write it: one line, exit 2, nothing run.
    bare = invoke(*args, "--per-account")
    assert bare.exit_code == 2 and lines_of(bare.stderr) == [
        "error: --per-account: give --out, the folder per_account.csv is written to; nothing was run"
    ]
    # A run without it into the same folder leaves no per_account.csv of an earlier run beside its files; a file
    # of that name it did not write stays (a reviewer's run had deleted a CRM export's accounts.csv).
    again = invoke(*args, "--out", str(out))
    assert again.exit_code == 0 and not (out / "per_account.csv").exists()
    (out / "per_account.csv").write_text("mine,not covsim's\n")
    (out / "accounts.csv").write_text("account,sector,revenue\n")
    assert invoke(*args, "--out", str(out)).exit_code == 0
    assert (out / "per_account.csv").read_text() == "mine,not covsim's\n" and (out / "accounts.csv").exists()
    # A folder where the file goes is refused before anything runs.
    (out / "per_account.csv").unlink()
    (out / "per_account.csv").mkdir()
    refused = invoke(*args, "--out", str(out), "--per-account")
    assert refused.exit_code == 2 and "per_account.csv" in refused.stderr and "running" not in refused.stderr
