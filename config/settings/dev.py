"""Local development and the embedded default started by scripts/run.sh (and manage.py).

DEBUG stays off unless a developer asks for it with DJANGO_DEBUG=1: whoever opens the address
that run.sh prints sees the Chinese error pages, never Django's English debug page with the
settings and code in it (docs/operations.md, "Debug mode")."""

import warnings

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", False)

# With DEBUG off runserver serves no static files; WhiteNoise (in MIDDLEWARE) serves them from
# the apps' and the project's static directories, with no collectstatic step. Production
# collects them into STATIC_ROOT (prod.py).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# WhiteNoise also looks in STATIC_ROOT, which only a production install fills.
warnings.filterwarnings("ignore", message="No directory at")
