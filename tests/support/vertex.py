"""Vertex AI in tests: a service-account JSON made at test time (a fresh RSA key, token_uri at the
emulator's /token, never a real key) and the real google-genai SDK in Vertex mode pointed at the emulator."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google import genai
from google.oauth2 import service_account

PROJECT, LOCATION = "test-project", "us-central1"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def service_account_info(emulator_url: str, project: str = PROJECT) -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    name = f"gateway-{uuid.uuid4().hex[:8]}"
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": f"{name}@{project}.iam.gserviceaccount.com",
        "client_id": str(uuid.uuid4().int)[:21],
        "token_uri": f"{emulator_url}/token",
    }


def write_service_account(path: Path, info: dict) -> Path:
    path.write_text(json.dumps(info))
    return path


def registered_service_account(emulator_url: str, path: Path, project: str = PROJECT) -> str:
    """A fresh service account the emulator's /token signs tokens for, written to `path` (its path)."""
    info = service_account_info(emulator_url, project)
    requests.post(f"{emulator_url}/emulator/service-accounts", json=info, timeout=5).raise_for_status()
    return str(write_service_account(path, info))


def vertex_client(emulator_url: str, info: dict, project: str = PROJECT, location: str = LOCATION) -> genai.Client:
    """google-auth's real flow: a signed JWT to token_uri, then Bearer tokens, refreshed when near expiry.
    project and location are explicit: with a custom base_url and neither, the SDK posts to the bare URL."""
    credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    return genai.Client(vertexai=True, project=project, location=location, credentials=credentials,
                        http_options={"base_url": emulator_url})
