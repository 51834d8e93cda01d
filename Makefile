# stixgraph developer tasks.
#   make demo    generate the Caldera demo bundle and run stixgraph/demo/hunts/*.hf on it
#   make test    run the test suite
#   make bench   side-by-side benchmark against Kestrel v1 (BENCH_SIZES=10000,50000,200000)
#   make clean   remove build/ and bench/out/ (bundles, Kestrel venv); distclean also .venv
# Every target builds .venv (python3 from PATH) when missing and re-installs stixgraph into
# it when pyproject.toml changes.  Only pip talks to the network.

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip --disable-pip-version-check --no-input -q
BUILD       := build
DEMO_SIZE   ?= 5000
DEMO_SEED   ?= 808
DEMO_NOW    := 2024-12-20T00:00:00Z
DEMO_BUNDLE := $(BUILD)/caldera-$(DEMO_SIZE)-s$(DEMO_SEED).json
DEMO_DB     := $(BUILD)/demo.db
HUNTS       := $(sort $(wildcard stixgraph/demo/hunts/*.hf))

.PHONY: all demo test bench clean distclean
.DEFAULT_GOAL := demo

all: test demo

$(PY):
	$(PYTHON) -m venv $(VENV)

# stamps: one per install flavour, newer than pyproject.toml when the install is current
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed

$(DEMO_BUNDLE): stixgraph/demo/caldera.py | $(VENV)/.installed
	@mkdir -p $(BUILD)
	$(PY) -m stixgraph.demo.caldera $@ --size $(DEMO_SIZE) --seed $(DEMO_SEED)

demo: $(VENV)/.installed $(DEMO_BUNDLE)
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB)-journal
	@for hunt in $(HUNTS); do \
	  printf '\n=== %s\n' "$$hunt"; \
	  $(VENV)/bin/stixgraph hunt --now $(DEMO_NOW) --source splunk=$(abspath $(DEMO_BUNDLE)) \
	    --store $(DEMO_DB) "$$hunt" || exit $$?; \
	done

test: $(VENV)/.installed-test
	$(VENV)/bin/pytest -q

bench: $(VENV)/.installed
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD) bench/out .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
