# The two commands of the README:
#   make demo   installs what is missing, builds, runs the country flow
#   make test   installs what is missing, builds, runs every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: setup configure build demo test bench asan tsan clean

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

# Every benchmark, each printing its figures beside its baseline.
bench: build
	$(BUILD)/bench/durable_bench
	python3 bench/flows_bench.py --build $(BUILD)
	$(BUILD)/bench/engine_bench
	$(BUILD)/bench/decider_replay_bench
	$(BUILD)/bench/server_bench/server_bench

# Sanitizer builds of the whole tree, each in its own directory.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DGARCON_SANITIZE=address,undefined"

tsan:
	$(MAKE) test BUILD=build-tsan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DGARCON_SANITIZE=thread"

clean:
	rm -rf $(BUILD) build-asan build-tsan
