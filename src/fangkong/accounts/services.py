"""Every write of the accounts domain: audit records, users, logins, tokens."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from fangkong.accounts.models import AuditEvent


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str | int = "",
    object_label: str = "",
    field: str = "",
    jurisdiction_path: str = "",
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    """Append one audit record. Called by every service whose action must be traceable
    (reveals, exports, logins, zone transitions ...), inside that service's transaction."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_username=getattr(actor, "username", "") if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:200],
        field=field,
        jurisdiction_path=jurisdiction_path,
        detail=detail or {},
        at=timezone.now(),
        ip=ip[:64],
    )
