"""Tracing selectors: transmission chains, clusters, the chain graph and a case's stops.

Every read takes the acting user: cases and contacts outside the user's jurisdiction are
never returned (a town user sees only its own nodes of a chain; generations are still
computed over the whole chain, which reveals a number and nothing about the hidden
cases). Queries are bounded: a chain is walked one query per generation, the graph stops
at `limit` nodes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.permissions import has_capability, require, require_in_scope, scope_q
from fangkong.accounts.roles import Capability
from fangkong.core.errors import NotFound
from fangkong.people.rules import mask_name
from fangkong.tracing.models import (
    Case,
    CaseLink,
    Cluster,
    ContactClass,
    Exposure,
    ExposureKind,
    ItineraryStop,
)
from fangkong.tracing.rules.chains import Link, case_generations

if TYPE_CHECKING:
    from fangkong.accounts.models import User

LOCAL = ZoneInfo("Asia/Shanghai")
GRAPH_LIMIT = 600  # nodes of one graph (cases first, then close, then secondary contacts)
GRAPH_LIMIT_MAX = 3000
CHAIN_DEPTH_MAX = 200  # generations walked (one query each)


def case_label(case: Case) -> str:
    """Case number + masked name: the label of a case in chains and graphs."""
    return f"{case.number} {mask_name(case.person.name)}"


def case_for_chain(*, user: User, pk: int) -> Case:
    """A case the user may see (404 otherwise), with its person and cluster."""
    require(user, Capability.CASE_VIEW)
    case = Case.objects.filter(scope_q(user), pk=pk).select_related("person", "cluster").first()
    if case is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="case")
    return case


def case_by_number(*, user: User, number: str) -> Case:
    require(user, Capability.CASE_VIEW)
    case = (
        Case.objects.filter(scope_q(user), number=(number or "").strip())
        .select_related("person", "cluster")
        .first()
    )
    if case is None:
        raise NotFound("case_not_found", _("未找到该病例编号"), object="case")
    return case


def case_link_get(*, user: User, pk: int) -> CaseLink:
    require(user, Capability.CASE_VIEW)
    link = (
        CaseLink.objects.filter(
            scope_q(user, "infector__jurisdiction_path"),
            scope_q(user, "infectee__jurisdiction_path"),
            pk=pk,
        )
        .select_related("infector", "infectee")
        .first()
    )
    if link is None:
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="case_link")
    return link


# --- Clusters -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterRow:
    cluster: Cluster
    cases: int  # cases of the cluster in the user's jurisdiction


# Newest first; the primary key last (a unique order, for keyset pages).
CLUSTER_ORDER = ("-created_at", "-pk")


def clusters_in_scope(*, user: User) -> QuerySet[Cluster]:
    """Clusters, each with `n`, its cases in the user's scope. A user who cannot manage
    cases sees only the clusters that have a case in their jurisdiction."""
    require(user, Capability.CASE_VIEW)
    scoped = Q(cases__in=Case.objects.filter(scope_q(user)))
    qs = Cluster.objects.annotate(n=Count("cases", filter=scoped)).order_by(*CLUSTER_ORDER)
    if not has_capability(user, Capability.CASE_MANAGE):
        qs = qs.filter(n__gt=0)
    return qs


CLUSTER_LIST_MAX = 500


def clusters(*, user: User, limit: int = CLUSTER_LIST_MAX) -> list[ClusterRow]:
    """Clusters with their cases in the user's scope, newest first."""
    qs = clusters_in_scope(user=user)
    return [ClusterRow(c, c.n) for c in qs[:limit]]  # type: ignore[attr-defined]


def cluster_get(*, user: User, pk: int) -> Cluster:
    require(user, Capability.CASE_VIEW)
    cluster = Cluster.objects.filter(pk=pk).first()
    if cluster is None or not (
        has_capability(user, Capability.CASE_MANAGE)
        or Case.objects.filter(scope_q(user), cluster=cluster).exists()
    ):
        raise NotFound("not_found", _("未找到或不在您的辖区内"), object="cluster")
    return cluster


def cluster_cases(*, user: User, cluster: Cluster, limit: int = 1000) -> list[Case]:
    require(user, Capability.CASE_VIEW)
    return list(
        Case.objects.filter(scope_q(user), cluster=cluster)
        .select_related("person")
        .order_by("reported_at", "pk")[:limit]
    )


# --- A case's chain -------------------------------------------------------------------


def _walk(start: set[int], *, up: bool, down: bool, max_cases: int) -> tuple[set[int], set[Link]]:
    """Cases reached from `start` along links (up: to infectors, down: to infectees),
    one query per generation, stopping after `max_cases` cases."""
    cases = set(start)
    links: set[Link] = set()
    frontier = set(start)
    for _depth in range(CHAIN_DEPTH_MAX):
        if not frontier or len(cases) >= max_cases:
            break
        condition = Q(pk__in=[])
        if up:
            condition |= Q(infectee_id__in=frontier)
        if down:
            condition |= Q(infector_id__in=frontier)
        found = set(CaseLink.objects.filter(condition).values_list("infector_id", "infectee_id"))
        links |= found
        reached = {i for pair in found for i in pair}
        frontier = reached - cases
        cases |= reached
    return cases, links


