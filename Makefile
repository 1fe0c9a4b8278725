# The two commands a newcomer needs: `make demo` and `make test`. Both install what is missing first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# Sanitizer builds and fuzzing (CI runs them after `make test`; .ci/run).
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 60
# The sanitizer and fuzz builds compile as unity builds (source files batched into one translation unit each):
# instrumented compiles are about twice as slow as release ones, and batching halves them again
# (bench/results/ci-steps.md). The default build stays one file per unit, so a missing #include still breaks it.
SAN_CMAKE_FLAGS ?= -DCMAKE_UNITY_BUILD=ON

.PHONY: all deps build test test-asan test-tsan fuzz demo bench package clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

# Every unit and integration test under AddressSanitizer and UndefinedBehaviorSanitizer. The sanitizer options
# the tests run under are set by the build directory (CMakeLists.txt, sanitizer_env.cmake); tests that cannot
# run instrumented carry the label no_asan, with the reason beside them (tests/CMakeLists.txt).
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCRASHGRID_SANITIZE=address,undefined $(SAN_CMAKE_FLAGS) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900 -LE no_asan

# The supervisor's and the sweep's tests (threads, signals, the watch loop, the executor) under ThreadSanitizer.
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCRASHGRID_SANITIZE=thread $(SAN_CMAKE_FLAGS) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(TSAN_BUILD) -j$(JOBS) --target cg_supervisor_test cg_sweep_test
	cd $(TSAN_BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900 -L "cg_(supervisor|sweep)_test" -LE no_tsan

# Each libFuzzer target for FUZZ_SECONDS on its seed corpus (fuzz/README.md).
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) SAN_CMAKE_FLAGS='$(SAN_CMAKE_FLAGS)' bash fuzz/run.sh

demo: build
	@bash scripts/demo.sh $(BUILD)

bench: build
	@bash bench/run-all.sh $(BUILD)

# The .deb (cmake/install.cmake): build/crashgrid_VERSION_ARCH.deb.
package: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-fuzz
