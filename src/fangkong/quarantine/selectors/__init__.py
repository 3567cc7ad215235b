"""Reads of quarantine, scoped by the acting user; one module per part.

Scope (`selectors.scope`): site staff see their own site and the persons placed there
(`Site.place_id == user.place_id`); a town or a community sees its residents wherever
they are placed (`Placement.jurisdiction_path` under its path); command sees all. Sites
(not personal) are seen city-wide by every role with site.view but site staff, who see
their own site only."""
