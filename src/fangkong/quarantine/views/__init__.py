"""Pages of quarantine, one module per part."""
