"""Where Gemini is, for Settings (which inherits this): the backend switch (AI Studio, Vertex AI with a
project, Vertex AI express mode), Vertex's settings, and what they resolve to: the upstream keys, base URL,
API version and name (docs/vertex.md and deployment.md#vertex-ai explain them)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from gemini_proxy.config_parsing import (
    STAND_IN_KEY,
    SettingsError,
    UpstreamKey,
    check_service_account_file,
    one_of,
    optional,
    setting,
    upstream_keys_from,
)

VERTEX_GROUP = VERTEX = "Vertex AI"
BACKENDS = (AI_STUDIO, VERTEX_AI, VERTEX_EXPRESS) = ("ai-studio", "vertex", "vertex-express")
DEFAULT_VERTEX_MODELS = (
    "gemini-2.5-pro,gemini-2.5-flash,gemini-2.5-flash-lite,gemini-2.0-flash,gemini-3-pro-preview,"
    "gemini-embedding-001,text-embedding-005"
)
# Vertex's credentials in the key pool: one entry, never sent as a key (the SDK sends the OAuth token).
VERTEX_CREDENTIALS_NAME = "vertex-credentials"
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ACCOUNT_OPTIONS = ("location", "credentials", "name", "weight")
# Vertex AI's label syntax (Google Cloud resource labels): at most 64, lower case.
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
MAX_LABELS = 64


def parse_labels(text: str) -> dict[str, str]:
    """VERTEX_LABELS: `key=value` pairs, comma-separated, in Vertex AI's label syntax."""
    pairs = {}
    for item in filter(None, (item.strip() for item in text.split(","))):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
            raise SettingsError(f"VERTEX_LABELS entry {item!r}: a label is key=value, the key 1-63 lower-case letters, "
                                "digits, '_' or '-' starting with a letter, the value at most 63 of them")
        pairs[key] = value
    if len(pairs) > MAX_LABELS:
        raise SettingsError(f"VERTEX_LABELS holds {len(pairs)} labels: Vertex AI takes at most {MAX_LABELS}")
    return pairs


@dataclass(frozen=True)
class VertexAccount:
    """One Vertex AI project and the credentials that call it (None: Application Default Credentials):
    an entry of the key pool, named in logs and metrics."""
    project: str
    location: str
    credentials_file: str | None
    name: str
    weight: int = 1

    @property
    def pool_key(self) -> str:
        """What stands for the account in the key pool (never sent: the SDK sends the OAuth token)."""
        return f"vertex-account:{self.name}"


def parse_vertex_accounts(lines: list[str], location: str, credentials_file: str | None) -> tuple[VertexAccount, ...]:
    """VERTEX_ACCOUNTS_FILE's lines: `PROJECT [location=L] [credentials=FILE] [name=N] [weight=N]`, `#` comments;
    location and credentials default to VERTEX_LOCATION and VERTEX_CREDENTIALS_FILE, a name to the project."""
    accounts: dict[str, VertexAccount] = {}
    for number, line in enumerate(lines, 1):
        project, *rest = line.split("#", 1)[0].split() or [""]
        if not project:
            continue
        where = f"VERTEX_ACCOUNTS_FILE line {number}"
        options = dict(word.partition("=")[::2] for word in rest)
        unknown = [word for word in rest if word.partition("=")[0] not in _ACCOUNT_OPTIONS or "=" not in word]
        if "=" in project or unknown:
            raise SettingsError(f"{where}: a line is PROJECT [location=L] [credentials=FILE] [name=N] [weight=N]")
        name, weight = options.get("name", project), options.get("weight", "1")
        if not _ACCOUNT_NAME.fullmatch(name):
            raise SettingsError(f"{where}: name= is 1-64 letters, digits, '.', '_' or '-'")
        if not weight.isdigit() or int(weight) < 1:
            raise SettingsError(f"{where}: weight= must be a whole number of at least 1")
        if name in accounts:
            raise SettingsError(f"{where}: the same name as another line ({name}): give each line its own name=")
        account_location = options.get("location", location)
        if not account_location or "/" in account_location:
            raise SettingsError(f"{where}: location={account_location!r} is not a location (global, a region)")
        credentials = options.get("credentials", credentials_file)
        if credentials:
            check_service_account_file(credentials, f"{where}: credentials={credentials!r}")
        accounts[name] = VertexAccount(project, account_location, credentials, name, int(weight))
    if not accounts:
        raise SettingsError("VERTEX_ACCOUNTS_FILE holds no account")
    return tuple(accounts.values())


