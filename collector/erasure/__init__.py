"""Erasure and access requests: one person's stored data found, exported, deleted or pseudonymised.

By job: `matching` (whose is an event, a dead letter), `keyed` (the data
directory's key and the keyed hashes of ids), `transform` (what happens to a
line), `blocks` (files read and written a block of lines at a time), `rewrite`
(one file replaced atomically, and why a crash is safe),
`letters` (dead letters), `run` (an erasure over the whole directory),
`audit` (erasures.log), `lock` (one at a time, in a collector's directory
only), `export` (the person's events and letters, for an access request).
`collector events forget|export` (collector/cli/erasure.py) is what uses them.
See docs/erasure.md.
"""

from __future__ import annotations

from .matching import Ids, Matcher

__all__ = ["Ids", "Matcher"]
