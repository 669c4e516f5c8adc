"""Third floor: solving a built model with HiGHS (highspy), block by block. Imports core, data and model."""
