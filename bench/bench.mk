# bench/bench.mk: the benchmark's part of the build (included by Makefile.am).
