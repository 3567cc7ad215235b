from django.urls import path

from fangkong.protocol import views

app_name = "protocol"

urlpatterns = [
    path("", views.ruleset_list_page, name="list"),
    path("<int:pk>/", views.ruleset_detail_page, name="detail"),
    path("calculator/", views.calculator_page, name="calculator"),
]
