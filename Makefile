# SPDX-License-Identifier: MIT
# The targets people type. Meson does the building; this file only strings the steps together.
#   make run     install what is missing, build, start the demo on http://127.0.0.1:8080
#   make check   every test: unit, fuzz corpus, integration, browser (Chromium), format; again
#                under ASan+UBSan; the integration suite once more under TSan
#   make bench   benchmarks, figures into bench/RESULTS.md
#   make format  reformat the C sources
#   make fuzz    run the libFuzzer targets for a while (clang)
#   make clean   remove build output

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
DEMO_DATA  ?= data/demo
LISTEN     ?= 127.0.0.1:8080
SOURCES     = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find src tests bench -name '*.[ch]')
FUZZ_SECONDS ?= 60

.PHONY: all run check bench format format-check fuzz clean deps-run deps-check unit integration \
        asan-unit asan-integration tsan-integration build asan-build web-deps browser

all: build

deps-run:
	@scripts/deps.sh run

deps-check:
	@scripts/deps.sh check

# The web app's packages (esbuild, Preact, ...) from npm, as web/package-lock.json pins them.
WEB_STAMP = web/node_modules/.package-lock.json
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web-deps: $(WEB_STAMP)

$(BUILD)/build.ninja: | web-deps
	meson setup $(BUILD) --buildtype=debugoptimized

build: $(BUILD)/build.ninja web-deps
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

asan-build: $(ASAN_BUILD)/build.ninja web-deps
	ninja -C $(ASAN_BUILD)

run: deps-run build
	@mkdir -p $(dir $(DEMO_DATA))
	$(BUILD)/knotenpunkt demo --data $(DEMO_DATA) --listen $(LISTEN)

unit: build
	meson test -C $(BUILD) --print-errorlogs --suite unit --suite fuzz

integration: build
	python3 tests/integration/run.py $(BUILD)/knotenpunkt

# The web app and the widget in Debian's Chromium, driven by playwright-core (tests/browser);
# screenshots go to $(BUILD)/browser-artifacts.
browser: build
	node tests/browser/run.mjs $(BUILD)/knotenpunkt $(BUILD)/browser-artifacts

export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1

asan-unit: asan-build
	meson test -C $(ASAN_BUILD) --print-errorlogs --suite unit --suite fuzz

asan-integration: asan-build
	KP_SANITIZED=1 python3 tests/integration/run.py $(ASAN_BUILD)/knotenpunkt

# ThreadSanitizer over the integration suite: the event loops, the writer and the bus share
# data. Skipped (with a note) where the kernel's address layout does not suit TSan.
$(TSAN_BUILD)/build.ninja:
	meson setup $(TSAN_BUILD) --buildtype=debug -Db_sanitize=thread -Db_lundef=false

tsan-integration: $(TSAN_BUILD)/build.ninja web-deps
	ninja -C $(TSAN_BUILD) knotenpunkt
	@if $(TSAN_BUILD)/knotenpunkt version >/dev/null 2>&1; then \
	  TSAN_OPTIONS="report_signal_unsafe=0 suppressions=$(CURDIR)/tests/tsan.supp" KP_SANITIZED=1 \
	    python3 tests/integration/run.py $(TSAN_BUILD)/knotenpunkt; \
	else echo "tsan: ThreadSanitizer cannot run on this machine, skipped"; fi

format-check:
	@bad=$$(for f in $(SOURCES); do clang-format --dry-run -Werror $$f >/dev/null 2>&1 || echo $$f; done); \
	if [ -n "$$bad" ]; then echo "not formatted (run make format):"; echo "$$bad"; exit 1; fi
	@echo "format: ok"

check: deps-check
	$(MAKE) format-check
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) browser
	$(MAKE) asan-unit
	$(MAKE) asan-integration
	$(MAKE) tsan-integration
	@echo "make check: all passed"

bench: web-deps
	@scripts/deps.sh bench
	meson setup build-release --buildtype=release >/dev/null 2>&1 || true
	ninja -C build-release
	KP_BIN=build-release/knotenpunkt KP_BENCH_BUILD=build-release bench/run.sh

format:
	clang-format -i $(SOURCES)

fuzz: web-deps
	@scripts/deps.sh fuzz
	CC=clang meson setup build-fuzz -Dfuzzing=true -Db_lundef=false >/dev/null 2>&1 || true
	ninja -C build-fuzz
	for t in http1 json websocket smtp mime html; do mkdir -p build-fuzz/corpus-$$t; \
	  build-fuzz/tests/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-$$t tests/fuzz/corpus/$$t; done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) build-release build-fuzz
