# Two commands set up everything on a fresh machine: `make demo` and `make test`.
# Both create .venv on first use. torch is pinned on the same pip line as everything
# that depends on it (an unpinned torch pulls a multi-GB CUDA build).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test gui demo-model negative-control sensitive-control notes-control canary-control meds-example validate clean wheelhouse bundle lock

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing Mnemoscope and its dependencies into $(VENV) (about a minute)..."
	@$(BIN)/pip install -q torch==2.13.0 -e '.[controls,dev,gui,signing,cluster]' > $(VENV)/install.log 2>&1 \
		|| (grep -v 'is ignored' $(VENV)/install.log | tail -40; exit 1)
	@$(BIN)/python -m audit_core.tools.validation.installation > /dev/null  # hashes for `validate`
	@touch $(STAMP)

# out/demo is the demo's own folder: cleared first, because an audit never replaces the
# files of another audit (an earlier version's demo is one), see docs/plan-reference.md "Data files".
# compileall writes the package's bytecode even where PYTHONDONTWRITEBYTECODE is set
# (there every run compiled all of audit_core again, 0.36 s); when up to date, a 0.06 s check.
demo: $(STAMP)
	rm -rf out/demo
	@$(BIN)/python -m compileall -q audit_core > /dev/null
	$(BIN)/mnemoscope run resources/demo/plan.toml --out out/demo

# The static checks first (seconds; each prints one line when clean), then the tests.
# Their settings are in pyproject.toml: [tool.ruff], [tool.importlinter], [tool.mypy].
test: $(STAMP)
	$(BIN)/ruff check --quiet .
	@$(BIN)/lint-imports --no-logo > $(VENV)/lint-imports.log 2>&1 || (cat $(VENV)/lint-imports.log; exit 1)
	@tail -n 1 $(VENV)/lint-imports.log
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The desktop app (needs a display; see docs/desktop.md).
gui: $(STAMP)
	$(BIN)/mnemoscope-desktop

# Rebuilds resources/demo/ (model + cohorts) from the fixed seed; takes a few minutes.
demo-model: $(STAMP)
	$(BIN)/python -m audit_core.tools.controls.demo resources/demo

# Rebuilds resources/controls/negative/ (a TINY model that never saw the demo's patients,
# its plan and ground truth) from its fixed seed; about five minutes on two cores.
negative-control: $(STAMP)
	$(BIN)/python -m audit_core.tools.controls.negative resources/controls/negative resources/demo

# Rebuilds resources/controls/sensitive/ (a TINY model that memorized sensitive codes planted
# behind rare code pairs in 8 of its members; the T1/T2 known answers) from its fixed seed;
# a few minutes on two cores.
sensitive-control: $(STAMP)
	$(BIN)/python -m audit_core.tools.controls.sensitive resources/controls/sensitive resources/demo

# Rebuilds resources/examples/tabular/ (cohorts, overfit forest, reference) from its fixed
# seed; needs the controls extra (scikit-learn, skl2onnx). Seconds.
tabular-example: $(STAMP)
	$(BIN)/python -m audit_core.tools.controls.tabular_example resources/examples/tabular

# Rebuild the committed controls of the identifier and canary probes from their fixed
# seeds (TINY models; several minutes each on two busy cores).
notes-control: $(STAMP)
	$(BIN)/python -m audit_core.tools.controls.notes_control resources/controls/notes

canary-control: $(STAMP)
	$(BIN)/python -m audit_core.tools.controls.canary_control resources/controls/canaries

# Rebuilds resources/examples/meds/ (a synthetic MEDS dataset root, the EHRMamba-style model
# that memorised its planted subjects, and its counterpart trained on another split, with
# ground_truth.json) from its fixed seed; the plan files are written by hand.
meds-example: $(STAMP)
	$(BIN)/python -m audit_core.tools.controls.ehrmamba_control resources/examples/meds

# Self-validation. In a checkout, files change all day, so the installation record is
# rewritten first; an installed copy keeps the record made when it was installed.
validate: $(STAMP)
	$(BIN)/python -m audit_core.tools.validation.installation
	$(BIN)/mnemoscope validate

# Air gap (docs/install.md). Both build from the
# committed HEAD and use the package index at build time only; PyInstaller and pip-tools
# come from the `packaging` extra. Neither is part of `make test` (minutes, not seconds).
PACKAGING_STAMP := $(VENV)/.packaging-stamp
$(PACKAGING_STAMP): $(STAMP)
	$(BIN)/pip install -q torch==2.13.0 -e '.[packaging]' > $(VENV)/install-packaging.log 2>&1 \
		|| (grep -v 'is ignored' $(VENV)/install-packaging.log | tail -40; exit 1)
	@touch $@

# dist/wheelhouse/: every wheel of packaging/requirements.lock plus ours, SHA256SUMS, the
# SBOM, the demo and packaging/install-offline. About two minutes.
wheelhouse: $(PACKAGING_STAMP)
	AIRGAP_QUIET_PIP=1 nice -n 10 $(BIN)/python packaging/build.py wheelhouse

# dist/mnemoscope/ and its .tar.gz: the frozen app (PyInstaller, from a fresh venv installed
# from the wheelhouse), then its smoke test (frozen CLI audit + validate, frozen GUI
# offscreen); fails on anything missing. About ten minutes on two cores.
bundle: $(PACKAGING_STAMP)
	AIRGAP_QUIET_PIP=1 nice -n 10 $(BIN)/python packaging/build.py bundle

# Re-resolves the three lock files from pyproject.toml (needs the package index).
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: $(PACKAGING_STAMP)
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra gui --extra signing -o packaging/requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra gui --extra signing --extra packaging -o packaging/requirements-build.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --all-extras -o packaging/requirements-dev.lock pyproject.toml

clean:
	rm -rf out .pytest_cache
