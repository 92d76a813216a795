"""The metrics of ANALYTICS.md sections 2-5, computed from a warehouse snapshot.

One module per metric family. Each exposes a pure ``compute(con, params) -> dict`` that takes
a read-only DuckDB cursor on a snapshot (:mod:`analytics.snapshot`) and the validated request
parameters, and returns the JSON body of its endpoint built with :func:`common.envelope`.
Counts, quantiles and curves are computed in DuckDB SQL; SciPy does the inference.
"""