def case_generation(case: Case) -> int | None:
    """The case's generation over its whole ancestry (1 = no infector)."""
    ancestors, links = _walk({case.pk}, up=True, down=False, max_cases=10_000)
    return case_generations(ancestors, links).get(case.pk)


@dataclass
class CaseChain:
    case: Case
    generation: int | None
    infected_by: list[CaseLink] = field(default_factory=list)
    infected: list[CaseLink] = field(default_factory=list)
    hidden: int = 0  # linked cases outside the user's jurisdiction


def contact_evidence(*, infector: Case, infectee: Case) -> list[str]:
    """Lines of evidence from contact tracing: the infectee's person was a contact of the
    infector's case (or of the infector while the infector was still a contact)."""
    exposures = Exposure.objects.filter(
        Q(source_case=infector) | Q(source_contact__person_id=infector.person_id),
        contact__person_id=infectee.person_id,
    ).order_by("exposed_on", "pk")
    lines = []
    for exposure in exposures[:20]:
        lines.append(
            _(
                "自动依据：%(infectee)s 曾为 %(infector)s 的%(classification)s"
                "（%(kind)s，暴露日期 %(date)s）"
            )
            % {
                "infectee": infectee.number,
                "infector": infector.number,
                "classification": ContactClass(exposure.classification).label,
                "kind": ExposureKind(exposure.kind).label,
                "date": exposure.exposed_on.isoformat(),
            }
        )
    return lines


AUTO_EVIDENCE_PREFIXES = ("自动依据：", "Automatic evidence:")


def evidence_lines(link: CaseLink) -> list[str]:
    """A link's evidence for a page: the lines the investigator typed as stored, and the
    automatic lines built now from the exposures (in the reader's language: the stored
    ones are in the language of whoever made the link)."""
    typed = [
        line
        for line in link.evidence.splitlines()
        if line.strip() and not line.startswith(AUTO_EVIDENCE_PREFIXES)
    ]
    return typed + contact_evidence(infector=link.infector, infectee=link.infectee)


def case_chain(*, user: User, case: Case) -> CaseChain:
    """The case's infectors and infectees the user may see, and its generation."""
    require(user, Capability.CASE_VIEW)
    require_in_scope(user, case.jurisdiction_path, what="case")
    links = list(
        CaseLink.objects.filter(Q(infector=case) | Q(infectee=case))
        .select_related("infector__person", "infectee__person", "created_by")
        .order_by("created_at", "pk")
    )
    chain = CaseChain(case=case, generation=case_generation(case))
    visible = set(
        Case.objects.filter(
            scope_q(user),
            pk__in={x for link in links for x in (link.infector_id, link.infectee_id)},
        ).values_list("pk", flat=True)
    )
    for link in links:
        other = link.infector_id if link.infectee_id == case.pk else link.infectee_id
        if other not in visible:
            chain.hidden += 1
            continue
        link.evidence_lines = evidence_lines(link)  # type: ignore[attr-defined]
        if link.infectee_id == case.pk:
            chain.infected_by.append(link)
        else:
            chain.infected.append(link)
    return chain


# --- The chain graph ------------------------------------------------------------------


def _node_case(case: Case, generation: int | None) -> dict[str, Any]:
    return {
        "id": f"case-{case.pk}",
        "kind": "case",
        "case_id": case.pk,
        "label": case_label(case),
        "number": case.number,
        "generation": generation,
        "source_unknown": case.source_unknown,
        "case_kind": case.kind,
        "cluster": case.cluster.name if case.cluster_id and case.cluster else None,
    }


def _node_contact(contact: Any) -> dict[str, Any]:
    kind = "close" if contact.classification == ContactClass.CLOSE else "secondary"
    if contact.classification not in (ContactClass.CLOSE, ContactClass.SECONDARY):
        kind = "other"
    return {
        "id": f"contact-{contact.pk}",
        "kind": kind,
        "contact_id": contact.pk,
        "label": mask_name(contact.person.name),
        "classification": contact.classification,
        "status": contact.status,
    }


