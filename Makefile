# Two commands on a fresh machine: `make run` and `make test`. Each creates the virtual
# environment from the lock file first (only python3 >= 3.11 and make are needed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# The suite runs on this many processes (pytest-xdist; on PostgreSQL each has a database
# of its own, tests/conftest.py). WORKERS=0 runs it in one process.
WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -n $(WORKERS) --durations=10

.PHONY: run test test-pg test-deep lint format lock migration clean system system-pg mutate mutate-sample \
	system-bench bench-smoke

# The tests use real tools from Debian's packages: Poppler (pdfsig, pdffonts) checks the
# signed documents independently of pyHanko; headless Chromium with a Japanese font opens the
# verification page; nginx stands in front of `kaseru serve` as a reverse proxy. Installed
# when missing and we may (root with apt-get).
SYSTEM_TOOLS := pdfsig chromium nginx
SYSTEM_PACKAGES := poppler-utils chromium fonts-ipaexfont-gothic nginx
system:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	[ -f /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf ] || missing="$$missing font"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(SYSTEM_PACKAGES) for the tests (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else echo "the tests need: $(SYSTEM_PACKAGES) (missing:$$missing)"; exit 1; fi; fi

# The PostgreSQL pass's backup tests run pg_dump, pg_restore and psql (Debian's
# postgresql-client); the SQLite pass needs none of them.
PG_TOOLS := pg_dump pg_restore psql
system-pg:
	@missing=""; for t in $(PG_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing postgresql-client for the PostgreSQL pass (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; \
	  else echo "the PostgreSQL pass needs postgresql-client (missing:$$missing)"; exit 1; fi; fi

# bench/verify.py loads the server with wrk (Debian's package wrk).
system-bench:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing wrk for bench/verify.py"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "bench/verify.py needs wrk (Debian package wrk)"; exit 1; fi; fi

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kaseru needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

run: $(STAMP)  ## the main job: build the demo registry, then serve it on 127.0.0.1:8000
	$(BIN)/kaseru demo
	$(BIN)/kaseru serve --host 127.0.0.1 --port 8000

test: $(STAMP) system  ## the whole suite on SQLite
	$(PYTEST)

# The tests that touch a database, again on PostgreSQL; the rest ran in `make test` and are
# deselected here (tests/conftest.py).
test-pg: $(STAMP) system system-pg  ## the database tests again on PostgreSQL (127.0.0.1:5432, database test)
	KASERU_TEST_DATABASE_URL=$(PG_URL) $(PYTEST)

# The property tests with many more examples from random seeds (CI's run is derandomized:
# the same examples each time), and schemathesis with fresh random cases per operation.
test-deep: $(STAMP) system  ## explore: hypothesis's `deep` profile, random seeds
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -q -m hypothesis
	KASERU_FUZZ_EXAMPLES=200 $(BIN)/pytest -q tests/api/test_schemathesis.py

# Every bench in bench/ at a tiny size (its --smoke), so each stays runnable: the same code
# paths and the same printed figures, which at this size say nothing about speed. A bench
# exits non-zero when its own checks fail (a forgery accepted, a tamper undetected, a limit
# that does not refuse, an answer not 2xx); the first failure stops the target.
bench-smoke: $(STAMP) system system-bench  ## every bench at a tiny size, fails if one fails
	$(BIN)/python bench/areas.py --smoke
	$(BIN)/python bench/backup.py --smoke
	$(BIN)/python bench/payload.py --smoke
	$(BIN)/python bench/forgery.py --smoke
	$(BIN)/python bench/reminders.py --smoke
	$(BIN)/python bench/render.py --smoke
	$(BIN)/python bench/tamper.py --smoke
	$(BIN)/python bench/enumeration.py --smoke
	$(BIN)/python bench/endorsement_timing.py --smoke
	$(BIN)/python bench/verify.py --smoke
	bench/fuzz.sh --smoke

# ruff, mypy (strict, over api/, registry/, signing/ and templates/) and the layers as an
# import-linter contract (pyproject.toml; docs/architecture.md, "Packages and arrows").
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(PYTHON) -m venv /tmp/kaseru-lock && /tmp/kaseru-lock/bin/pip install --quiet pip-tools
	/tmp/kaseru-lock/bin/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.lock pyproject.toml

migration: $(STAMP)  ## make migration m="what changed"
	KASERU_HOME=$$(mktemp -d) $(BIN)/alembic upgrade head && \
	KASERU_HOME=$$(ls -td /tmp/tmp.* | head -1) $(BIN)/alembic revision --autogenerate -m "$(m)"

# Mutation testing of the core rules with mutmut (settings in pyproject.toml, [tool.mutmut]):
# each mutant is one small change to one function (an operator, a constant, a condition),
# run against the fast tests that reach that function; a mutant no test fails on is a rule
# the tests do not pin. Of signing/pdf.py only the checks of a signed document are mutated,
# not the signer. mutants/ is rebuilt each time, so no result of older tests is kept.
# mutate/score.py prints killed / total per module and each mutant not caught.
MUTANTS := 'registry.calculator.*' 'registry.numbers.*' 'registry.maintenance.*' \
	'registry.eligibility.*' 'registry.audit.*' 'signing.payload.*' \
	'signing.pdf.x_check__*' 'signing.pdf.x_container_problem__*' 'signing.pdf.x__der_size__*' \
	'signing.pdf.x_load_cert_from_pemder_bytes__*'

# One mutant in ten, the same ones each time (those whose number ends in 7), for a quick
# check. MUTATE_FAIL_UNDER=90 makes either target fail when a module scores below 90%.
MUTANTS_SAMPLE := $(subst .*',.*__mutmut_*7',$(subst __*',__mutmut_*7',$(MUTANTS)))
MUTATE_SCORE = $(BIN)/python mutate/score.py $(if $(MUTATE_FAIL_UNDER),--fail-under $(MUTATE_FAIL_UNDER))

mutate: $(STAMP)  ## mutation testing of the core rules, score per module
	rm -rf mutants
	$(BIN)/mutmut run $(MUTANTS)
	$(MUTATE_SCORE) $(MUTANTS)

mutate-sample: $(STAMP)  ## the same on one mutant in ten
	rm -rf mutants
	$(BIN)/mutmut run $(MUTANTS_SAMPLE)
	$(MUTATE_SCORE) $(MUTANTS_SAMPLE)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
