# wedge's front door. `make run` and `make test` work on a fresh Debian 12 machine: they install
# what is missing (scripts/install-deps.sh), configure and build, then run or test.
PRESET ?= release
JOBS ?= $(shell nproc)
BUILD := build/$(PRESET)
# Arguments for `make run`, e.g. make run RUN_ARGS="--runs 100000 --set dulles.tact=0.9"
RUN_ARGS ?=

.PHONY: all deps configure build run test bench microbench check-sanitizers fuzz fuzz-build fuzz-smoke fuzz-results mutants clean help

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
# (a fixed seed and number of inputs, about a minute; its own preset, clang) runs with it.
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

# Fuzzing the experiment loader and --set parser: the preset fuzz (Debian's clang 14, libFuzzer)
# builds build/fuzz/fuzz_experiment (tests/fuzz/CMakeLists.txt).
FUZZ_SECONDS ?= 60
FUZZ_BIN := build/fuzz/fuzz_experiment
FUZZ_SEEDS := experiments/scenarios experiments/sweeps experiments/calibrate tests/bad_inputs \
  tests/fuzz/regressions

fuzz-build: deps
	@mkdir -p build && cmake --preset fuzz > build/fuzz.configure.log 2>&1 || { cat build/fuzz.configure.log; exit 1; }
	@cmake --build --preset fuzz -j $(JOBS)

# make fuzz FUZZ_SECONDS=600: explore; new inputs go to build/fuzz/corpus, crashes to build/fuzz/
fuzz: fuzz-build
	@mkdir -p build/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	  -artifact_prefix=build/fuzz/ build/fuzz/corpus $(FUZZ_SEEDS)

# The smoke run of make test (a ctest of the fuzz preset): a fixed seed and number of inputs, so
# it is the same every time.
fuzz-smoke: fuzz-build
	@ctest --preset fuzz

# Fuzzing the results-file reader: arbitrary bytes read as `wedge inspect` reads a file (the
# preset fuzz builds build/fuzz/fuzz_results, tests/fuzz/CMakeLists.txt), seeded with healthy and
# crafted files (tests/fuzz/results_seeds.sh, which needs the release build's wedge).
# make fuzz-results FUZZ_SECONDS=600: explore; crashes go to build/fuzz/results-*
FUZZ_RESULTS_BIN := build/fuzz/fuzz_results
FUZZ_RESULTS_SEEDS := build/fuzz/results-seeds

fuzz-results: build fuzz-build
	@[ -d $(FUZZ_RESULTS_SEEDS) ] || bash tests/fuzz/results_seeds.sh $(BUILD)/wedge $(FUZZ_RESULTS_SEEDS)
	@mkdir -p build/fuzz/results-corpus
	ASAN_OPTIONS=detect_leaks=0 $(FUZZ_RESULTS_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=1048576 -rss_limit_mb=2048 \
	  -timeout=10 -detect_leaks=0 -artifact_prefix=build/fuzz/results- build/fuzz/results-corpus $(FUZZ_RESULTS_SEEDS)

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
