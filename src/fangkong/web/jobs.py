"""Pages of background jobs (decision 0010): a job's page, the download of what an
export wrote, and re-running a failed job. A job is shown on the page that started it
(`?job=<id>`, its kind's `page`): /jobs/<id>/ and a re-run lead there; the panel is
core/_job.html (`jobs.job_context`) and its bar is polled by web/static/web/jobs.js."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from fangkong.accounts.types import AuthedRequest
from fangkong.core import jobs


@require_GET
@login_required
def job_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The job's page (the page that started it, `?job=<id>`); a kind without one (code
    that moved) is shown here."""
    job = jobs.job_get(user=request.user, job_id=pk)
    page = jobs.job_page_url(job)
    if page != reverse("web:job_detail", args=[job.pk]):
        return HttpResponseRedirect(page)
    return render(request, "web/job.html", jobs.job_context(job))


@require_GET
@login_required
def job_download(request: AuthedRequest, pk: int) -> HttpResponse:
    return jobs.file_response(jobs.job_output(user=request.user, job_id=pk))


@require_POST
@login_required
def job_rerun(request: AuthedRequest, pk: int) -> HttpResponse:
    """Re-run a failed job (owner only, a worker lost or a crash): back to its page."""
    job = jobs.job_get(user=request.user, job_id=pk)
    return jobs.started_answer(jobs.job_rerun(user=request.user, job=job))
