"""The bundled instances, each folder with its sources, shipped inside the package as ``allocator.bundled``."""
