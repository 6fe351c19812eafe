# Two commands set up everything on a fresh machine: `make demo` and `make test`.
# Both create .venv on first use. torch is pinned on the same pip line as everything
# that depends on it (an unpinned torch pulls a multi-GB CUDA build).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test gui demo-model negative-control validate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing Mnemoscope and its dependencies into $(VENV) (about a minute)..."
	@$(BIN)/pip install -q torch==2.13.0 -e '.[controls,dev,gui,signing]' > $(VENV)/install.log 2>&1 \
		|| (grep -v 'is ignored' $(VENV)/install.log | tail -40; exit 1)
	@$(BIN)/python -m audit_core.validation.installation > /dev/null  # hashes for `validate`
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

# Rebuilds resources/controls/negative/ (a TINY model that never saw the demo's patients,
# its plan and ground truth) from its fixed seed; about five minutes on two cores.
negative-control: $(STAMP)
	$(BIN)/python -m audit_core.controls.negative resources/controls/negative resources/demo

# Self-validation. In a checkout, files change all day, so the installation record is
# rewritten first; an installed copy keeps the record made when it was installed.
validate: $(STAMP)
	$(BIN)/python -m audit_core.validation.installation
	$(BIN)/mnemoscope validate

clean:
	rm -rf out .pytest_cache
