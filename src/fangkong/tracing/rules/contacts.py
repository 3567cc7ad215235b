"""Pure rules: contacts (co-presence overlap, classification)."""