@dataclass(frozen=True)
class BackendSettings:
    gemini_backend: str = field(default=AI_STUDIO, metadata=setting(
        "GEMINI_BACKEND", VERTEX, "Where Gemini is: `ai-studio` (the Gemini API, GEMINI_API_KEY), `vertex` "
        "(Vertex AI with a service account or Application Default Credentials) or `vertex-express` (Vertex AI "
        "express mode, with GEMINI_API_KEY or GEMINI_API_KEYS) ([deployment.md](deployment.md#vertex-ai)).",
        one_of(*BACKENDS)))
    vertex_project: str | None = field(default=None, metadata=setting(
        "VERTEX_PROJECT", VERTEX, "Google Cloud project of GEMINI_BACKEND=vertex (required there).", optional(str)))
    vertex_location: str = field(default="global", metadata=setting(
        "VERTEX_LOCATION", VERTEX, "Vertex AI location: `global`, a region (`europe-west4`) or a multi-region "
        "(`us`, `eu`).", str))
    vertex_credentials_file: str | None = field(default=None, metadata=setting(
        "VERTEX_CREDENTIALS_FILE", VERTEX, "A service-account JSON key file for GEMINI_BACKEND=vertex; unset: "
        "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server).",
        optional(str)))
    vertex_accounts_file: str | None = field(default=None, metadata=setting(
        "VERTEX_ACCOUNTS_FILE", VERTEX, "Several Vertex AI projects or service accounts used together, one per line: "
        "`PROJECT [location=L] [credentials=FILE] [name=N] [weight=N]` (location and credentials default to "
        "VERTEX_LOCATION and VERTEX_CREDENTIALS_FILE). Calls spread over them like GEMINI_API_KEYS and move to "
        "another on a 429 or refused credentials ([deployment.md](deployment.md#several-vertex-ai-projects)). "
        "Instead of VERTEX_PROJECT.", optional(str)))
    vertex_labels: Mapping[str, str] = field(default_factory=dict, metadata=setting(
        "VERTEX_LABELS", VERTEX, "Labels every generation on Vertex AI carries, for billing reports: `key=value` "
        "pairs, comma-separated (`team=search,env=prod`); a Gemini-API client's own `labels` win over them "
        "([vertex.md](vertex.md#labels)).", parse_labels))
    vertex_base_url: str | None = field(default=None, metadata=setting(
        "VERTEX_BASE_URL", VERTEX, "Another Vertex AI endpoint (e.g. the emulator); unset: Google's for the location.",
        optional(str)))
    vertex_api_version: str = field(default="v1beta1", metadata=setting(
        "VERTEX_API_VERSION", VERTEX, "Vertex AI REST API version.", str))
    vertex_models: str = field(default=DEFAULT_VERTEX_MODELS, metadata=setting(
        "VERTEX_MODELS", VERTEX, "The models `/v1/models` lists on Vertex AI, comma-separated (Vertex's own list "
        "is Model Garden's, without the methods each model serves).", str))

    def check_backend(self, has_keys: bool, gemini_base_url: str | None, pass_through_keys: bool) -> None:
        """The backend's settings fit together (`has_keys`: GEMINI_API_KEY(S) set); each refusal names the
        variable to change."""
        vertex_only = {"VERTEX_PROJECT": self.vertex_project, "VERTEX_CREDENTIALS_FILE": self.vertex_credentials_file,
                       "VERTEX_ACCOUNTS_FILE": self.vertex_accounts_file, "VERTEX_BASE_URL": self.vertex_base_url,
                       "VERTEX_LABELS": self.vertex_labels}
        if self.gemini_backend == AI_STUDIO:
            for name, value in vertex_only.items():
                if value:
                    raise SettingsError(f"{name} is set but GEMINI_BACKEND is ai-studio: set GEMINI_BACKEND=vertex "
                                        f"(or vertex-express), or unset {name}")
            return
        if gemini_base_url:
            raise SettingsError(f"GEMINI_BASE_URL is for GEMINI_BACKEND=ai-studio; with {self.gemini_backend} "
                                "use VERTEX_BASE_URL")
        if not self.vertex_location.strip() or "/" in self.vertex_location:
            raise SettingsError(f"VERTEX_LOCATION={self.vertex_location!r}: not a location (global, a region)")
        if not self.vertex_model_ids:
            raise SettingsError("VERTEX_MODELS names no model")
        if self.gemini_backend == VERTEX_EXPRESS:
            if not has_keys:
                raise SettingsError("GEMINI_BACKEND=vertex-express needs GEMINI_API_KEY (or GEMINI_API_KEYS): "
                                    "an express-mode API key")
            for name in ("VERTEX_PROJECT", "VERTEX_CREDENTIALS_FILE", "VERTEX_ACCOUNTS_FILE"):
                if vertex_only[name]:
                    raise SettingsError(f"{name} is not used by GEMINI_BACKEND=vertex-express (express mode has "
                                        f"no project and takes an API key): unset it, or use GEMINI_BACKEND=vertex")
            return
        if not self.vertex_project and not self.vertex_accounts_file:
            raise SettingsError("GEMINI_BACKEND=vertex needs VERTEX_PROJECT (the Google Cloud project) or "
                                "VERTEX_ACCOUNTS_FILE (several)")
        if self.vertex_project and self.vertex_accounts_file:
            raise SettingsError("VERTEX_PROJECT and VERTEX_ACCOUNTS_FILE are both set: use one (the file names "
                                "each line's project)")
        if has_keys:
            raise SettingsError("GEMINI_API_KEY/GEMINI_API_KEYS are not used by GEMINI_BACKEND=vertex (it "
                                "authenticates with VERTEX_CREDENTIALS_FILE or Application Default Credentials): "
                                "unset them, or use GEMINI_BACKEND=vertex-express")
        if pass_through_keys:
            raise SettingsError("GATEWAY_PASS_THROUGH_KEYS=true sends clients' keys to Gemini, which "
                                "GEMINI_BACKEND=vertex does not take: use vertex-express or ai-studio")
        if self.vertex_credentials_file:
            check_service_account_file(self.vertex_credentials_file)
        self.vertex_accounts  # noqa: B018  (read, and checked, at start)

    @property
    def vertex(self) -> bool:
        """Whether Gemini is Vertex AI (with a project, or in express mode)."""
        return self.gemini_backend != AI_STUDIO

    @property
    def vertex_model_ids(self) -> tuple[str, ...]:
        return tuple(m for m in (part.strip() for part in self.vertex_models.split(",")) if m)

    @cached_property
    def vertex_accounts(self) -> tuple[VertexAccount, ...]:
        """GEMINI_BACKEND=vertex's projects and credentials: VERTEX_ACCOUNTS_FILE's, or the one of
        VERTEX_PROJECT (named vertex-credentials); none on the other backends."""
        if self.gemini_backend != VERTEX_AI:
            return ()
        if not self.vertex_accounts_file:
            return (VertexAccount(self.vertex_project or "", self.vertex_location, self.vertex_credentials_file,
                                  VERTEX_CREDENTIALS_NAME),)
        try:
            lines = Path(self.vertex_accounts_file).read_text().splitlines()
        except OSError as exc:
            raise SettingsError(f"VERTEX_ACCOUNTS_FILE={self.vertex_accounts_file!r}: {exc.strerror}") from None
        return parse_vertex_accounts(lines, self.vertex_location, self.vertex_credentials_file)

    @cached_property
    def upstream_keys(self) -> tuple[UpstreamKey, ...]:
        """The Gemini keys calls go out with (upstream/keys.py: a pool, maybe of one). Vertex AI with a
        project: one entry per account (VertexAccount.pool_key, never sent: the SDK sends its OAuth token)."""
        if self.gemini_backend == VERTEX_AI:
            accounts = self.vertex_accounts
            if len(accounts) == 1:
                return (UpstreamKey(STAND_IN_KEY, accounts[0].name),)
            return tuple(UpstreamKey(a.pool_key, a.name, a.weight, sent=False) for a in accounts)
        return upstream_keys_from(self.gemini_api_keys, self.gemini_api_keys_file, self.gemini_api_key)

    @property
    def uses_emulator(self) -> bool:
        return not (self.vertex or self.gemini_api_key or self.gemini_api_keys.strip() or self.gemini_api_keys_file
                    or self.gemini_base_url)

    @property
    def upstream_base_url(self) -> str | None:
        """Where the SDK sends requests: None means Google's own endpoint (on Vertex AI, the SDK's for
        the location)."""
        if self.vertex:
            return self.vertex_base_url
        if self.gemini_base_url:
            return self.gemini_base_url
        if self.uses_emulator:
            return f"http://127.0.0.1:{self.emulator_port}"
        return None

    @property
    def upstream_api_version(self) -> str:
        return self.vertex_api_version if self.vertex else self.gemini_api_version

    @property
    def upstream_name(self) -> str:
        """The upstream as /readyz names it: `emulator` (the built-in one), `google` (`vertex` for
        Vertex AI), or the host of GEMINI_BASE_URL or VERTEX_BASE_URL (never its path or credentials)."""
        if self.uses_emulator:
            return "emulator"
        base_url = self.upstream_base_url
        if not base_url:
            return "vertex" if self.vertex else "google"
        url = urlsplit(base_url)
        host = f"[{url.hostname}]" if url.hostname and ":" in url.hostname else url.hostname
        return f"{host}:{url.port}" if url.port else host or "unknown"

    @property
    def upstream_api_key(self) -> str | None:
        """The SDK client's own key: the first of the pool (each call of a larger pool names its key);
        None on Vertex AI with a project (it takes OAuth credentials)."""
        if self.gemini_backend == VERTEX_AI:
            return None
        return self.upstream_keys[0].key
