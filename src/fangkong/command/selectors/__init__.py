"""selectors of command, one module per part (figures, ...)."""
