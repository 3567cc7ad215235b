from django.urls import path

from fangkong.web import jobs, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("csrf-token", views.csrf_token, name="csrf_token"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/download", jobs.job_download, name="job_download"),
    path("jobs/<int:pk>/rerun", jobs.job_rerun, name="job_rerun"),
]
