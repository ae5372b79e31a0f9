"""Benchmarks behind ``fercl bench`` and ``make bench``: speed targets are measured here, never in tests.

Each benchmark measures ours and the naive way in the same run on the same data (ratios survive a
noisy machine) and returns a :class:`~fercl_cli.bench.record.BenchResult` that can be written into a
marked section of ``docs/benchmarks.md``.
"""
