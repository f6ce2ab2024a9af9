# A thin layer over CMake: the commands a class types.
#   make        build every lesson into build/bin/
#   make tour   build, then run class 1's walkthrough: lessons 1-5, each --demo in order
#   make tour-2 the same for class 2: lessons 6-10
#   make test   build and run all tests (unit, end-to-end, browser)
#   make asan   the tests again under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz   run each libFuzzer target briefly (clang)
#   make bench  the speed and memory benchmarks
#   make chat   start the chat room (lesson 5)
#   make exercises  check your exercises/ (SOLUTIONS=1: the library's own answers)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
# CI passes CMAKE_ARGS=-DWS_WERROR=ON: warnings are errors there, not on a student's compiler.
CMAKE_ARGS ?=

.PHONY: all deps tour tour-2 test asan fuzz bench chat exercises clean

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps.sh

tour: all
	@scripts/tour.sh $(BUILD)/bin

tour-2: all
	@scripts/tour.sh $(BUILD)/bin 2

test:
	@scripts/install-deps.sh --browser
	@$(MAKE) --no-print-directory all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWS_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS) -LE browser

fuzz: deps
	@scripts/install-deps.sh --fuzz
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DWS_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_http fuzz_frame fuzz_socketio
	@mkdir -p build-fuzz/corpus-http build-fuzz/corpus-frame build-fuzz/corpus-socketio
	build-fuzz/bin/fuzz_http -max_total_time=$${FUZZ_SECONDS:-30} build-fuzz/corpus-http fuzz/corpus/http
	build-fuzz/bin/fuzz_frame -max_total_time=$${FUZZ_SECONDS:-30} build-fuzz/corpus-frame fuzz/corpus/frame
	build-fuzz/bin/fuzz_socketio -max_total_time=$${FUZZ_SECONDS:-30} build-fuzz/corpus-socketio fuzz/corpus/socketio

bench: all
	@scripts/bench.sh $(BUILD)/bin

# The stubs as shipped say "not yet" and exit 0; SOLUTIONS=1 must say "done" for every one.
exercises: all
ifeq ($(SOLUTIONS),1)
	@$(BUILD)/bin/exercise_checks --expect-all-done --solutions
else
	@cmake --build $(BUILD) -j $(JOBS) --target exercise_checks_student student_lessons
	@$(BUILD)/bin/exercise_checks_student
endif

chat: all
	$(BUILD)/bin/lesson5-chat

clean:
	rm -rf $(BUILD) build-asan build-fuzz
