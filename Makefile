# A thin wrapper: CMake is the build. `make run` and `make test` are the two
# commands a newcomer needs on a fresh Debian bookworm machine.
BUILD ?= build
JOBS  ?= $(shell nproc)
DATA  ?= ./data
LISTEN ?= 127.0.0.1:8080
CMAKE_FLAGS ?=

.PHONY: all deps configure build relais run test asan bench clean

all: build

# Installs the Debian packages the build needs, if any is missing (as root, or through sudo).
deps:
	@scripts/install-deps.sh build

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

# Everything, tests included.
build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Only the server.
relais: configure
	@cmake --build $(BUILD) -j $(JOBS) --target relais

run: relais
	$(BUILD)/relais serve --data $(DATA) --listen $(LISTEN) --demo

# The gateway's store is tested against a real PostgreSQL server (started by the tests).
test: build
	@scripts/install-deps.sh pg
	@cd $(BUILD) && ctest --output-on-failure -j 2

asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRELAIS_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure

bench: build
	@scripts/install-deps.sh bench
	@bench/run.sh

clean:
	rm -rf $(BUILD) build-asan
