# Transformer from Scratch: build, run and test the book.
# Every target creates the virtual environment from requirements.txt on first use,
# and again whenever requirements.txt changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTML   := _build/html


.DEFAULT_GOAL := help
.PHONY: help book pdf test test-unit test-notebooks test-browser test-portable book-model execute execute-gpt2 lab serve lint clean bench figures gettext calibrate

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

book: $(STAMP) ## Build the HTML book into _build/html (shows the stored outputs)
	$(BIN)/python scripts/build_book.py
	@echo "Open $(CURDIR)/$(HTML)/index.html in a browser (or run: make serve)"

# The book as PDF, one per edition, maths typeset, printed offline by Debian's chromium
# (scripts/build_pdf.py). After `make book` it reuses what that build read.
pdf: $(STAMP) ## Print the book to _build/pdf/transformer-from-scratch.pdf (and -zh.pdf for the Chinese edition)
	$(BIN)/python -m scripts.build_pdf

# Tests run in $(JOBS) processes (pytest-xdist); --dist loadscope keeps each notebook's
# cells, in order, in one process with one kernel. The units are handed out longest first,
# in the order conftest.py gives them (--no-loadscope-reorder: not by their number of tests).
# JOBS=1 runs everything in one process.
JOBS   ?= 2
PYTEST := TFS_OFFLINE=1 $(BIN)/python -m pytest $(if $(filter 1,$(JOBS)),,-n $(JOBS) --dist loadscope --no-loadscope-reorder)

test: $(STAMP) ## Run every test: unit tests, every chapter under nbval, the built book in a browser, its PDFs
	$(BIN)/python scripts/build_book.py
	$(BIN)/python -m scripts.build_pdf
	$(PYTEST)

test-unit: $(STAMP) ## Only the unit tests (quick: no book build, no chapters, no browser)
	$(PYTEST) tests --ignore=tests/test_browser.py --ignore=tests/test_pdf.py

test-notebooks: $(STAMP) ## Only the chapters under nbval (NB=chapters/05_*.ipynb for one)
	$(PYTEST) $(or $(NB),chapters)

test-browser: $(STAMP) ## Build the book and its PDFs, then only the browser tests of the built pages and the PDF tests
	$(BIN)/python scripts/build_book.py
	$(BIN)/python -m scripts.build_pdf
	$(PYTEST) tests/test_browser.py tests/test_pdf.py

# Another CPU's arithmetic on this machine: PyTorch's portable kernels instead of the
# vectorised ones, and MKL's reproducible code path. CI (.ci/run) runs this after `make test`.
PORTABLE_ENV := ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE

test-portable: $(STAMP) ## The chapters again under nbval, with another CPU's floating-point arithmetic
	$(PORTABLE_ENV) $(PYTEST) $(or $(NB),chapters)

# How far each tolerance-checked number moves with the CPU's arithmetic, measured by running
# the chapters under native, avx2, default and MKL_CBWR=COMPATIBLE arithmetic; the spreads and
# the bands derived from them go to tests/tolerances.json (commit it). About 2.5 hours on 2 cores
# (Chapter 7 alone: about 100 minutes, its four runs two at a time; NB=chapters/07_training.ipynb for one).
calibrate: $(STAMP) ## Measure the tolerance bands of the chapters' float outputs (tests/tolerances.json)
	TFS_OFFLINE=1 $(BIN)/python -m scripts.calibrate $(NB)

book-model: $(STAMP) ## Retrain the book model by Chapter 7's recipe into shared/weights/ (prints its SHA-256)
	$(BIN)/python -m shared.book

# Scripts that import others (`from scripts.offline import ...`) run as modules of the
# `scripts` package, from the repository root (tests/test_scripts.py checks each recipe).
execute: $(STAMP) ## Re-run every chapter in place from a fresh kernel, top to bottom (NB=chapters/01_*.ipynb for one)
	$(BIN)/python -m scripts.execute_notebooks $(or $(NB),chapters/*.ipynb)

# For the published book only (the Pages workflow runs it before `make book`): needs internet,
# changes Chapter 9's stored outputs, and its result must never be committed.
execute-gpt2: $(STAMP) ## Download OpenAI's GPT-2 weights (548 MB) and re-run Chapter 9 on them, in place (CI)
	$(BIN)/python -m scripts.publish_gpt2_chapter --in-place

# Jupyter refuses to start as root (a container, a cloud machine) unless told --allow-root:
# pass it only when the effective user is root. The server listens on 127.0.0.1 only and
# prints its URL with the token (tests/test_make_lab.py; `make lab LAB_UID=0` fakes root).
LAB_UID ?= $(shell id -u)

lab: $(STAMP) ## Open the chapters in JupyterLab on 127.0.0.1 (prints the URL with its token)
	$(BIN)/jupyter lab --ip=127.0.0.1 $(if $(filter 0,$(LAB_UID)),--allow-root )chapters/

serve: book ## Serve the built book on http://127.0.0.1:8000
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(HTML) 8000

figures: $(STAMP) ## Redraw the diagrams into book/_static/figures/ (commit the SVGs)
	$(BIN)/python -m scripts.figures

lint: $(STAMP) ## Lint the Python code (ruff); check the notebooks, the glued numbers and the Chinese catalogues
	$(BIN)/ruff check shared/ scripts/ bench/ tests/ book/_ext/ conftest.py
	$(BIN)/python scripts/check_notebooks.py chapters/*.ipynb
	$(BIN)/python scripts/check_glue.py chapters/*.ipynb
	$(BIN)/python -m scripts.check_translations

bench: $(STAMP) ## Run the benchmark scripts (CPU; prints and records figures; about an hour)
	$(BIN)/python -m bench.train_speed
	$(BIN)/python -m bench.train_speed --report
	$(BIN)/python -m bench.variants
	$(BIN)/python -m bench.generation_speed --shape book
	$(BIN)/python -m bench.generation_speed --shape gpt2
	$(BIN)/python -m bench.compile_speed

clean: ## Remove the build output and the virtual environment (keeps data/)
	rm -rf _build $(VENV) .pytest_cache

# The Chinese edition: Sphinx extracts every message of the English pages, and sphinx-intl
# merges them into locale/zh_CN/LC_MESSAGES/*.po (new English: an empty or fuzzy entry to
# translate; gone English: dropped). `make lint` refuses what is left untranslated.
gettext: $(STAMP) ## Extract the English messages and update the Chinese catalogues (locale/zh_CN)
	rm -rf _build/gettext-extract
	$(BIN)/jupyter-book build . --path-output _build/gettext-extract --builder custom --custom-builder gettext --all
	$(BIN)/sphinx-intl update --pot-dir _build/gettext-extract/_build/gettext --language zh_CN --locale-dir locale --line-width 76
