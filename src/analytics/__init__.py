"""Learning analytics over the LRS: the DuckDB warehouse, its sync, exports and metrics.

See ANALYTICS.md (inputs in section 1, the BI tables in section 6) and DESIGN.md section 2. The
warehouse is a DuckDB file with a single writer (:mod:`analytics.sync`); nothing here runs on
the statement write path, so analytics never slows ingestion (DESIGN.md principle 10).
"""
