"""Pages of the indicators app, assembled from its parts' URL lists under the namespaces the
templates use. config/urls.py mounts ``urlpatterns`` at /monitoring/ (``indicators``),
``data_urls`` at /monitoring/data/ (``indicator_data``) and ``filling_urls`` at
/monitoring/filling/ (``indicator_filling``, with the pull source pages)."""

from sizhen.indicators.catalogue import urls as catalogue
from sizhen.indicators.filling import urls as filling
from sizhen.indicators.ingestion import urls as ingestion
from sizhen.indicators.scoring import urls as scoring

app_name = "indicators"

urlpatterns = [*catalogue.urlpatterns, *scoring.urlpatterns]

data_urls = (ingestion.urlpatterns, "indicator_data")
filling_urls = ([*filling.urlpatterns, *ingestion.pull_urlpatterns], "indicator_filling")
