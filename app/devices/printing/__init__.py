"""Slips on paper and on screen: printer profiles, the ESC/POS and picture renderers, transports, status."""

import os

import platformdirs

# python-escpos caches its printer capability table as a pickle; without a directory of ours it writes a new
# one into a fresh temporary directory in every process. Set before anything imports escpos.
_CACHE = platformdirs.user_cache_path("kioskpos")
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(_CACHE))
_CACHE.mkdir(parents=True, exist_ok=True)
