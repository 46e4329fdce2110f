"""Slips on paper and on screen: printer profiles, the ESC/POS and picture renderers, transports, status."""

import platformdirs

from app.devices.printing import capability_cache

# Before anything imports escpos: its capability cache in a directory of ours, safe for processes that start
# together (the app, the settlement timer, a supervisor's command), and no stray temporary directory.
_CACHE = platformdirs.user_cache_path("kioskpos")
_CACHE.mkdir(parents=True, exist_ok=True)
capability_cache.prepare(_CACHE)
