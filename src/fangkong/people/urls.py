from django.urls import path

from fangkong.people import views

app_name = "people"

urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("export.csv", views.person_export, name="export"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/reveal/", views.person_reveal, name="reveal"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("lookup-alerts/", views.lookup_alerts, name="lookup_alerts"),
]
