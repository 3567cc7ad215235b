"""Every write of the protocol domain: local overrides of a rule set, and edits.

Both go through `rules.validate_values`, the same check the admin form uses, and both are
audited (`ruleset.create`, `ruleset.update`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import NOT_PROVIDED, Field
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.core.errors import Conflict, DomainError, PermissionDenied
from fangkong.protocol import signals
from fangkong.protocol.models import RuleSet
from fangkong.protocol.rules import RULE_VALUE_FIELDS, validate_values

if TYPE_CHECKING:
    from fangkong.accounts.models import User

# Descriptive fields an update may change besides the rule values.
META_FIELDS: tuple[str, ...] = ("name", "effective_from", "region", "source")


def ruleset_values(ruleset: RuleSet) -> dict[str, object]:
    """The rule values of a rule set, as plain JSON-ready data."""
    return {name: getattr(ruleset, name) for name in RULE_VALUE_FIELDS}


def require_ruleset_manage(actor: User) -> None:
    # Roles with ruleset.manage (command, admin); Django superusers through the admin.
    allowed = has_capability(actor, Capability.RULESET_MANAGE)
    if not allowed and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(
            "permission_denied", _("您的角色无权修改防控方案规则集"), capability="ruleset.manage"
        )


def _check_region(region: str) -> str:
    region = (region or "").strip()
    if region and not region.isdigit():
        raise DomainError("invalid_value", _("辖区路径只能由数字组成"), field="region")
    if len(region) > 32:
        raise DomainError("invalid_value", _("辖区路径过长"), field="region")
    return region


def _check_meta(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "region":
            out[name] = _check_region(str(value or ""))
        elif name == "effective_from":
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    raise DomainError(
                        "invalid_value", _("生效日期格式错误"), field="effective_from"
                    ) from None
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise DomainError("invalid_value", _("生效日期格式错误"), field="effective_from")
            out[name] = value
        elif name == "name":
            text = str(value or "").strip()
            if not text or len(text) > 200:
                raise DomainError("invalid_value", _("名称不能为空"), field="name")
            out[name] = text
        else:  # source
            out[name] = str(value or "")
    return out


def _merged_values(base: RuleSet, changes: dict[str, Any]) -> dict[str, object]:
    unknown = sorted(set(changes) - set(RULE_VALUE_FIELDS) - set(META_FIELDS))
    if unknown:
        raise DomainError(
            "unknown_field", _("未知的规则字段：%s") % ", ".join(unknown), fields=unknown
        )
    values = ruleset_values(base)
    values.update({k: v for k, v in changes.items() if k in RULE_VALUE_FIELDS})
    return validate_values(values)


def _model_defaults() -> dict[str, object]:
    """The model's default for each rule value that has one (pooling, deadlines ...)."""
    out: dict[str, object] = {}
    for name in RULE_VALUE_FIELDS:
        field = RuleSet._meta.get_field(name)
        if isinstance(field, Field) and field.default is not NOT_PROVIDED:
            out[name] = field.get_default()
    return out


def _jsonable(values: dict[str, object]) -> dict[str, object]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


def _changed(ruleset: RuleSet) -> None:
    """Tell the apps above (quarantine recomputes open placements): sent inside the
    transaction, so that what the receivers write commits or rolls back with the rule set."""
    signals.ruleset_changed.send(sender=RuleSet, ruleset_id=ruleset.pk)


@transaction.atomic
def ruleset_create_override(
    *,
    actor: User,
    based_on: RuleSet,
    version: str,
    name: str,
    region: str,
    effective_from: dt.date,
    changes: dict[str, Any],
) -> RuleSet:
    """A new rule set copying `based_on` with `changes` applied (a local order, or a
    national version's local adaptation). Codes: `version_taken`, `unknown_field`,
    `invalid_value`."""
    require_ruleset_manage(actor)
    version = (version or "").strip()
    if not version or len(version) > 32:
        raise DomainError("invalid_value", _("版本号不能为空且不超过32个字符"), field="version")
    if RuleSet.objects.filter(version=version).exists():
        raise Conflict("version_taken", _("该版本号已存在"), version=version)
    meta = _check_meta({"name": name, "region": region, "effective_from": effective_from})
    if any(k in META_FIELDS for k in changes):
        raise DomainError(
            "unknown_field",
            _("名称、辖区与生效日期请用专门的参数传入"),
            fields=sorted(k for k in changes if k in META_FIELDS),
        )
    values = _merged_values(based_on, changes)
    source = f"基于 {based_on.version}（{based_on.name}）"  # stored text: not translated
    ruleset = RuleSet.objects.create(
        version=version, based_on=based_on, source=source, **meta, **values
    )
    audit_record(
        actor=actor,
        action="ruleset.create",
        object_type="ruleset",
        object_id=ruleset.pk,
        object_label=str(ruleset),
        jurisdiction_path=ruleset.region,
        detail={
            "based_on": based_on.version,
            "region": ruleset.region,
            "effective_from": ruleset.effective_from.isoformat(),
            "changes": _jsonable({k: values[k] for k in changes}),
        },
    )
    _changed(ruleset)
    return ruleset


@transaction.atomic
def ruleset_update(*, actor: User, ruleset: RuleSet, changes: dict[str, Any]) -> RuleSet:
    """Change a rule set's values or descriptive fields; audited with before and after."""
    require_ruleset_manage(actor)
    locked = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    meta = _check_meta({k: v for k, v in changes.items() if k in META_FIELDS})
    values = _merged_values(locked, changes)
    new = {**values, **meta}
    before = {k: getattr(locked, k) for k in new if getattr(locked, k) != new[k]}
    after = {k: new[k] for k in before}
    if not before:
        return locked
    for name, value in after.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*after, "updated_at"])
    audit_record(
        actor=actor,
        action="ruleset.update",
        object_type="ruleset",
        object_id=locked.pk,
        object_label=str(locked),
        jurisdiction_path=locked.region,
        detail={"before": _jsonable(before), "after": _jsonable(after)},
    )
    _changed(locked)
    return locked


@transaction.atomic
def ruleset_create(
    *,
    actor: User,
    version: str,
    name: str,
    region: str,
    effective_from: dt.date,
    source: str,
    values: dict[str, Any],
) -> RuleSet:
    """A rule set from scratch (a new national version): every rule value must be given."""
    require_ruleset_manage(actor)
    version = (version or "").strip()
    if not version or len(version) > 32:
        raise DomainError("invalid_value", _("版本号不能为空且不超过32个字符"), field="version")
    if RuleSet.objects.filter(version=version).exists():
        raise Conflict("version_taken", _("该版本号已存在"), version=version)
    defaults = _model_defaults()
    missing = sorted(
        name for name in RULE_VALUE_FIELDS if name not in values and name not in defaults
    )
    if missing:
        raise DomainError("invalid_value", _("缺少规则值：%s") % ", ".join(missing), fields=missing)
    checked = validate_values({**defaults, **values})
    meta = _check_meta(
        {"name": name, "region": region, "effective_from": effective_from, "source": source}
    )
    ruleset = RuleSet.objects.create(version=version, **meta, **checked)
    audit_record(
        actor=actor,
        action="ruleset.create",
        object_type="ruleset",
        object_id=ruleset.pk,
        object_label=str(ruleset),
        jurisdiction_path=ruleset.region,
        detail={
            "based_on": None,
            "region": ruleset.region,
            "effective_from": ruleset.effective_from.isoformat(),
            "values": _jsonable(checked),
        },
    )
    return ruleset
