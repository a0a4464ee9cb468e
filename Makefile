# Transformer from Scratch: build, run and test the book.
# Every target creates the virtual environment from requirements.txt on first use,
# and again whenever requirements.txt changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTML   := _build/html

export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.DEFAULT_GOAL := help
.PHONY: help book test test-unit test-notebooks test-browser execute lab serve lint clean bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

book: $(STAMP) ## Build the HTML book into _build/html (shows the stored outputs)
	$(BIN)/python scripts/build_book.py
	@echo "Open $(CURDIR)/$(HTML)/index.html in a browser (or run: make serve)"

test: $(STAMP) ## Run every test: unit tests, every chapter under nbval, the built book in a browser
	$(BIN)/python scripts/build_book.py
	TFS_OFFLINE=1 $(BIN)/python -m pytest

execute: $(STAMP) ## Re-run every chapter in place from a fresh kernel, top to bottom (NB=chapters/01_*.ipynb for one)
	$(BIN)/python scripts/execute_notebooks.py $(or $(NB),chapters/*.ipynb)

lab: $(STAMP) ## Open the chapters in JupyterLab
	$(BIN)/jupyter lab chapters/

serve: book ## Serve the built book on http://127.0.0.1:8000
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(HTML) 8000

lint: $(STAMP) ## Check that every notebook is valid and was saved from one clean run
	$(BIN)/python scripts/check_notebooks.py chapters/*.ipynb

bench: $(STAMP) ## Run the benchmark scripts (CPU; prints figures)
	$(BIN)/python bench/train_speed.py
	$(BIN)/python bench/generation_speed.py
	$(BIN)/python bench/gpt2_generation_speed.py

clean: ## Remove the build output and the virtual environment (keeps data/)
	rm -rf _build $(VENV) .pytest_cache
