# A thin wrapper: CMake is the build. `make run` and `make test` are the two
# commands a newcomer needs on a fresh Debian bookworm machine.
BUILD ?= build
JOBS  ?= $(shell nproc)
DATA  ?= ./data
LISTEN ?= 127.0.0.1:8080
CMAKE_FLAGS ?=
# The demo gateway of `make run-hub`.
HUB_DATA ?= ./data-hub
HUB_LISTEN ?= 127.0.0.1:8090

# No "make[1]: Entering directory" lines from the nested makes.
MAKEFLAGS += --no-print-directory

# Builds the targets $(1) quietly: the build's output is shown only if it fails
# (then in full, the compiler's errors included).
quiet_build = log=$$(cmake --build $(BUILD) -j $(JOBS) --target $(1) 2>&1) || { printf '%s\n' "$$log" >&2; exit 1; }

.PHONY: all deps configure build relais relais-hub run run-hub test asan fuzz bench clean deb deb-hub deb-arm64 image image-amd64 image-arm64 image-test image-test-arm64

all: build

# Installs the Debian packages the build needs, if any is missing (as root, or through sudo).
deps:
	@scripts/install-deps.sh build

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

# Everything, tests included.
build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Only the box's server, or only the gateway, quietly.
relais: configure
	@echo "Building relais (the first time takes a few minutes)..."
	@$(call quiet_build,relais)
relais-hub: configure
	@echo "Building relais-hub (the first time takes a few minutes)..."
	@$(call quiet_build,relais-hub)

# A demo school on this machine: prints where it listens and the demo accounts.
run: relais
	@$(BUILD)/relais serve --data $(DATA) --listen $(LISTEN) --demo

# A demo gateway (SQLite in $(HUB_DATA)) with one school, and what to do next.
run-hub: relais-hub
	@scripts/run-hub.sh $(BUILD)/relais-hub $(HUB_DATA) $(HUB_LISTEN) $(BUILD)/relais $(DATA)

# The gateway's store is tested against a real PostgreSQL server (started by the tests).
test: build
	@scripts/install-deps.sh pg
	@scripts/install-deps.sh e2e
	@cd $(BUILD) && ctest --output-on-failure -j 2

# The suite under AddressSanitizer + UBSan; a finding fails its test (CMakeLists.txt sets
# halt_on_error for the tests). Debug, so slower: see docs/fuzzing.md for what it runs and its time.
asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRELAIS_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@scripts/install-deps.sh pg
	@scripts/install-deps.sh e2e
	@cd build-asan && ctest --output-on-failure -j 2

# Every libFuzzer target for FUZZ_SECONDS each over its seed corpus (docs/fuzzing.md).
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/install-deps.sh fuzz
	@scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	@scripts/install-deps.sh bench
	@bench/run.sh

# The SD image (image/README.md). Needs root (chroot) and the `image` packages;
# the first build downloads Debian packages, later ones reuse build-image/cache/.
# `make image-test` boots the amd64 variant under QEMU/KVM: slow, not part of `make test`.
deb:
	@scripts/install-deps.sh build && scripts/install-deps.sh image
	@image/deb/build-deb.sh amd64
deb-arm64:
	@scripts/install-deps.sh build && scripts/install-deps.sh image
	@image/deb/build-deb.sh arm64
# The gateway's package, relais-hub (amd64): build-image/relais-hub_VERSION_amd64.deb.
deb-hub:
	@scripts/install-deps.sh build
	@image/deb/build-deb.sh amd64 relais-hub
image: image-arm64
image-arm64:
	@scripts/install-deps.sh build && scripts/install-deps.sh image
	@image/build.sh arm64
image-amd64:
	@scripts/install-deps.sh build && scripts/install-deps.sh image
	@image/build.sh amd64
image-test: image-amd64
	@image/test/image_test.py build-image/amd64 build-image/relais-amd64.img
# Boots the arm64 image once under qemu-system-aarch64 -M virt (slow).
image-test-arm64: image-arm64
	@image/test/boot_arm64.sh build-image

clean:
	rm -rf $(BUILD) build-asan build-fuzz
