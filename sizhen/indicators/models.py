"""The models of the indicators app live in its parts (catalogue, ingestion, filling); importing
them here registers them with Django under the app label ``indicators``. Import a model from its
part, not from here."""

from sizhen.indicators.catalogue import models as catalogue_models  # noqa: F401
from sizhen.indicators.filling import models as filling_models  # noqa: F401
from sizhen.indicators.ingestion import models as ingestion_models  # noqa: F401
