"""What the collector knows of a request, below every package that handles one: what is kept of
the client's address (privacy) and header values as the client wrote them (text)."""
