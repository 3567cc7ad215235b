"""Pure rules: cases (look-back, deadlines, lifecycle)."""
