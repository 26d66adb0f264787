"""Benchmark scripts: they write results files; tests never time anything."""
