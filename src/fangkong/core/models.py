"""Background jobs (decision 0010): a long work's state and progress, and its files.

django-tasks runs the work (its result row says whether a worker ran it); `Job` is what
the product shows: who asked, under which jurisdiction, rows done of rows total, the
result summary or the reason it failed. Core sits below accounts, so the owner is a plain
user id (no foreign key into a higher app).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """One long work run in the background: an import, an export, opening a round.

    `kind` is the dotted path of the `JobKind` that runs it (fangkong.core.jobs);
    `params` its JSON arguments; `rows_done` / `rows_total` the progress the work writes
    as it goes (throttled), `phase` what it is doing; `heartbeat_at` when a worker last
    said it is alive (a running job whose heartbeat is stale is marked failed);
    `result` the summary when done; `error_code` / `error_message` / `error_detail` why it
    failed (a refused import's detail holds its bad lines: `errors`)."""

    kind = models.CharField(_("类型"), max_length=200)
    owner_id = models.BigIntegerField(_("发起人"), db_index=True)
    scope_path = models.CharField(_("辖区路径"), max_length=32, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=8, choices=JobState.choices, default=JobState.QUEUED
    )
    phase = models.CharField(_("阶段"), max_length=32, blank=True)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), null=True, blank=True)
    result = models.JSONField(_("结果"), null=True, blank=True)
    error_code = models.CharField(_("错误代码"), max_length=64, blank=True)
    error_message = models.TextField(_("失败原因"), blank=True)
    error_detail = models.JSONField(_("失败详情"), default=dict, blank=True)
    error_status = models.PositiveSmallIntegerField(_("失败状态码"), default=0)
    task_result_id = models.CharField(_("任务结果编号"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("运行次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"))
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("心跳时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        indexes = [
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat_idx"),
            models.Index(fields=["owner_id", "created_at"], name="job_owner_created_idx"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int | None:
        """Rows done of rows total, 0–100; None while the total is unknown."""
        if self.state == JobState.DONE:
            return 100
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)

    def status(self) -> dict[str, Any]:
        """The job's state as the status endpoint and the progress bar read it."""
        return {
            "id": self.pk,
            "state": self.state,
            "phase": self.phase,
            "rows_done": self.rows_done,
            "rows_total": self.rows_total,
            "percent": self.percent,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "error_detail": self.error_detail,
            "has_file": False,
        }


class JobFileRole(models.TextChoices):
    INPUT = "input", _("上传文件")
    OUTPUT = "output", _("生成文件")


class JobFile(models.Model):
    """A job's upload (saved before the job runs, so a worker on another machine reads
    it; kept until the job succeeds, so a failed job can be re-run) or its output (an
    export, downloaded by a separate authorised request). Bounded by the readers'
    limits (core.spreadsheet, the imports' MAX_IMPORT_BYTES)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(_("用途"), max_length=8, choices=JobFileRole.choices)
    name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("类型"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("大小"), default=0)
    data = models.BinaryField(_("内容"))

    class Meta:
        verbose_name = _("任务文件")
        verbose_name_plural = _("任务文件")
        constraints = [
            models.UniqueConstraint(fields=["job", "role"], name="job_file_one_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.name}"
