from django.urls import path

from fangkong.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("csrf-token", views.csrf_token, name="csrf_token"),
]
