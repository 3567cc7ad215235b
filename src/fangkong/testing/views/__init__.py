"""Pages of mass testing, one module per part."""
