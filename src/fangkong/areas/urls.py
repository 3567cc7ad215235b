from django.urls import path

from fangkong.areas import views

app_name = "areas"

urlpatterns = [
    path("", views.zone_list, name="zone_list"),
    path("zones/", views.zone_list),
    path("zones/new/", views.zone_create, name="zone_create"),
    path("zones/new/places/", views.zone_place_options, name="zone_place_options"),
    path("zones/<int:pk>/", views.zone_detail, name="zone_detail"),
    path("zones/<int:pk>/<slug:action>/", views.zone_action, name="zone_action"),
    path("places/", views.place_list, name="place_list"),
    path("jurisdictions/", views.jurisdiction_list, name="jurisdiction_list"),
]
