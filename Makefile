# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Editable install: the source tree is what runs (envs/ is mapped to robonet.envs by pyproject).
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"

demo: install
	$(BIN)/robonet demo

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench

bench-quick: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info runs
