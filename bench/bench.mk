# bench/bench.mk: the benchmark's part of the build (included by Makefile.am).
#
# Owns: the load generator and the floor server (built by `make`, never
# installed), the smoke test that `make check` runs, and `make bench`,
# which runs the whole benchmark (bench/run) and writes bench/RESULTS.md.

BENCH_CFLAGS = $(WARN_CFLAGS) $(SAN_CFLAGS)

# noinst_PROGRAMS is set here with "=": Makefile.am does not set it, and
# automake refuses "+=" on a variable not set before.
noinst_PROGRAMS = bench/loadgen bench/floor
bench_loadgen_SOURCES = bench/loadgen.c \
	bench/lg_engine.c bench/lg_engine.h \
	bench/lg_hist.c bench/lg_hist.h \
	bench/lg_proc.c bench/lg_proc.h \
	bench/lg_verify.c bench/lg_verify.h
bench_loadgen_CFLAGS = $(BENCH_CFLAGS)
bench_floor_SOURCES = bench/floor.c
bench_floor_CFLAGS = $(BENCH_CFLAGS)

# The smoke test: one short run of each mode against echod; no speed asserted.
TESTS += bench/smoke
TESTS_ENVIRONMENT += LOADGEN='$(abs_top_builddir)/bench/loadgen'; export LOADGEN;
EXTRA_DIST += bench/run bench/smoke bench/RESULTS.md

# The benchmark itself: minutes, not a test. Results go to bench/RESULTS.md
# in the source tree (override with BENCH_RESULTS=file).
BENCH_RESULTS = $(abs_top_srcdir)/bench/RESULTS.md
bench: src/echod bench/loadgen bench/floor
	ECHOD='$(abs_top_builddir)/src/echod' \
	LOADGEN='$(abs_top_builddir)/bench/loadgen' \
	FLOOR='$(abs_top_builddir)/bench/floor' \
	RESULTS='$(BENCH_RESULTS)' \
	bash '$(abs_top_srcdir)/bench/run'
.PHONY: bench
