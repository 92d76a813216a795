"""Benchmarks of the LRS against a running server (never timed asserts in tests)."""
