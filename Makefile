# wedge's front door. `make run` and `make test` work on a fresh Debian 12 machine: they install
# what is missing (scripts/install-deps.sh), configure and build, then run or test.
PRESET ?= release
JOBS ?= $(shell nproc)
BUILD := build/$(PRESET)
# Arguments for `make run`, e.g. make run RUN_ARGS="--runs 100000 --set dulles.tact=0.9"
RUN_ARGS ?=

.PHONY: all deps configure build run test bench microbench check-sanitizers fuzz fuzz-smoke mutants clean help

all: build

help:
	@echo "make run    install deps, build, run the baseline experiment (10^6 runs, all cores),"
	@echo "            print its outcome table and write results/baseline.h5"
	@echo "make test   install deps, build, run every test"
	@echo "make build  build the $(PRESET) preset; the binary is $(BUILD)/wedge"
	@echo "make bench  the throughput harness (BENCH_ARGS=--quick or --json); make microbench"
	@echo "make check-sanitizers   every C++ test under TSan and under ASan+UBSan"
	@echo "make mutants           mutation testing (scripts/mutants; hours; MUTANTS_ARGS=\"--only ID\")"
	@echo "PRESET=dev (ASan+UBSan) or PRESET=tsan select another build"

deps:
	@bash scripts/install-deps.sh

configure: deps
	@mkdir -p build && cmake --preset $(PRESET) > $(BUILD).configure.log 2>&1 || { cat $(BUILD).configure.log; exit 1; }

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The baseline is deterministic (seed 1), so rewriting results/baseline.h5 reproduces it exactly.
run: build
	@mkdir -p results
	$(BUILD)/wedge run --out results/baseline.h5 --force $(RUN_ARGS)

# pytest needs the Python module, which only the release preset builds; the fuzz smoke run
# (a fixed seed and number of inputs, about a minute) runs with it.
test: build
	ctest --preset $(PRESET) -j $(JOBS)
ifeq ($(PRESET),release)
	$(MAKE) --no-print-directory fuzz-smoke
	PYTHONPATH=python /usr/bin/python3 -m pytest -q tests/python
endif

# Every C++ test under ThreadSanitizer and under AddressSanitizer + UBSan.
check-sanitizers: deps
	@mkdir -p build
	cmake --preset tsan > build/tsan.configure.log 2>&1 || { cat build/tsan.configure.log; exit 1; }
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS) -R 'test_'
	cmake --preset dev > build/dev.configure.log 2>&1 || { cat build/dev.configure.log; exit 1; }
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS) -R 'test_'

# Fuzzing the experiment loader and --set parser (libFuzzer, Debian's clang 14).
FUZZ_SECONDS ?= 60
FUZZ_BIN := build/fuzz/fuzz_experiment
FUZZ_SOURCES := tests/fuzz/fuzz_experiment.cpp experiments/loader.cpp experiments/experiment.cpp \
                experiments/designs.cpp agents/params.cpp
FUZZ_SEEDS := experiments/scenarios experiments/sweeps tests/bad_inputs tests/fuzz/regressions

$(FUZZ_BIN): $(FUZZ_SOURCES) $(wildcard experiments/*.hpp agents/*.hpp engine/*.hpp)
	@mkdir -p build/fuzz
	# Two defects of Debian 12's toml++ 3.3.0 are excluded so that the fuzzer tests wedge's code
	# (docs/reliability.md; inputs in tests/fuzz/regressions): an internal assert on malformed
	# table headers, and __builtin_unreachable in its Unicode tables (UBSan's "unreachable" check).
	clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize=unreachable \
	  -fno-sanitize-recover=undefined '-DTOML_ASSERT(expr)=((void)0)' -I. $(FUZZ_SOURCES) \
	  -ltomlplusplus -lfmt -ltbb -o $@

# make fuzz FUZZ_SECONDS=600: explore; new inputs go to build/fuzz/corpus, crashes to build/fuzz/
fuzz: deps $(FUZZ_BIN)
	@mkdir -p build/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	  -artifact_prefix=build/fuzz/ build/fuzz/corpus $(FUZZ_SEEDS)

# The smoke run of make test: a fixed seed and number of inputs, so it is the same every time.
fuzz-smoke: deps $(FUZZ_BIN)
	@rm -rf build/fuzz/smoke && mkdir -p build/fuzz/smoke
	@echo "fuzz smoke run: 30000 inputs, seed 1 (log: build/fuzz/smoke.log)"
	@$(FUZZ_BIN) -seed=1 -runs=30000 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	  -artifact_prefix=build/fuzz/ build/fuzz/smoke $(FUZZ_SEEDS) > build/fuzz/smoke.log 2>&1; \
	  code=$$?; grep -E "^Done|ERROR|SUMMARY|crash-|stat::number_of_executed_units" build/fuzz/smoke.log; exit $$code

# The end-to-end harness (table; --json for machines). Micro-benchmarks: make microbench.
bench: build
	/usr/bin/python3 benchmarks/harness.py $(BENCH_ARGS)

microbench: build
	$(BUILD)/benchmarks/wedge_benchmarks --benchmark_min_time=0.5

# Mutation testing, not part of make test (hours): each mutant of scripts/mutants/mutants.toml is
# applied to a scratch copy under build/mutants, rebuilt and tested (docs/testing.md).
MUTANTS_ARGS ?=
mutants: deps
	/usr/bin/python3 scripts/mutants/run.py --jobs $(JOBS) $(MUTANTS_ARGS)

clean:
	rm -rf build
