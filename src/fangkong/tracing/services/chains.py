"""Tracing services: transmission chains (传播链) and clusters (聚集性疫情).

Case-to-case links (infector → infectee, with evidence), clusters grouping cases and the
"source unknown" flag. Every write checks case.manage and the cases' jurisdiction, and is
audited. Links never form a cycle (rules.chains.link_would_cycle, checked against the
stored chain below the infectee, with both cases locked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import require, require_in_scope
from fangkong.accounts.roles import Capability
from fangkong.accounts.services import audit_record
from fangkong.core.errors import Conflict, DomainError
from fangkong.tracing.models import (
    Case,
    CaseLink,
    Cluster,
)
from fangkong.tracing.rules.chains import Link, link_would_cycle
from fangkong.tracing.selectors.chains import contact_evidence

if TYPE_CHECKING:
    from fangkong.accounts.models import User

EVIDENCE_MAX = 4000
CLUSTER_NAME_MAX = 200
CHAIN_DEPTH_MAX = 1000  # generations walked when checking for a cycle


def _check_case(actor: User, case: Case) -> None:
    require_in_scope(actor, case.jurisdiction_path, what="case")


def _links_below(root: int) -> list[Link]:
    """Every stored link in the chain below `root`: one query per generation."""
    links: list[Link] = []
    seen = {root}
    frontier = {root}
    for _depth in range(CHAIN_DEPTH_MAX):
        if not frontier:
            break
        level = list(
            CaseLink.objects.filter(infector_id__in=frontier).values_list(
                "infector_id", "infectee_id"
            )
        )
        links.extend(level)
        frontier = {infectee for _infector, infectee in level} - seen
        seen |= frontier
    return links


@transaction.atomic
def case_link_create(
    *, actor: User, infector: Case, infectee: Case, evidence: str = "", ip: str = ""
) -> CaseLink:
    """Record that `infectee` was infected by `infector`.

    Codes: link_self (the same case), link_exists (409), link_cycle (409: the infector
    descends from the infectee), evidence_too_long. The contacts found by tracing are
    added to the evidence automatically; the infectee's "source unknown" flag is cleared.
    """
    require(actor, Capability.CASE_MANAGE)
    _check_case(actor, infector)
    _check_case(actor, infectee)
    if infector.pk == infectee.pk:
        raise DomainError("link_self", _("病例不能由自身感染"))
    text = (evidence or "").strip()
    if len(text) > EVIDENCE_MAX:
        raise DomainError("evidence_too_long", _("依据过长"), max=EVIDENCE_MAX)
    # Lock both cases (in id order): two concurrent opposite links cannot both pass.
    list(Case.objects.select_for_update().filter(pk__in=[infector.pk, infectee.pk]).order_by("pk"))
    if CaseLink.objects.filter(infector=infector, infectee=infectee).exists():
        raise Conflict("link_exists", _("该传播关系已存在"))
    if link_would_cycle(_links_below(infectee.pk), infector.pk, infectee.pk):
        raise Conflict("link_cycle", _("该传播关系会形成环路"))
    lines = [text] if text else []
    lines.extend(contact_evidence(infector=infector, infectee=infectee))
    try:
        with transaction.atomic():
            link = CaseLink.objects.create(
                infector=infector, infectee=infectee, evidence="\n".join(lines), created_by=actor
            )
    except IntegrityError as exc:
        raise Conflict("link_exists", _("该传播关系已存在")) from exc
    if infectee.source_unknown:
        Case.objects.filter(pk=infectee.pk).update(source_unknown=False)
        infectee.source_unknown = False
    audit_record(
        actor=actor,
        action="case.link",
        object_type="case",
        object_id=infectee.pk,
        object_label=f"{infector.number} → {infectee.number}",
        jurisdiction_path=infectee.jurisdiction_path,
        detail={"infector": infector.pk, "infectee": infectee.pk, "link": link.pk},
        ip=ip,
    )
    return link


@transaction.atomic
def case_link_delete(*, actor: User, link: CaseLink, ip: str = "") -> None:
    require(actor, Capability.CASE_MANAGE)
    infector, infectee = link.infector, link.infectee
    _check_case(actor, infector)
    _check_case(actor, infectee)
    audit_record(
        actor=actor,
        action="case.unlink",
        object_type="case",
        object_id=infectee.pk,
        object_label=f"{infector.number} → {infectee.number}",
        jurisdiction_path=infectee.jurisdiction_path,
        detail={"infector": infector.pk, "infectee": infectee.pk, "evidence": link.evidence},
        ip=ip,
    )
    link.delete()


@transaction.atomic
def cluster_create(*, actor: User, name: str, description: str = "", ip: str = "") -> Cluster:
    require(actor, Capability.CASE_MANAGE)
    clean = (name or "").strip()
    if not clean:
        raise DomainError("cluster_name_required", _("请填写聚集性疫情名称"))
    if len(clean) > CLUSTER_NAME_MAX:
        raise DomainError("cluster_name_too_long", _("名称过长"), max=CLUSTER_NAME_MAX)
    if len(description or "") > EVIDENCE_MAX:
        raise DomainError("description_too_long", _("说明过长"), max=EVIDENCE_MAX)
    cluster = Cluster.objects.create(
        name=clean, description=(description or "").strip(), created_by=actor
    )
    audit_record(
        actor=actor,
        action="cluster.create",
        object_type="cluster",
        object_id=cluster.pk,
        object_label=clean,
        ip=ip,
    )
    return cluster


@transaction.atomic
def cluster_add_case(*, actor: User, cluster: Cluster, case: Case, ip: str = "") -> Case:
    """Put a case into a cluster (a case belongs to at most one: it moves)."""
    require(actor, Capability.CASE_MANAGE)
    _check_case(actor, case)
    previous = case.cluster_id
    if previous == cluster.pk:
        raise Conflict("case_in_cluster", _("该病例已在此聚集性疫情中"))
    Case.objects.filter(pk=case.pk).update(cluster=cluster)
    case.cluster = cluster
    audit_record(
        actor=actor,
        action="cluster.add_case",
        object_type="case",
        object_id=case.pk,
        object_label=f"{case.number} → {cluster.name}",
        jurisdiction_path=case.jurisdiction_path,
        detail={"cluster": cluster.pk, "previous_cluster": previous},
        ip=ip,
    )
    return case


@transaction.atomic
def cluster_remove_case(*, actor: User, case: Case, ip: str = "") -> Case:
    require(actor, Capability.CASE_MANAGE)
    _check_case(actor, case)
    previous = case.cluster_id
    if previous is None:
        raise DomainError("case_not_in_cluster", _("该病例不属于任何聚集性疫情"))
    Case.objects.filter(pk=case.pk).update(cluster=None)
    case.cluster = None
    audit_record(
        actor=actor,
        action="cluster.remove_case",
        object_type="case",
        object_id=case.pk,
        object_label=case.number,
        jurisdiction_path=case.jurisdiction_path,
        detail={"previous_cluster": previous},
        ip=ip,
    )
    return case


@transaction.atomic
def case_set_source_unknown(*, actor: User, case: Case, unknown: bool, ip: str = "") -> Case:
    """Flag (or clear) a case whose source of infection is unknown (来源不明)."""
    require(actor, Capability.CASE_MANAGE)
    _check_case(actor, case)
    if unknown and CaseLink.objects.filter(infectee=case).exists():
        raise Conflict("source_known", _("该病例已有传播来源，不能标记为来源不明"))
    Case.objects.filter(pk=case.pk).update(source_unknown=unknown)
    previous, case.source_unknown = case.source_unknown, unknown
    audit_record(
        actor=actor,
        action="case.source_unknown",
        object_type="case",
        object_id=case.pk,
        object_label=case.number,
        field="source_unknown",
        jurisdiction_path=case.jurisdiction_path,
        detail={"from": previous, "to": unknown},
        ip=ip,
    )
    return case
