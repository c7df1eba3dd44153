"""The one list of environment variables Tessera reads, with typed parsers.

Every setting that can change between deployments comes from here, so that
`docs/configuration.md` can be generated from `VARIABLES` and kept in sync by a test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import available_timezones

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "tessera-insecure-development-key-change-me"  # noqa: S105 - refused in production by checks


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable("TESSERA_PRODUCTION", "false", "Production mode: refuses to start with insecure settings."),
    Variable("TESSERA_DEBUG", "true", "Django DEBUG; must be false in production."),
    Variable(
        "TESSERA_SECRET_KEY", DEFAULT_SECRET_KEY, "Signing key; the default is refused in production.", True
    ),
    Variable(
        "TESSERA_ENCRYPTION_KEYS",
        "",
        "Comma-separated keys (32+ random characters each) encrypting stored mailbox passwords and OAuth "
        "tokens: the first encrypts, all decrypt (rotate, then `tessera mail rekey`). Empty: derived from "
        "the secret key.",
        True,
    ),
    Variable("TESSERA_DATA_DIR", "./data", "Folder for the SQLite database, uploads and raw mail."),
    Variable(
        "DATABASE_URL",
        "",
        "Database URL, e.g. postgres://user@127.0.0.1:5432/tessera. Empty: SQLite in the data folder.",
        True,
    ),
    Variable("REDIS_URL", "", "Redis URL for the channel layer and cache. Empty: in-memory (one process)."),
    Variable("TESSERA_ALLOWED_HOSTS", "127.0.0.1,localhost", "Comma-separated host names served."),
    Variable("TESSERA_CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins trusted for CSRF (https://…)."),
    Variable(
        "TESSERA_BASE_URL",
        "http://127.0.0.1:8000",
        "Public URL used in emails and links; `tessera serve` defaults it to its --host/--port.",
    ),
    Variable("TESSERA_TIME_ZONE", "UTC", "Default time zone for users who have not chosen one."),
    Variable("TESSERA_LANGUAGE", "en", "Default UI language (en, it, pl, fr)."),
    Variable("TESSERA_TICKET_PREFIX", "TS", "Prefix of human-friendly ticket numbers (TS-1042)."),
    Variable("TESSERA_MAX_ATTACHMENT_MB", "20", "Largest attachment accepted, in megabytes."),
    Variable("TESSERA_MAX_ATTACHMENTS", "10", "Most attachments accepted on one message."),
    Variable(
        "TESSERA_DAILY_UPLOAD_FILES",
        "100",
        "Most files one person may store in 24 hours (web, API and mail); 0: no limit.",
    ),
    Variable(
        "TESSERA_DAILY_UPLOAD_MB",
        "500",
        "Most megabytes of files one person may store in 24 hours; 0: no limit.",
    ),
    Variable(
        "TESSERA_EMAIL_URL",
        "",
        "Outbound mail: smtp://user:pass@host:port (smtp+tls://, smtps://), or a provider through anymail: "
        "mailgun://API_KEY@sender.domain, postmark://SERVER_TOKEN@postmark, mandrill://API_KEY@mandrill "
        "(?api_url=… for another region). Empty: console.",
        True,
    ),
    Variable("TESSERA_DEFAULT_FROM_EMAIL", "support@tessera.localhost", "Sender of outbound mail."),
    # Email channel (tessera.mail)
    Variable(
        "TESSERA_MAIL_LISTEN",
        "",
        "Inbound mail listener started by `tessera serve`: lmtp://127.0.0.1:2424 or smtp://…. Empty: none.",
    ),
    Variable(
        "TESSERA_MAIL_AUTHSERV_ID",
        "",
        "authserv-id of the receiving mail server; only its topmost Authentication-Results stamp is trusted, "
        "and mail without a passing DMARC (or aligned SPF/DKIM) result from it is held for review. Empty: "
        "senders are not authenticated (production warns).",
    ),
    Variable("TESSERA_MAIL_MAX_MB", "30", "Largest inbound message accepted, in megabytes."),
    Variable("TESSERA_MAIL_SENDER_LIMIT", "30", "Messages per sender per hour before mail is quarantined."),
    Variable(
        "TESSERA_MAIL_ACK_WINDOW_SECONDS",
        "600",
        "At most one acknowledgement of new mail per sender address in this many seconds.",
    ),
    Variable(
        "TESSERA_MAIL_DEFAULT_DEPARTMENT", "technical", "Department slug for mail to unknown addresses."
    ),
    Variable(
        "TESSERA_MAIL_KIND_BY_DEPARTMENT",
        "billing=billing,abuse=abuse",
        "Department slug=address kind (support, billing, abuse) for ticket emails; others use support.",
    ),
    Variable(
        "TESSERA_MAILGUN_WEBHOOK_SIGNING_KEY",
        "",
        "Mailgun webhook signing key (inbound mail and delivery tracking).",
        True,
    ),
    Variable(
        "TESSERA_MANDRILL_WEBHOOK_KEY", "", "Mandrill webhook key (inbound mail and delivery tracking).", True
    ),
    Variable(
        "TESSERA_ANYMAIL_WEBHOOK_SECRET", "", "user:password providers must send to the mail webhooks.", True
    ),
    Variable("TESSERA_SERVE_WORKERS", "2", "WSGI worker processes started by `tessera serve`."),
    Variable(
        "TESSERA_SERVE_THREADS",
        "1",
        "Threads per WSGI worker. One measured the shortest tail latency (threads of one process queue on "
        "the GIL); raise it when slow clients reach the server without a buffering proxy in front.",
    ),
    Variable(
        "TESSERA_WEBSOCKET_PORT",
        "0",
        "Port of the websocket (ASGI) server, when pages reach it directly rather than through a proxy "
        "routing /ws/; `tessera serve` sets it to its port + 1. 0: the page's own host and port.",
    ),
    Variable(
        "TESSERA_AGENT_MFA_REQUIRED",
        "false",
        "Agents and admins must set up two-factor authentication (TOTP) before working. "
        "Use true in production.",
    ),
    Variable(
        "TESSERA_TRUSTED_PROXIES",
        "0",
        "Reverse proxies in front that append the client address to X-Forwarded-For; the sign-in lockout "
        "takes the address that many entries from the right. 0: the connection's address, the header is "
        "ignored.",
    ),
    Variable(
        "TESSERA_WORKER_STALE_SECONDS",
        "30",
        "A task worker without a heartbeat for this many seconds is stalled: /health answers 503.",
    ),
    Variable("TESSERA_API_RATE", "600/m", "API requests allowed per token or address (N/s, N/m or N/h)."),
)
_BY_NAME = {v.name: v for v in VARIABLES}


def _raw(name: str) -> str:
    variable = _BY_NAME[name]
    file_path = os.environ.get(f"{name}_FILE")
    if variable.secret and file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, variable.default)


def env_str(name: str) -> str:
    return _raw(name)


def env_bool(name: str) -> bool:
    value = _raw(name).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, *, minimum: int = 0) -> int:
    value = _raw(name).strip()
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_list(name: str) -> list[str]:
    return [item.strip() for item in _raw(name).split(",") if item.strip()]


def env_time_zone(name: str) -> str:
    value = _raw(name).strip()
    if value not in available_timezones():
        raise ImproperlyConfigured(f"{name} must be an IANA time zone such as Europe/Rome, not {value!r}")
    return value


def env_path(name: str) -> Path:
    path = Path(_raw(name))
    return path if path.is_absolute() else (BASE_DIR / path).resolve()


def env_mailer(name: str) -> dict[str, Any]:
    """A Django MAILERS entry from smtp://user:pass@host:port (smtp+tls:// for STARTTLS, smtps:// for TLS).
    Empty: mail is printed to the console, which is right for development only."""
    url = _raw(name).strip()
    if not url:
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme in ANYMAIL_PROVIDERS:
        return _anymail_mailer(name, parts)
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ImproperlyConfigured(
            f"{name} must start with smtp://, smtp+tls://, smtps:// or a provider "
            f"({', '.join(f'{esp}://' for esp in ANYMAIL_PROVIDERS)})"
        )
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": parts.scheme == "smtp+tls",
            "use_ssl": parts.scheme == "smtps",
            # Bounds one email's SMTP conversation, so a short delivery claim stays safe
            # (tessera.mail.outbound.STALE_CLAIM).
            "timeout": 20,
        },
    }


# Providers reachable through TESSERA_EMAIL_URL: scheme -> the anymail option holding the credential.
ANYMAIL_PROVIDERS = {"mailgun": "api_key", "postmark": "server_token", "mandrill": "api_key"}


def _anymail_mailer(name: str, parts: Any) -> dict[str, Any]:
    """mailgun://KEY@sender.domain?api_url=https://api.eu.mailgun.net/v3 → an anymail MAILERS entry."""
    credential = unquote(parts.username or "")
    if not credential:
        raise ImproperlyConfigured(f"{name} needs the provider's key before the @: {parts.scheme}://KEY@…")
    options: dict[str, Any] = {ANYMAIL_PROVIDERS[parts.scheme]: credential}
    if parts.scheme == "mailgun" and parts.hostname:
        options["sender_domain"] = parts.hostname
    api_url = parse_qs(parts.query).get("api_url")
    if api_url:
        options["api_url"] = api_url[0]
    return {"BACKEND": f"anymail.backends.{parts.scheme}.EmailBackend", "OPTIONS": options}


