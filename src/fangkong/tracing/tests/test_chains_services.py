"""Chain services: links (self, duplicate, cycle, automatic evidence), clusters, flags."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.accounts.models import AuditEvent
from fangkong.accounts.roles import Role
from fangkong.core.errors import DomainError, NotFound, PermissionDenied
from fangkong.testkit import tracing
from fangkong.tracing.models import Case, CaseLink
from fangkong.tracing.services.chains import (
    case_link_create,
    case_link_delete,
    case_set_source_unknown,
    cluster_add_case,
    cluster_create,
)

pytestmark = pytest.mark.django_db


def test_link_is_created_audited_and_clears_source_unknown(tree: Any, investigator: Any) -> None:
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_a)
    case_set_source_unknown(actor=investigator, case=b, unknown=True)
    link = case_link_create(actor=investigator, infector=a, infectee=b, evidence="同住")
    assert link.evidence == "同住"
    assert Case.objects.get(pk=b.pk).source_unknown is False
    assert AuditEvent.objects.filter(action="case.link", object_id=str(b.pk)).exists()


def test_self_duplicate_and_cycle_are_refused(tree: Any, investigator: Any) -> None:
    a, b, c = (tracing.case_in(tree.community_a) for _ in range(3))
    with pytest.raises(DomainError) as self_link:
        case_link_create(actor=investigator, infector=a, infectee=a)
    assert self_link.value.code == "link_self"
    case_link_create(actor=investigator, infector=a, infectee=b)
    case_link_create(actor=investigator, infector=b, infectee=c)
    with pytest.raises(DomainError) as duplicate:
        case_link_create(actor=investigator, infector=a, infectee=b)
    assert duplicate.value.code == "link_exists"
    with pytest.raises(DomainError) as cycle:
        case_link_create(actor=investigator, infector=c, infectee=a)
    assert cycle.value.code == "link_cycle"
    assert cycle.value.status == 409
    assert CaseLink.objects.count() == 2


def test_contact_exposure_becomes_evidence(tree: Any, investigator: Any) -> None:
    a = tracing.case_in(tree.community_a, "赵大")
    b = tracing.case_in(tree.community_a, "钱二")
    tracing.contact(b.person, case=a, kind="household")
    link = case_link_create(actor=investigator, infector=a, infectee=b, evidence="")
    assert a.number in link.evidence and "密切接触者" in link.evidence
    assert "2022-07-03" in link.evidence


def test_link_delete_is_audited(tree: Any, investigator: Any) -> None:
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_a)
    link = case_link_create(actor=investigator, infector=a, infectee=b)
    case_link_delete(actor=investigator, link=link)
    assert not CaseLink.objects.exists()
    assert AuditEvent.objects.filter(action="case.unlink").exists()


def test_town_staff_cannot_link_or_create_clusters(tree: Any, town_a_user: Any) -> None:
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_a)
    with pytest.raises(PermissionDenied):
        case_link_create(actor=town_a_user, infector=a, infectee=b)
    with pytest.raises(PermissionDenied):
        cluster_create(actor=town_a_user, name="乌镇酒店")


def test_case_outside_scope_is_not_found(tree: Any, make_user: Any) -> None:
    # A command user bound to town B only (scope check, not the role).
    command_b = make_user(Role.COMMAND, tree.town_b, "command-b")
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_b)
    with pytest.raises(NotFound):
        case_link_create(actor=command_b, infector=a, infectee=b)


def test_cluster_create_and_add_case(tree: Any, investigator: Any) -> None:
    with pytest.raises(DomainError) as empty:
        cluster_create(actor=investigator, name="  ")
    assert empty.value.code == "cluster_name_required"
    cluster = cluster_create(actor=investigator, name="乌镇酒店聚集性疫情")
    case = tracing.case_in(tree.community_a)
    cluster_add_case(actor=investigator, cluster=cluster, case=case)
    assert Case.objects.get(pk=case.pk).cluster_id == cluster.pk
    with pytest.raises(DomainError) as again:
        cluster_add_case(actor=investigator, cluster=cluster, case=case)
    assert again.value.code == "case_in_cluster"
    assert AuditEvent.objects.filter(action="cluster.add_case").count() == 1


def test_source_unknown_refused_when_an_infector_is_known(tree: Any, investigator: Any) -> None:
    a, b = tracing.case_in(tree.community_a), tracing.case_in(tree.community_a)
    case_link_create(actor=investigator, infector=a, infectee=b)
    with pytest.raises(DomainError) as known:
        case_set_source_unknown(actor=investigator, case=b, unknown=True)
    assert known.value.code == "source_known"
    case_set_source_unknown(actor=investigator, case=a, unknown=True)
    assert Case.objects.get(pk=a.pk).source_unknown is True
