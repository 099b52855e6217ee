"""The console: a read-only page and JSON API over the data directory, for operators (`collector console`).

A process of its own, never part of the public app: it costs the ingest path
nothing and sees every worker's files. index (what the store holds, read
incrementally) -> stores (an index per data directory, several VMs' as one)
-> app (the API and the page) -> server (gunicorn); auth (the key), rejected
requests by code (from the collector's /metrics); search (the events API's
`q`), timerange (its `from` and `to`), clients (a client's name).
"""
