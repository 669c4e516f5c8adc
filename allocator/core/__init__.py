"""Ground floor: errors, formatting, atomic files, paths and interrupts. Imports nothing above it."""
