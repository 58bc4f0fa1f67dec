"""Load and scale benchmarks with their data generators; run with `python -m bench` (see docs/performance.md)."""
