"""Extension objects, created once and bound to each app in `create_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.session_protection = "strong"
login_manager.login_view = "auth.login"

csrf = CSRFProtect()
babel = Babel()
# The API's per-token rate limit only (web/api/routes.py): in-memory counters, per process; a
# rough brake on a runaway script, not a security control. Failed logins are counted in the
# database instead (ocop_workflow/services/auth.py), where every process sees them.
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", default_limits=[])
