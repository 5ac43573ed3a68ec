"""Roomcraft's benchmarks: ``make bench`` (``uv run python -m bench``); see bench/README.md.

Not shipped and not imported by the application; results go to ``bench/results/*.json``.
"""
