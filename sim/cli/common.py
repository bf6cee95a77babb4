"""What the command groups share: errors turned into messages and exit codes, and reading their arguments."""

from __future__ import annotations

import gc
import os
import shlex
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.cli.field_sets import parsed_pairs
from sim.errors import InputError, PolicyError, interrupted
from sim.format import printable

if TYPE_CHECKING:
    from sim.scenario import Scenario

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
#: What Ctrl-C ends with, outside a batch (which says what it kept and how to resume): every output is written only
#: when done.
INTERRUPTED = "interrupted: nothing half-written is left"
#: Set to 1 to let a failure nothing expected end in its traceback instead of one line.
TRACEBACK_VARIABLE = "COVSIM_TRACEBACK"


@contextmanager
def reported_errors() -> Iterator[None]:
    """The block's failures as messages without a traceback, each with its exit code.

    Bad input: one ``error:`` line per problem, exit 2; a policy that broke its
    contract (an invalid answer, or raising) is bad input too, named with its
    quarter and week: exit 2; Ctrl-C: exit 130 (nothing is written until the
    work is done).
    """
    try:
        yield
    except InputError as e:
        for line in e.problems:
            say_error(line)
        sys.exit(EXIT_BAD_INPUT)
    except PolicyError as e:  # a user policy's own words
        say_error(one_line(str(e)))
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        sys.exit(EXIT_INTERRUPTED)


def say_error(text: str) -> None:
    """``text`` as an ``error:`` line on stderr, its control characters escaped (``sim.format.printable``): a key,
    a file name or an exception's words may hold one, which printed raw would drive the terminal or split the
    line."""
    click.echo(f"error: {printable(text)}", err=True)


def rerun_command(out_dir: Path | None = None) -> str:
    """This command line as a shell would take it back (each argument quoted where it needs it: a folder with a
    space), without ``--fresh``: what resumes the work it started, with its executor's options; ``--out
    out_dir`` added where the command line left the folder to its default."""
    args = [a for a in sys.argv[1:] if a != "--fresh"]
    if out_dir is not None and not any(a == "--out" or a.startswith("--out=") for a in args):
        args += ["--out", str(out_dir)]
    return shlex.join([program(), *args])


