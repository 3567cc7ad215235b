"""Pages of background jobs (decision 0010): a job's progress and outcome, the download
of what an export wrote, and re-running a failed job. A page that starts a job shows the
same panel (core/_job.html, `jobs.job_context`) and the bar is polled by web/static/web/jobs.js."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fangkong.accounts.types import AuthedRequest
from fangkong.core import jobs


@require_GET
@login_required
def job_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    job = jobs.job_get(user=request.user, job_id=pk)
    return render(request, "web/job.html", jobs.job_context(job))


@require_GET
@login_required
def job_download(request: AuthedRequest, pk: int) -> HttpResponse:
    return jobs.file_response(jobs.job_output(user=request.user, job_id=pk))


@require_POST
@login_required
def job_rerun(request: AuthedRequest, pk: int) -> HttpResponse:
    job = jobs.job_get(user=request.user, job_id=pk)
    jobs.job_rerun(user=request.user, job=job)
    return redirect("web:job_detail", pk=job.pk)
