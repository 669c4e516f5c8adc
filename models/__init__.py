"""The policy presets (*.toml) and the formulation (README.md), shipped inside the package as ``allocator.presets``."""
