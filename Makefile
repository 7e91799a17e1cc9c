# The two commands of the README:
#   make demo   installs what is missing, builds, runs the country flow
#   make test   installs what is missing, builds, runs every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: setup configure build demo test bench asan tsan fuzz fuzz-build ci-sanitizers package package-test clean

setup:
	./scripts/setup.sh

configure: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/examples/country_flow run

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Every benchmark, each printing its figures beside its baseline, then one
# table of them all (bench/run_all.py).
bench: build
	python3 bench/run_all.py --build $(BUILD)

# Sanitizer builds of the whole tree, each in its own directory.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DGARCON_SANITIZE=address,undefined"

tsan:
	$(MAKE) test BUILD=build-tsan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DGARCON_SANITIZE=thread"

# libFuzzer fuzzers (fuzz/), clang 14 with ASan+UBSan, in build-fuzz: each
# runs FUZZ_SECONDS on a copy of its seed corpus; fails on any finding.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TESTS ?= OFF
FUZZERS ?= request_fuzzer sigv4_fuzzer http_fuzzer decider_fuzzer store_fuzzer
FUZZ_CXX_FLAGS ?= -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz-build: setup
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGARCON_FUZZ=ON -DGARCON_BUILD_TESTS=$(FUZZ_TESTS) \
	  -DGARCON_BUILD_EXAMPLES=$(FUZZ_TESTS) -DGARCON_BUILD_BENCH=OFF "-DCMAKE_CXX_FLAGS=$(FUZZ_CXX_FLAGS)"
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: fuzz-build
	./fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZERS)

# CI's sanitizer stage (after `make test`), sized for 2 cores:
# - ThreadSanitizer (gcc, Debug) on every C++ test but the SIGKILL crash
#   tests (they time kills in milliseconds, meaningless at TSan's speed) and
#   the suites that drive whole programs rather than threads (the Python
#   ones: conformance, distributed, cli; and console, a browser);
# - one clang build with ASan+UBSan (and libFuzzer's coverage hooks) runs the
#   whole suite (the Python suites and the console test drive its `garcon`
#   binary: the console's files served under ASan), every past
#   fuzz finding, then each fuzzer for CI_FUZZ_SECONDS.
CI_FUZZ_SECONDS ?= 30
TSAN_EXCLUDE ?= conformance|distributed|^cli$$|^console$$|server_soak|client_signing|CrashTest
ci-sanitizers: setup
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGARCON_SANITIZE=thread -DGARCON_BUILD_BENCH=OFF
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && ctest -j $(JOBS) --output-on-failure -E '$(TSAN_EXCLUDE)'
	$(MAKE) fuzz-build FUZZ_TESTS=ON
	cd $(FUZZ_BUILD) && ctest -j $(JOBS) --output-on-failure -E 'server_soak'
	./fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(CI_FUZZ_SECONDS) $(FUZZERS)

# The .deb (CPack), from a Release build for /usr in build-package: the
# libraries (static, position-independent), the headers, the CMake package
# and garcon.pc, the garcon command and the garcon service (a systemd unit
# run as the garcon user, state in /var/lib/garcon). docs/install.md.
PACKAGE_BUILD ?= build-package
package: setup
	cmake -S . -B $(PACKAGE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DGARCON_INSTALL_SYSTEMD=ON -DGARCON_BUILD_TOOLS=ON \
	  -DGARCON_BUILD_TESTS=OFF -DGARCON_BUILD_EXAMPLES=OFF -DGARCON_BUILD_BENCH=OFF
	cmake --build $(PACKAGE_BUILD) -j $(JOBS)
	rm -f $(PACKAGE_BUILD)/garcon_*.deb
	cd $(PACKAGE_BUILD) && cpack -G DEB
	@ls $(PACKAGE_BUILD)/garcon_*.deb

# Installs that .deb into this machine (apt-get, as root), checks the
# service's user, state directory and unit, builds and runs programs against
# it, then purges it (packaging/test_package.sh). For CI machines.
package-test: package
	./packaging/test_package.sh $(PACKAGE_BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan $(FUZZ_BUILD) $(PACKAGE_BUILD)
