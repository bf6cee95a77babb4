# Set-up is two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv and install the dependencies first, at the exact versions of constraints.txt.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: demo app test docs-check bench lint clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "covsim needs Python 3.11 or newer, and $(PYTHON) is " + sys.version.split()[0] + ": name another, as in make demo PYTHON=python3.11")'
	@# A .venv an older Python left would keep that Python: made again.
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## run the 100,000-account baseline under the no-model baseline and segment tiers
	$(VENV)/bin/covsim run scenarios/baseline.toml --policy unstructured --policy segment_tiers --out out/demo

app: $(STAMP)  ## the what-if page: compare coverage models in a browser, on http://127.0.0.1:8050/ (Ctrl-C stops it)
	$(VENV)/bin/covsim app

# Two workers, one test file each at a time (pytest-xdist): a file's tests share its fixtures and keep
# their order (the documented commands run in document order); about 4 minutes on 2 cores.
test: $(STAMP)  ## the whole test suite (the browser test installs Debian's chromium and chromium-driver if missing, as root)
	$(PY) -m pytest -q -n 2 --dist loadfile

docs-check: $(STAMP)  ## every command of README.md and docs/ as written, the long experiments too
	COVSIM_DOCS_LONG=1 $(PY) -m pytest -q tests/test_docs_commands.py

bench: $(STAMP)  ## benchmarks: prints a table, writes benchmarks/results.md
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks examples docs/scripts
	$(VENV)/bin/ruff format --check sim tests benchmarks examples docs/scripts
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