def production_problems(
    *, debug: bool, secret_key: str, allowed_hosts: list[str]
) -> list[tuple[str, str, str]]:
    """(check id, problem, fix) for each setting production refuses. settings.py raises on them as it
    loads, so every entry point (WSGI, ASGI, manage commands, the worker) refuses to start; the system
    checks in tessera.core.checks report the same list."""
    problems = []
    if debug:
        problems.append(("tessera.E001", "DEBUG is on in production.", "Set TESSERA_DEBUG=false."))
    if secret_key == DEFAULT_SECRET_KEY or len(secret_key) < 40:
        problems.append(
            (
                "tessera.E002",
                "The secret key is the development default or too short.",
                "Set TESSERA_SECRET_KEY (or TESSERA_SECRET_KEY_FILE) to 50 random characters.",
            )
        )
    if "*" in allowed_hosts:
        problems.append(
            ("tessera.E003", "ALLOWED_HOSTS contains '*'.", "List the host names in TESSERA_ALLOWED_HOSTS.")
        )
    return problems


def refuse_insecure_production(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    problems = production_problems(debug=debug, secret_key=secret_key, allowed_hosts=allowed_hosts)
    if problems:
        raise ImproperlyConfigured(
            "TESSERA_PRODUCTION is on, and Tessera refuses to start with insecure settings:\n"
            + "\n".join(f"  {check}: {problem} {fix}" for check, problem, fix in problems)
        )


def configuration_markdown() -> str:
    """docs/configuration.md, generated from VARIABLES (a test keeps the file in sync)."""
    lines = [
        "# Configuration",
        "",
        "Tessera reads its configuration from environment variables only. Variables marked secret can also",
        "be read from a file: set `NAME_FILE` to its path. Generated by",
        "`python -m tessera manage configdoc`.",
        "",
        "| Variable | Default | Meaning |",
        "| --- | --- | --- |",
    ]
    for variable in VARIABLES:
        default = (
            "(development key)" if variable.name == "TESSERA_SECRET_KEY" else variable.default or "(empty)"
        )
        secret = " Secret: `_FILE` accepted." if variable.secret else ""
        lines.append(f"| `{variable.name}` | `{default}` | {variable.help}{secret} |")
    return "\n".join(lines) + "\n"
