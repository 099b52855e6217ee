"""`collector events query`: SQL (DuckDB, in-process) over a view `events` of the whole store.

`selection` chooses the data files a time window needs, `loading` feeds their
events to DuckDB through the store's own reader (`store/reading.py`, the rules
of `collector events cat`), `named` holds the SQL files shipped with the
command, `formats` writes the answer as a table, CSV or JSON lines.
"""
