"""What the collector knows of a request, below every package that handles one: the one record
each layer writes what it learns into (record), what is kept of the client's address (privacy)
and header values as the client wrote them (text)."""
