"""First floor: instances, policies and their tables, validated. Imports only the ground floor (core)."""
