# gemgate -- convenience entry points.  See README.md.
#   make run    install missing packages, build, start gemgated (embedded SQLite)
#   make test   install missing packages, build (normal + ASan), run every suite
#   make demo   start the fake upstream + gemgated wired to it with a demo account
#   make bench  run the benchmarks (docs/BENCHMARKS.md)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps test-deps build web run demo test bench clean

all: build

deps:
	@packaging/install-deps.sh

test-deps:
	@packaging/install-deps.sh --test

web/dist/index.html: web/package.json web/package-lock.json $(shell find web/src -type f 2>/dev/null) web/index.html
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent

web: web/dist/index.html

# The web console needs Node >= 20 at build time only; without it the daemon
# still builds and runs (the API works, /admin answers 404 until it is built).
build: deps
	@$(MAKE) --no-print-directory web || echo "warning: web console not built (needs node >= 20 and npm); continuing without /admin"
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

run: build
	mkdir -p data
	./$(BUILD)/daemon/gemgated

demo: build
	tests/demo.sh

test: test-deps web
	tests/run_all.sh

bench: build
	bench/run.sh && bench/pool429.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz web/dist
