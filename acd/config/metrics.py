"""config.yaml's `metrics:` section: who may read `GET /metrics` (docs/security.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

#: a token shorter than this is refused (a guessable secret)
MIN_TOKEN_LENGTH = 16
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class MetricsConfig:
    #: serve /metrics at all
    enabled: bool = True
    #: the environment variable holding the bearer token Prometheus sends; unset or empty:
    #: only supervisors' and admins' sessions (and loopback, below) may read the metrics
    token_env: str = "ACD_METRICS_TOKEN"
    #: a scraper on this host reads without a token. Off by default: a reverse proxy on
    #: the same host would make every request look local
    allow_loopback: bool = False

    def token(self) -> str:
        """The token from the environment ('' when none is set)."""
        return os.environ.get(self.token_env, "") if self.token_env else ""

    def problems(self) -> list[tuple[str, str]]:
        """(key, what is wrong) for each value acd cannot run on."""
        if self.token_env and not _ENV_NAME.fullmatch(self.token_env):
            return [("token_env", f"{self.token_env!r} is not an environment variable name "
                                  "(e.g. ACD_METRICS_TOKEN)")]
        token = self.token()
        if token and len(token) < MIN_TOKEN_LENGTH:
            return [("token_env", f"${self.token_env} holds {len(token)} characters; a "
                                  f"token needs {MIN_TOKEN_LENGTH} or more (e.g. the output "
                                  "of `openssl rand -hex 24`)")]
        return []
