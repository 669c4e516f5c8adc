"""Top floor: the `allocator` command line. Commands only chain the stages of the floors below."""
