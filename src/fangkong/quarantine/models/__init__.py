"""Quarantine (隔离管控): sites and rooms, placements, health checks, tests, inspections."""

from fangkong.quarantine.models.health import HealthAlert, HealthCheck, HomeCheckIn
from fangkong.quarantine.models.inspections import (
    ChecklistItem,
    Finding,
    Inspection,
    Rectification,
)
from fangkong.quarantine.models.placements import (
    Occupancy,
    Placement,
    PlacementTest,
    Transfer,
)
from fangkong.quarantine.models.sites import Room, Site, StaffShift, StaffTest

__all__ = [
    "ChecklistItem",
    "Finding",
    "HealthAlert",
    "HealthCheck",
    "HomeCheckIn",
    "Inspection",
    "Occupancy",
    "Placement",
    "PlacementTest",
    "Rectification",
    "Room",
    "Site",
    "StaffShift",
    "StaffTest",
    "Transfer",
]
