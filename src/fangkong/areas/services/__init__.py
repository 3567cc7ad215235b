"""Services of areas, one module per part: the map (jurisdictions, places) and zones."""
