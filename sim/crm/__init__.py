"""Calibrating a scenario from a CRM export: reading, cleaning, calibration and the scenario file.

The export is four CSV files (the layout of the public "CRM Sales Opportunities"
data set; other CRMs map their column names with ``--column``):

- accounts: one row per account (name, sector, revenue, employees, office location);
- pipeline: one row per opportunity (agent, product, account, stage, engage and close
  dates, close value);
- teams: one row per sales agent (manager, regional office);
- products (optional): the product catalogue, used to repair product names.

Each step is a pure function that returns its data together with a list of
*notes*: one line per thing that was fixed, inferred or set aside, and why, with
counts. Nothing is dropped silently. Bad input (a missing file or column, a bad
date, a non-numeric number) raises :class:`~sim.errors.InputError`, one line per
problem naming the file, the row and the column.

    read_export -> clean -> calibrate -> scenario_toml

Every calibration choice is written as a TOML comment above the number it
produced (``docs/scenario-format.md``, "Calibrating from a CRM export").

Modules: ``layout`` (files, fields, ``--column``), ``read``, ``names`` (matching
spellings, scenario names), ``notes``, ``cleaning`` (the function ``clean``) and
``clean_pipeline``, ``calibration`` (the function ``calibrate``) with ``fits``
(its results), ``scenario_file`` (``scenario_toml``), and ``backtest`` (not
imported here: it runs the model). No module shares a name with a function
exported here, so ``sim.crm.cleaning`` is always the module and ``crm.clean``
always the function.
"""

from sim.crm.calibration import calibrate, check_population
from sim.crm.cleaning import KNOWN_SECTORS, Cleaned, clean
from sim.crm.fits import Calibration, Office, SegmentFit, TeamFit, summary_lines
from sim.crm.formats import Formats, parse_formats
from sim.crm.layout import parse_columns, parse_cutoff
from sim.crm.names import fix_categories, scenario_name
from sim.crm.read import Export, Table, read_export, read_table
from sim.crm.scenario_file import check_scenario_text, scenario_toml

__all__ = [
    "KNOWN_SECTORS",
    "Calibration",
    "Cleaned",
    "Export",
    "Formats",
    "Office",
    "SegmentFit",
    "Table",
    "TeamFit",
    "calibrate",
    "check_population",
    "check_scenario_text",
    "clean",
    "fix_categories",
    "parse_columns",
    "parse_cutoff",
    "parse_formats",
    "read_export",
    "read_table",
    "scenario_name",
    "scenario_toml",
    "summary_lines",
]
