# banger: the two commands are `make demo` and `make test` (run as root on a
# fresh Debian 12 machine; both install what is missing first).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds `make fuzz` gives each target.
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
BANGER     := $(BUILD)/reconciler/banger

# Everything the build, the tests and the demo use, from Debian's archive.
DEB_PACKAGES := build-essential cmake ninja-build pkg-config git \
  libtomlplusplus-dev libsqlite3-dev libarchive-dev libzstd-dev \
  libcurl4-openssl-dev libssl-dev libssh2-1-dev nlohmann-json3-dev catch2 \
  libcli11-dev python3 python3-jsonschema python3-yaml sqlite3 \
  qemu-system-x86 qemu-utils busybox-static debootstrap fakeroot fakechroot \
  e2fsprogs xfsprogs cpio zstd iproute2 nftables openssh-client \
  docker-registry skopeo umoci curl ca-certificates util-linux procps \
  apache2-utils openssh-server python3-cryptography dnsmasq-base zsh fish \
  systemd-container
# What `make fuzz` adds: libFuzzer needs clang.
FUZZ_PACKAGES := clang-14 libfuzzer-14-dev

# The fuzz targets in tests/fuzz (each <name>_fuzz.cc, seeds in corpus/<name>).
FUZZ_TARGETS := $(patsubst tests/fuzz/%_fuzz.cc,%,$(wildcard tests/fuzz/*_fuzz.cc))

.PHONY: all deps fuzz-deps build test test-unit test-integration test-e2e test-crash test-asan fuzz demo bench clean

all: build

# $(call install_missing,PACKAGES): apt-get installs those not installed yet.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PACKAGES))

fuzz-deps: deps
	$(call install_missing,$(FUZZ_PACKAGES))

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	cd $(BUILD) && ctest --output-on-failure --timeout 3000

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

test-integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

test-e2e: build
	cd $(BUILD) && ctest --output-on-failure -L e2e --timeout 3000

# The crash sweep at every step boundary (tests/e2e/test_crash_steps.py);
# `make test` runs the same test on a sample of the points.
test-crash: deps build
	cd $(BUILD) && BANGER_CRASH_SWEEP=all ctest --output-on-failure -R e2e_test_crash_steps --timeout 7200

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBANGER_SANITIZE=ON

# Every test, the real binaries included, under AddressSanitizer + UBSan.
# UBSan findings are recoverable in this build (only printed), so
# halt_on_error makes one fail its test instead of passing unnoticed.
test-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure --timeout 3000

$(FUZZ_BUILD)/build.ninja:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBANGER_FUZZ=ON

# Each fuzz target for FUZZ_SECONDS under libFuzzer + ASan + UBSan, starting
# from its committed seeds; what it learns stays in $(FUZZ_BUILD)/corpus and
# a crashing input is written to $(FUZZ_BUILD)/crashes (commit it to
# tests/fuzz/corpus/<name>/ with the fix). Stops at the first finding.
fuzz: fuzz-deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_BUILD)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

demo: deps build
	BANGER_BIN=$(BANGER) /usr/bin/python3 examples/demo.py

bench: deps build
	/usr/bin/python3 tests/bench/run.py --banger $(BANGER)
	BANGER_BIN=$(BANGER) /usr/bin/python3 tests/bench/boot_bench.py
	/usr/bin/python3 tests/bench/oci_bench.py --banger $(BANGER)
	BANGER_BIN=$(BANGER) /usr/bin/python3 tests/bench/exec_bench.py
	BANGER_BIN=$(BANGER) /usr/bin/python3 tests/bench/workspace_bench.py
	BANGER_BIN=$(BANGER) /usr/bin/python3 tests/bench/clone_bench.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
