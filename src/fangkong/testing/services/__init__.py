"""Services of mass testing, one module per part (rounds, sampling, labs, coverage, supplies)."""