def program() -> str:
    """How to call this covsim again: ``covsim`` where the shell's path finds this one, else the path it was
    called by (a researcher's ``.venv/bin/covsim``, printed as ``covsim``, ran nothing without the venv active)."""
    called = sys.argv[0]
    if os.path.basename(called) != "covsim" or os.sep not in called:  # ``python -m sim.cli``, or a bare name
        return "covsim"
    found = shutil.which("covsim")
    try:
        return "covsim" if found and os.path.samefile(found, called) else called
    except OSError:  # not there any more
        return called


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of spaces folded, so a message stays one line."""
    return " ".join(text.split())


def os_error_text(e: OSError) -> str:
    """An operating-system error as one line: ``FILE: what went wrong`` (the file when it names one)."""
    where = f"{e.filename}: " if e.filename else ""
    return f"{where}{one_line(e.strerror or str(e))}"


#: ``--param`` of the commands that run named policies on a scenario (``run``, ``compare``, ``stress``), given to
#: them as ``sim.policies.policies_for`` says.
param_option = click.option(
    "--param",
    "param_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help=(
        "Policy parameter (repeatable), given to each named policy that has it; the scenario's own policy keeps "
        "its other params from the file."
    ),
)


@contextmanager
def unexpected_errors() -> Iterator[None]:
    """What no command expected, as one line and exit 1 instead of a traceback.

    An operating-system error (a full disk, a folder that vanished) names its
    file; anything else names its type and asks for a report. Click's own
    exits pass through. ``COVSIM_TRACEBACK=1`` re-raises, for whoever debugs it.
    """
    try:
        yield
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise  # click's own
    except Exception as e:
        if interrupted(e):  # a Ctrl-C that Python wrapped (one landing in a class's creation, say)
            click.echo(INTERRUPTED, err=True)
            sys.exit(EXIT_INTERRUPTED)
        if os.environ.get(TRACEBACK_VARIABLE) == "1":
            raise
        import sqlite3  # here, not at start-up: only a failure needs it

        if isinstance(e, OSError):
            say_error(os_error_text(e))
        elif isinstance(e, sqlite3.OperationalError) and "disk is full" in str(e):  # from an experiment's store
            say_error(
                "the disk is full: the experiment's store keeps every run it finished; free some space and run "
                "the same command again to resume"
            )
        else:
            say_error(
                f"covsim failed unexpectedly ({type(e).__name__}: {one_line(str(e))}); "
                f"rerun with {TRACEBACK_VARIABLE}=1 to see where, and please report it"
            )
        sys.exit(EXIT_FAILED)


@contextmanager
def report_progress() -> Iterator[Callable[[str], None]]:
    """A live line on stderr (on a terminal only, like the runs' bar) naming the part of a report being made."""
    from tqdm import tqdm

    show = sys.stderr.isatty()
    with tqdm(desc="report", unit="part", file=sys.stderr, disable=not show, leave=False, dynamic_ncols=True) as bar:

        def step(part: str) -> None:
            bar.set_postfix_str(part, refresh=False)
            bar.update(1)

        yield step


class _EmptyName(click.ClickException):
    exit_code = EXIT_BAD_INPUT


class NamedPath(click.Path):
    """A path given on the command line (a file to read, a folder to write into): never an empty name, which
    click reads as the current folder (``run --out ""`` wrote its four files there, ``examples ""`` its
    eighteen). What else is wrong with it (missing, a folder where a file goes, not writable) the command says
    before any work, in the words of every other such problem; ``ask`` says what to name instead."""

    def __init__(self, ask: str = "name where to write", **checks: Any) -> None:
        super().__init__(path_type=Path, **checks)
        self.ask = ask

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            name = param.opts[0] if isinstance(param, click.Option) else getattr(param, "human_readable_name", "")
            raise _EmptyName(f"{name}: the name is empty (it would be the current folder); {self.ask}")
        return super().convert(value, param, ctx)


class _Worded(click.ParamType):
    """A number type that says what a word given it is not (``said``, as ``parse`` reads it), where click's own
    said "'abc' is not a valid integer range" (an analyst's ``--units abc``) or "float range"."""

    said = ""
    parse: Callable[[str], object] = staticmethod(float)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                self.parse(value)
            except ValueError:
                self.fail(f"{value!r} is not {self.said}.", param, ctx)
        return super().convert(value, param, ctx)


class Whole(_Worded, click.IntRange):
    """A whole number in a range (``--help`` shows WHOLE NUMBER)."""

    name, said, parse = "whole number", "a whole number", staticmethod(int)


class Amount(_Worded, click.FloatRange):
    """A number in a range (``--help`` shows NUMBER)."""

    name, said = "number", "a number"


def read_path() -> NamedPath:
    """The type of a path to a file a command reads."""
    return NamedPath("name the file to read")


def check_out(
    folder: Path,
    option: str,
    before: str = "nothing was run",
    files: tuple[str, ...] = (),
    folders: tuple[str, ...] = (),
) -> None:
    """InputError, before any work, unless files can be written into ``folder`` (the ``option`` that named
    it), the command's ``files`` and ``folders`` among them (a folder or a file of one's name in its way);
    ``before`` says what the refusal spared."""
    from sim.files import unwritable

    reason = unwritable(folder)
    if reason is not None:
        raise InputError([f"{option} {folder}: {reason}; {before}"])
    blocked = [f"{name} in it is {kind}, where a file goes" for name in files if (kind := not_a_file(folder / name))]
    blocked += [
        f"{name} in it is a file, where a folder goes"
        for name in folders
        if os.path.lexists(folder / name) and not (folder / name).is_dir()
    ]
    if blocked:
        raise InputError([f"{option} {folder}: {what}; {before}" for what in blocked])


def not_a_file(path: Path) -> str:
    """What stands at ``path``, or at the end of the link there, that a file written there would replace or
    hide (a device, a named pipe, a socket: ``a named pipe``; a link to one, as /dev/stdout is, replaced would
    break it) or cannot (a folder), or "": nothing, or a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError:  # nothing there, or a link to nothing
        return ""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return ""
    return (
        "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a named pipe"
        if stat.S_ISFIFO(mode)
        else "a socket"
    )


#: What ``covsim run --out`` writes, all or none.
RUN_FILES = ("metrics.csv", "weekly.csv", "seats.csv", "summary.png")
#: What ``covsim backtest --out`` writes, all or none.
BACKTEST_FILES = ("backtest.csv", "seeds.csv", "backtest.png", "backtest.toml")
#: The files of a single command's results, by what wrote them: a batch's report or another such command's
#: beside them would be read as one with them.
SINGLE_FILES = {"a single run": RUN_FILES, "a backtest": BACKTEST_FILES}


def check_single_out(folder: Path, files: tuple[str, ...]) -> None:
    """:func:`check_out` for ``covsim run --out`` or ``covsim backtest --out``, which write ``files``; a folder
    holding a batch's store, or the other command's files, is refused: a run's metrics.csv beside a compare's
    report.md would be read as the compare's."""
    from sim.experiment.store import STORE_NAME

    check_out(folder, "--out", files=files)  # first: a name too long for the file system cannot be looked in
    if (folder / STORE_NAME).exists():
        raise InputError(
            [
                f"--out {folder}: holds the store of a compare, stress test or experiment; write these files to "
                "another folder, so that the two are not read as one; nothing was run"
            ]
        )
    _refuse_others(folder, "--out", "nothing was run", files)


def _refuse_others(folder: Path, option: str, before: str, own: tuple[str, ...] = ()) -> None:
    """InputError if ``folder`` holds the files of a single command other than the one that writes ``own``."""
    for what, files in SINGLE_FILES.items():
        found = [name for name in files if files != own and (folder / name).is_file()]
        if found:
            raise InputError(
                [
                    f"{option} {folder}: holds the files of {what} ({', '.join(found)}); write these to another "
                    f"folder, so that the two are not read as one; {before}"
                ]
            )


def check_report_out(
    folder: Path, option: str = "--out", before: str = "nothing was run", batch: bool = True, fresh: bool = False
) -> None:
    """:func:`check_out` for a folder an experiment's report goes into, its files among them, and, for a
    ``batch`` that runs there, the batch's (its manifest and its store's lock); a folder holding a single
    command's files (``covsim run --out``, ``covsim backtest --out``) is refused, as they would be read as the
    report's; and, for a batch not run ``fresh``, a report with no store beside it (another batch's, its store
    gone: the new report would replace it without a word)."""
    from sim.experiment.batch import MANIFEST
    from sim.experiment.report import FIGURES, FILES
    from sim.experiment.store import LOCK_NAME, STORE_NAME

    check_out(folder, option, before, files=(*FILES, MANIFEST, LOCK_NAME) if batch else FILES, folders=(FIGURES,))
    _refuse_others(folder, option, before)
    kept = [name for name in (*FILES, MANIFEST) if (folder / name).is_file()]
    if batch and kept and not fresh and not (folder / STORE_NAME).exists():
        raise InputError(
            [
                f"{option} {folder}: holds a report ({', '.join(kept)}) with no store of runs beside it; write to "
                f"another folder, or add --fresh to replace it; {before}"
            ]
        )


@contextmanager
def loading_libraries() -> Iterator[None]:
    """Import a command's libraries with the cyclic garbage collector paused, then freeze what they made.

    Importing pandas and Mesa creates hundreds of thousands of
    objects that live as long as the process. With the collector on, the
    imports set off full collections that walk them all, again and again:
    about 0.2 s of ``covsim run``'s start-up here (``benchmarks/startup.py``).
    Frozen, they are also left out of every later collection; what the
    command creates afterwards is collected as usual.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE is read as a TOML value (42, 0.5, true, "text") or else as text."""
    params, problems = parsed_pairs(pairs, "--param")
    if problems:
        raise InputError(problems)
    return params


def checked_together(*checks: Callable[[], Any]) -> tuple[Any, ...]:
    """Each of ``checks``' results, in order; or InputError with every problem they raise, at once (a command's
    options, each checked on its own: a bad --column hid a bad --cutoff and --date-format)."""
    results, problems = [], []
    for check in checks:
        try:
            results.append(check())
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(problems)
    return tuple(results)


def scenario_and_params(
    scenario_file: Path,
    policy_names: tuple[str, ...],
    param_pairs: tuple[str, ...],
    quarters: int | None,
    set_pairs: tuple[str, ...] = (),
) -> tuple[Scenario, dict[str, Any], str]:
    """The scenario, over ``--quarters`` when given (``load_scenario_file``) and with its ``--set`` fields, the
    ``--param`` values of a command that runs named policies on it (``run``, ``compare``, ``stress``), and what a
    batch's report opens with of them: the ``--set`` fields and the shocks ``--quarters`` left out; a scenario
    with mistakes is said beside the options' own: every unknown or repeated ``--policy``, every malformed ``--set``
    and ``--param`` (a share that did not sum to 1 hid an unknown policy), and a malformed ``--param`` beside the
    well-formed ones' wrong values."""
    from sim.cli.field_sets import parse_sets, sets_said, with_sets
    from sim.policies import policies_for, policy_class, policy_classes
    from sim.scenario_file import left_out, load_scenario_file, read_scenario_toml, sets_in_run, shocks_left_out

    def loaded() -> Scenario:
        scenario = load_scenario_file(scenario_file, quarters)
        # The file's own policy is the file's mistake whatever --policy names (validate and stress refused a file
        # that run and compare took).
        policy_class(scenario.policy.name, f"{scenario_file}: policy.name")
        return scenario

    params, malformed = parsed_pairs(param_pairs, "--param")
    try:
        scenario, sets, *_ = checked_together(
            loaded,
            lambda: parse_sets(set_pairs),
            lambda: check_distinct(policy_names),
            lambda: policy_classes(policy_names),
        )
    except InputError as e:
        raise InputError([*e.problems, *malformed]) from None
    # --quarters may leave some of the file's shocks out: a --set shock's place counts the file's, and a note says each.
    data = {} if quarters is None else read_scenario_toml(scenario_file)
    given: dict[str, str] = {}
    if sets and quarters is not None:
        sets, given = sets_in_run(sets, shocks_left_out(data, quarters))
    scenario = with_sets(scenario, sets, str(scenario_file), said_as=given)
    if malformed:  # the well-formed values are checked beside them, not after they are mended
        try:
            policies_for(policy_names, params, scenario, str(scenario_file))
        except InputError as e:
            raise InputError([*malformed, *e.problems]) from None
        raise InputError(malformed)
    say_notes(scenario, f"{scenario_file} with --set" if sets else str(scenario_file))
    notes, left = ([], "") if quarters is None else left_out(data, quarters, str(scenario_file))
    for note in notes:
        click.echo(f"note: {note}", err=True)
    return scenario, params, " ".join(filter(None, (sets_said(set_pairs, str(scenario_file)), left)))


def say_notes(scenario: Scenario, source: str) -> None:
    """The scenario's notes (``scenario_checks.scenario_notes``: values most likely a slip, not refused), one
    ``note: FILE: key: ...`` line each on stderr."""
    from sim.scenario_checks import scenario_notes

    for note in scenario_notes(scenario):
        click.echo(f"note: {source}: {note}", err=True)


def check_distinct(policy_names: tuple[str, ...]) -> None:
    """InputError if ``--policy`` names a policy twice."""
    if len(set(policy_names)) != len(policy_names):
        raise InputError(
            [
                "--policy: a policy is named twice (to compare one policy with other parameters, write an experiment "
                "file that labels each: docs/experiments.md)"
            ]
        )
