"""Services of mass testing, one module per part: rounds, sampling, points, coverage,
supplies, and labs' work in boxes, result_files, results, rechecks (with actors: who acts
where)."""
