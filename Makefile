# SPDX-License-Identifier: ISC
# Thin wrapper around meson; see README.md.  Both entry points first install
# any missing Debian packages (scripts/deps.sh, needs root or sudo).
BUILD ?= build

all: build

deps:
	sh scripts/deps.sh

build: deps
	@test -f $(BUILD)/build.ninja || meson setup $(BUILD)
	ninja -C $(BUILD)

demo: build
	sh scripts/demo.sh $(BUILD)

test: deps
	bash scripts/ci.sh

# make bench [BENCH_ARGS=--quick]: the POI benchmark beside the baseline
# revision in bench/BASELINE (bench/README.md).
bench: deps
	@test -f build-bench/build.ninja || \
	    meson setup build-bench --buildtype=release -Db_ndebug=true
	ninja -C build-bench
	bash bench/run.sh --build build-bench $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) out build-bench

.PHONY: all deps build demo test bench clean
