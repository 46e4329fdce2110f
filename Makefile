# KioskPOS: `make run` (demo mode) and `make test` both start with `make setup`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# System packages the tests and the demo need; installed only when running as root on a Debian-like system.
APT_PACKAGES := python3-venv python3-dev gcc strace sqlite3 pcscd vsmartcard-vpcd libpcsclite-dev fonts-dejavu-core fonts-wqy-microhei libgl1 libegl1 libmtdev1 xvfb
# The deployment checks (tests/deploy): shellcheck for kiosk/*.sh, and systemd for `systemd-analyze verify/security`.
APT_PACKAGES += shellcheck systemd
# The independent ISO 8583 decoder the 8583 tests check our frames with (Wireshark's dissector).
APT_PACKAGES += tshark
# The QR tests: zbarimg reads back the codes the terminal draws, independently of our own code.
APT_PACKAGES += zbar-tools
# The clock tests (tests/integration/test_clock.py) move the `pos` process's clock with libfaketime.
APT_PACKAGES += faketime

.PHONY: setup system-packages run test lint typecheck unit bench bench-quick screens clean

setup: system-packages $(VENV)/.installed

system-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "installing system packages:" $$missing; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "KioskPOS needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

run: setup
	$(BIN)/pos app

lint: setup
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q tests/unit

test: lint typecheck
	$(BIN)/pytest -q

# Every figure in the README's benchmark section, in its order (engine, EMV kernel, slips, app).
bench: setup
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.emv
	$(BIN)/python -m bench.slips
	$(BIN)/python -m bench.ui

# A smoke run of every benchmark for CI: it must run to the end; its figures are not checked (and not for the README).
bench-quick: setup
	$(BIN)/python -m bench.engine --quick
	$(BIN)/python -m bench.emv --repeats 2
	$(BIN)/python -m bench.slips --runs 2
	$(BIN)/python -m bench.ui --runs 1

# A picture of every screen, both languages, both display sizes (one Kivy window per process: one run per size).
screens: setup
	rm -rf docs/screens/800x480 docs/screens/1280x800
	KIOSKPOS_SCREENS_DIR=docs/screens $(BIN)/pytest -q tests/ui/test_screen_tour.py -k tour_of
	KIOSKPOS_SCREENS_DIR=docs/screens KIOSKPOS_UI_SIZE=1280x800 $(BIN)/pytest -q tests/ui/test_screen_tour.py -k tour_of

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The issue's 100,000 mutated 8583 answers (the suite runs 1,000), and the 8583 codec's speed.
.PHONY: fuzz-iso8583 bench-iso8583
fuzz-iso8583: setup
	ISO8583_FUZZ_EXAMPLES=100000 $(BIN)/pytest -q tests/unit/test_iso8583_fuzz.py

bench-iso8583: setup
	$(BIN)/python -m bench.iso8583
