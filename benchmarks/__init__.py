"""prestoha's benchmarks: one module per benchmark of BENCHMARKS.md, plus the reliability soak.

Run one with ``python -m benchmarks.<name>`` from the repository root, or all of them with
``make bench`` (``python -m benchmarks``). Each starts the processes it needs on 127.0.0.1,
prints one JSON object on its last line and writes it to ``benchmarks/results/<name>.json``.
"""
