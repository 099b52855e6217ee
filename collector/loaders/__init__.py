"""Loaders: finished files of the store into other systems, each file exactly once."""
