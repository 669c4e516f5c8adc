"""Second floor: the allocation model in Pyomo (models/README.md). Imports core and data only."""
