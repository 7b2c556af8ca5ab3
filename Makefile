# Thin wrapper around CMake.  `make` builds build/sipwall (optimised);
# `make test` builds build-asan/ with ASan+UBSan and runs every test and a
# short fuzz run; `make demo` screens the bundled capture.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15
CMAKE ?= cmake

.PHONY: all deps build demo test unit fuzz fuzz-smoke bench clean examples install
PREFIX ?= /usr/local
DESTDIR ?=

all: build

deps:
	@scripts/install-deps

build: deps
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSW_BUILD_TESTS=OFF >/dev/null
	@$(CMAKE) --build $(BUILD) -j $(JOBS)

demo: build
	@echo "== sipwall check examples/demo.pcap: default FS.38 policy + the demo network, against its labels"
	./$(BUILD)/sipwall check --policy builtin:default --policy examples/demo.policy \
	  --events $(BUILD)/demo-events.jsonl --report $(BUILD)/demo-report.html \
	  --labels examples/demo.labels.tsv examples/demo.pcap
	@echo "== one event per kind (all in $(BUILD)/demo-events.jsonl; report: $(BUILD)/demo-report.html):"
	@python3 -c 'import json,sys; seen=set(); [ (seen.add(e["event_type"]), print(json.dumps(e)[:400])) for e in map(json.loads, open(sys.argv[1])) if e["event_type"] not in seen ]' $(BUILD)/demo-events.jsonl

unit: deps
	@$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSW_SANITIZE=ON >/dev/null
	@$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# the optimised build first (gcc -O2 finds warnings the Debug build does not,
# and make demo needs it), fuzzing next, so the closing lines are ctest's summary
test: build fuzz-smoke unit

$(FUZZ_BUILD)/.configured: deps
	@CC=clang $(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSW_BUILD_FUZZ=ON \
	  -DSW_BUILD_TESTS=OFF >/dev/null
	@touch $@

fuzz-smoke: $(FUZZ_BUILD)/.configured
	@$(CMAKE) --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS)

fuzz: $(FUZZ_BUILD)/.configured
	@$(CMAKE) --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: deps
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSW_BUILD_TESTS=OFF -DSW_BUILD_BENCH=ON >/dev/null
	@$(CMAKE) --build $(BUILD) -j $(JOBS)
	@bench/run $(BUILD)
	@bench/proxy/run $(BUILD)

# Installs the programs, docs, examples, systemd unit, logrotate file and
# /etc/sipwall/sipwalld.conf (cmake/install.cmake; README "Installing").
# PREFIX (default /usr/local) and DESTDIR as usual.  Builds $(BUILD) first
# when it has not been configured yet; an existing build dir is installed
# as it is configured.
install:
	@[ -f $(BUILD)/CMakeCache.txt ] || $(MAKE) build
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target sipwall sipwalld
	DESTDIR="$(DESTDIR)" $(CMAKE) --install $(BUILD) --prefix "$(PREFIX)"

# Re-makes examples/demo.pcap with SIPp and SIPVicious on loopback (needs root for tcpdump).
examples: build
	scripts/make-demo-capture examples/demo.pcap

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
