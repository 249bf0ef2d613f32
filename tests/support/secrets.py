"""The settings that hold secrets: the fields kept out of Settings' repr, and the key pool's
GEMINI_API_KEYS (issue 14; it lands in config.py from another branch). Deploy files must never
give them a value."""
from gemini_proxy.config import setting_fields

SECRET_SETTINGS = frozenset({f.metadata["env"] for f in setting_fields() if not f.repr} | {"GEMINI_API_KEYS"})
