"""The planning workbench: a local web page and JSON API on top of the engine (``allocator serve``).

Floor 7, beside the command line: it chains the same stages (load and validate, solve with a
kept session, what-if, compare, reports) and imports only what it needs when it starts.
"""
