# Two commands set up everything on a fresh machine: `make demo` and `make test`.
# Both create .venv on first use. torch is pinned on the same pip line as everything
# that depends on it (an unpinned torch pulls a multi-GB CUDA build).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test gui demo-model clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing Mnemoscope and its dependencies into $(VENV) (about a minute)..."
	@$(BIN)/pip install -q torch==2.13.0 -e '.[controls,dev,gui,signing]' > $(VENV)/install.log 2>&1 \
		|| (grep -v 'is ignored' $(VENV)/install.log | tail -40; exit 1)
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mnemoscope run resources/demo/plan.toml --out out/demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The desktop app (needs a display; see README "Desktop app").
gui: $(STAMP)
	$(BIN)/mnemoscope-desktop

# Rebuilds resources/demo/ (model + cohorts) from the fixed seed; takes a few minutes.
demo-model: $(STAMP)
	$(BIN)/python -m audit_core.controls.demo resources/demo

clean:
	rm -rf out .pytest_cache
