"""The simulated evaluation page (仿真评价); mounted at /monitoring/ by ``indicators.urls``."""

from django.urls import path

from sizhen.indicators.scoring import views

urlpatterns = [
    path("simulation/", views.simulation, name="simulation"),
]
