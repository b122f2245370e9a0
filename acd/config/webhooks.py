"""config.yaml's `webhooks:` list: where acd posts its events (acd.adapters.webhooks).

    webhooks:
      - name: crm
        url: https://crm.example.com/acd/events
        events: [call.offered, call.ended]     # or call.*, or * (the default)
        secret_env: ACD_WEBHOOK_CRM_SECRET      # the signing secret, from the environment
        full_numbers: false                     # true: callers' numbers unmasked

The secret never sits in config.yaml: `secret_env` names the environment variable
that holds it. Each problem is reported at its file:line.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from acd.integration.events import unknown_patterns
from acd.yamlsource import LocatedDict, LocatedList, Position, SourceError

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_KEYS = {"name", "url", "events", "secret_env", "full_numbers", "timeout_seconds",
         "retry_base_seconds", "retry_max_seconds"}


@dataclass(frozen=True)
class WebhookConfig:
    name: str
    url: str
    #: event types, families ("call.*") or "*"
    events: tuple[str, ...] = ("*",)
    secret_env: str = ""
    #: the signing secret, read from `secret_env` when the configuration is loaded
    secret: str = field(default="", repr=False)
    full_numbers: bool = False
    #: one delivery's time limit
    timeout_seconds: float = 5.0
    #: the first retry's delay; each next one doubles, up to retry_max_seconds
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 300.0


def load_webhooks(node: object, root: Position | None,
                  errors: list[SourceError]) -> tuple[WebhookConfig, ...]:
    """The webhooks of the raw `webhooks:` section; each problem appended to `errors`."""
    if node is None:
        return ()
    if not isinstance(node, LocatedList):
        errors.append(SourceError(getattr(node, "position", root),
                                  "webhooks: a list of webhooks (- name: ..., url: ...)"))
        return ()
    out: list[WebhookConfig] = []
    names: set[str] = set()
    for index, item in enumerate(node):
        if not isinstance(item, LocatedDict):
            errors.append(SourceError(node.pos(index), "webhooks: each entry is a mapping "
                                      "with name, url, secret_env"))
            continue
        hook = _one(item, errors)
        if hook is None:
            continue
        if hook.name in names:
            errors.append(SourceError(item.pos("name"), f"webhooks: the name {hook.name!r} "
                                      "is used twice; each webhook needs its own"))
        names.add(hook.name)
        out.append(hook)
    return tuple(out)


def _number(item: LocatedDict, key: str, default: float, errors: list[SourceError]) -> float:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or value <= 0:
        errors.append(SourceError(item.pos(key), f"webhooks.{key}: seconds, more than 0"))
        return default
    return float(value)


def _one(item: LocatedDict, errors: list[SourceError]) -> WebhookConfig | None:
    before = len(errors)
    for key in item:
        if key == "secret":
            errors.append(SourceError(item.pos(key), "webhooks.secret: the secret must not "
                                      "be written in config.yaml; export it and name the "
                                      "variable in secret_env"))
        elif key not in _KEYS:
            errors.append(SourceError(item.pos(key), f"webhooks: unknown key {key!r} "
                                      f"(known: {', '.join(sorted(_KEYS))})"))
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        errors.append(SourceError(item.pos("name"), "webhooks.name: required, lower-case "
                                  "letters, digits, - and _ (e.g. crm)"))
    url = item.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(SourceError(item.pos("url"), "webhooks.url: required, an http:// or "
                                  "https:// URL (e.g. https://crm.example.com/acd/events)"))
    events = item.get("events", ["*"])
    if not isinstance(events, list) or not events or \
            not all(isinstance(e, str) for e in events):
        errors.append(SourceError(item.pos("events"), "webhooks.events: a list of event "
                                  "types (call.offered, call.*, * ...)"))
        events = ["*"]
    for pattern in unknown_patterns(events):
        errors.append(SourceError(item.pos("events"), f"webhooks.events: {pattern!r} is no "
                                  "event type (see docs/integration.md)"))
    secret_env = item.get("secret_env")
    secret = ""
    if not isinstance(secret_env, str) or not secret_env:
        errors.append(SourceError(item.pos("secret_env") if "secret_env" in item else
                                  item.pos(), "webhooks.secret_env: required, the name of "
                                  "the environment variable holding the signing secret"))
    else:
        secret = os.environ.get(secret_env, "")
        if not secret:
            from acd.config.settings import MissingEnvironment  # (it imports this module)

            errors.append(MissingEnvironment(item.pos("secret_env"), f"webhooks.secret_env: "
                                             f"environment variable {secret_env} is not "
                                             "set: export it (a long random string)"))
    full = item.get("full_numbers", False)
    if not isinstance(full, bool):
        errors.append(SourceError(item.pos("full_numbers"),
                                  "webhooks.full_numbers: true or false"))
    timeout = _number(item, "timeout_seconds", 5.0, errors)
    base = _number(item, "retry_base_seconds", 1.0, errors)
    cap = _number(item, "retry_max_seconds", 300.0, errors)
    if len(errors) > before:
        return None
    assert isinstance(name, str) and isinstance(url, str) and isinstance(secret_env, str)
    return WebhookConfig(name, url, tuple(events), secret_env, secret, full is True,
                         timeout, base, max(base, cap))
