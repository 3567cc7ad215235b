"""selectors of the tracing domain, one module per part (cases, contacts, pushes, chains)."""