def chain_graph(
    *,
    user: User,
    case: Case | None = None,
    cluster: Cluster | None = None,
    include_contacts: bool = True,
    limit: int = GRAPH_LIMIT,
) -> dict[str, Any]:
    """Nodes (cases with generation and source-unknown flag, close and secondary
    contacts) and edges (infection links, exposures) for the ECharts graph.

    With `case`: that case's whole chain; with `cluster`: the cluster's cases and their
    chains; otherwise the latest cases in scope. Only nodes in the user's jurisdiction
    appear, with masked labels. A contact who became a case in the graph is drawn as
    that case. At most `limit` nodes (`truncated` says when more exist); a fixed
    number of queries plus one per generation of the chain.
    """
    require(user, Capability.CASE_VIEW)
    limit = max(1, min(limit, GRAPH_LIMIT_MAX))
    if case is not None:
        require_in_scope(user, case.jurisdiction_path, what="case")
        start = {case.pk}
    elif cluster is not None:
        start = set(
            Case.objects.filter(scope_q(user), cluster=cluster)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
    else:
        start = set(
            Case.objects.filter(scope_q(user))
            .order_by("-reported_at", "-pk")
            .values_list("pk", flat=True)[:limit]
        )
    component, links = _walk(start, up=True, down=True, max_cases=limit * 4)
    generations = case_generations(component, links)
    cases = list(
        Case.objects.filter(scope_q(user), pk__in=component)
        .select_related("person", "cluster")
        .order_by("reported_at", "pk")
    )
    truncated = len(cases) > limit
    cases = cases[:limit]
    nodes: list[dict[str, Any]] = [_node_case(c, generations.get(c.pk)) for c in cases]
    shown = {c.pk for c in cases}
    edges: list[dict[str, Any]] = [
        {"source": f"case-{a}", "target": f"case-{b}", "kind": "infection"}
        for a, b in sorted(links)
        if a in shown and b in shown
    ]
    if include_contacts and len(nodes) < limit:
        truncated |= _add_contacts(user, cases, nodes, edges, limit)
    return {
        "nodes": nodes,
        "edges": edges,
        "truncated": truncated,
        "counts": {
            kind: sum(1 for n in nodes if n["kind"] == kind)
            for kind in ("case", "close", "secondary", "other")
        },
    }


def _add_contacts(
    user: User,
    cases: list[Case],
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    limit: int,
) -> bool:
    """Append contact nodes and exposure edges (two queries); True when cut at `limit`."""
    case_of_person = {c.person_id: f"case-{c.pk}" for c in cases}
    seen_edges: set[tuple[str, str]] = set()
    node_ids = {n["id"] for n in nodes}
    truncated = False

    def node_for(contact: Any) -> str | None:
        nonlocal truncated
        if contact.person_id in case_of_person:
            return case_of_person[contact.person_id]
        node_id = f"contact-{contact.pk}"
        if node_id not in node_ids:
            if len(nodes) >= limit:
                truncated = True
                return None
            nodes.append(_node_contact(contact))
            node_ids.add(node_id)
        return node_id

    def edge(source: str, target: str, exposure: Exposure) -> None:
        if source == target or (source, target) in seen_edges:
            return
        seen_edges.add((source, target))
        edges.append(
            {
                "source": source,
                "target": target,
                "kind": "exposure",
                "exposure": exposure.kind,
                "classification": exposure.classification,
            }
        )

    budget = limit * 3
    first = list(
        Exposure.objects.filter(
            scope_q(user, "contact__jurisdiction_path"), source_case_id__in=[c.pk for c in cases]
        )
        .select_related("contact__person")
        .order_by("source_case_id", "pk")[:budget]
    )
    contact_node: dict[int, str] = {}
    for exposure in first:
        target = node_for(exposure.contact)
        if target is None:
            continue
        contact_node[exposure.contact_id] = target
        edge(f"case-{exposure.source_case_id}", target, exposure)
    if not contact_node or len(nodes) >= limit:
        return truncated or len(first) == budget
    second = list(
        Exposure.objects.filter(
            scope_q(user, "contact__jurisdiction_path"), source_contact_id__in=list(contact_node)
        )
        .select_related("contact__person")
        .order_by("source_contact_id", "pk")[:budget]
    )
    for exposure in second:
        target = node_for(exposure.contact)
        if target is None:
            continue
        assert exposure.source_contact_id is not None
        edge(contact_node[exposure.source_contact_id], target, exposure)
    return truncated or len(second) == budget


# --- A case's stops on a map ----------------------------------------------------------


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL).isoformat(timespec="minutes")


def case_stops_geojson(*, user: User, case: Case) -> dict[str, Any]:
    """The case's itinerary stops as a GeoJSON FeatureCollection of points (place
    coordinates), numbered in time order; stops without coordinates (free addresses,
    places with no lat/lon) are listed under `unlocated`."""
    require(user, Capability.CASE_VIEW)
    require_in_scope(user, case.jurisdiction_path, what="case")
    stops = list(
        ItineraryStop.objects.filter(investigation__case=case)
        .select_related("place")
        .order_by("start", "pk")[:1000]
    )
    features: list[dict[str, Any]] = []
    unlocated: list[dict[str, Any]] = []
    for seq, stop in enumerate(stops, start=1):
        place = stop.place
        properties = {
            "seq": seq,
            "stop_id": stop.pk,
            "place": place.name if place else "",
            "address": stop.address or (place.address if place else ""),
            "start": _local(stop.start),
            "end": _local(stop.end),
            "source": stop.source,
            "confirmed": stop.confirmed,
        }
        if place is not None and place.lat is not None and place.lon is not None:
            features.append(
                {
                    "type": "Feature",
                    "id": stop.pk,
                    "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
                    "properties": properties,
                }
            )
        else:
            unlocated.append(properties)
    return {
        "type": "FeatureCollection",
        "features": features,
        "case": {"id": case.pk, "number": case.number},
        "unlocated": unlocated,
    }
