"""Benchmarks: each library side by side in one run, medians printed as a table.

Run one with ``uv run --all-packages python -m bench.<name>``. Timings live
here, never as assertions in tests (DESIGN.md, Performance method).
"""
