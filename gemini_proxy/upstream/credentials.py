"""Vertex AI's OAuth credentials, loaded by the gateway and handed to the SDK (which would otherwise look
for Application Default Credentials on its own, at its first request)."""
from __future__ import annotations

import google.auth
import google.auth.credentials
from google.auth import exceptions as google_auth_exceptions
from google.oauth2 import service_account

from gemini_proxy.config_parsing import SettingsError

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def vertex_credentials(credentials_file: str | None) -> google.auth.credentials.Credentials:
    """A Vertex AI account's credentials, loaded here so the SDK takes nothing from the environment by
    itself: the service account of `credentials_file` (VERTEX_CREDENTIALS_FILE or a VERTEX_ACCOUNTS_FILE
    line's), or Application Default Credentials."""
    try:
        if credentials_file:
            return service_account.Credentials.from_service_account_file(
                credentials_file, scopes=[CLOUD_PLATFORM_SCOPE])
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
        return credentials
    except (google_auth_exceptions.GoogleAuthError, ValueError, OSError) as exc:
        where = (f"the service account {credentials_file!r}" if credentials_file
                 else "VERTEX_CREDENTIALS_FILE is unset and Application Default Credentials")
        raise SettingsError(f"GEMINI_BACKEND=vertex: {where} could not be loaded: {exc}") from None
