"""Background jobs of coverage: the untested list's Excel export as a job (decision 0010).
The job writes the workbook; its owner alone downloads it, by a separate GET."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.accounts.permissions import require
from fangkong.accounts.roles import Capability
from fangkong.core import jobs
from fangkong.testing.selectors import coverage as selectors
from fangkong.testing.services import coverage as services

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.testing.models import Round


def _build_untested_export(actor: User, job: jobs.Job) -> jobs.ExportFile:
    rnd = selectors.coverage_round_get(user=actor, pk=int(job.params["round_id"]))
    community = str(job.params["community"])
    reveal = bool(job.params.get("reveal"))
    data, rows = services.untested_export_workbook(
        actor=actor,
        rnd=rnd,
        community_path=community,
        reveal=reveal,
        ip=str(job.params.get("ip", "")),
    )
    return jobs.ExportFile(
        name=services.untested_export_filename(rnd, community, reveal=reveal),
        content_type=services.XLSX_CONTENT_TYPE,
        data=data,
        rows=rows,
    )


UNTESTED_EXPORT = jobs.export_kind(
    path="fangkong.testing.tasks_coverage.UNTESTED_EXPORT",
    label=gettext_lazy("应检未检名单导出"),
    build=_build_untested_export,
    page=lambda job: reverse(
        "testing:coverage_untested_export",
        args=[int(job.params["round_id"]), str(job.params["community"])],
    ),
)


def untested_export_check(*, actor: User, round_id: int, community: str, reveal: bool) -> Round:
    """Who may export this community's list (403 / 404; nothing audited): its round."""
    rnd = selectors.coverage_round_get(user=actor, pk=round_id)
    require(actor, Capability.COVERAGE_VIEW)
    require(actor, Capability.PERSON_EXPORT)
    if reveal:
        require(actor, Capability.PERSON_REVEAL)
    selectors.community_path_check(user=actor, path=community)
    return rnd


def untested_export_start(
    *, actor: User, round_id: int, community: str, reveal: bool, ip: str
) -> jobs.Job:
    """Check who may export this community's list (403 / 404 at once, nothing audited),
    then write the workbook in the background."""
    untested_export_check(actor=actor, round_id=round_id, community=community, reveal=reveal)
    return jobs.job_start(
        kind=UNTESTED_EXPORT,
        owner=actor,
        params={"round_id": round_id, "community": community, "reveal": reveal, "ip": ip},
    )
