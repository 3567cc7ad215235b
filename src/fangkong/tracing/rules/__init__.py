"""Pure rules of tracing (no ORM), one module per part."""
