# stixgraph developer tasks.
#   make demo    the seed's hunts (stixgraph/demo/hunts/*.hf) through stix-shifter against the
#                Splunk emulator serving the Caldera demo scenario (stixgraph demo)
#   make test    run the test suite
#   make bench   side-by-side benchmarks: the scale hunt against Kestrel v1
#                (BENCH_SIZES=10000,50000,200000), then Splunk rows into the store against
#                plain stix-shifter translation (BENCH_SPLUNK_ROWS=100000), then TAXII: post and
#                page 100k objects, stixgraph's server against medallion (BENCH_TAXII_OBJECTS)
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
DEMO_DB     := $(BUILD)/demo.db

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

# the demo's store is kept in build/demo.db for `stixgraph vars|disp|graph --store build/demo.db`
demo: $(VENV)/.installed
	@mkdir -p $(BUILD)
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB)-journal
	$(VENV)/bin/stixgraph demo --size $(DEMO_SIZE) --seed $(DEMO_SEED) --store $(DEMO_DB) \
	    --display-dir $(BUILD)/displays

test: $(VENV)/.installed-test
	$(VENV)/bin/pytest -q

bench: $(VENV)/.installed-test  # bench/taxii.py runs medallion (a test extra)
	$(PY) bench/run.py
	$(PY) bench/splunk.py
	$(PY) bench/taxii.py

clean:
	rm -rf $(BUILD) bench/out .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
