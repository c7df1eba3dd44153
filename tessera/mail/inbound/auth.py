"""Sender authentication from the Authentication-Results stamp of our own receiving server.

Only the topmost stamp whose authserv-id is exactly ours (compared case-insensitively, RFC 8601 §5)
counts: our server adds its stamp on top, so anything below it, or under a look-alike id, was written
before the message reached us, by whoever sent it. Such stamps are never trusted and are reported as
forged. With an authserv-id configured, a message is authenticated only when that stamp shows DMARC pass,
or (no DMARC verdict) an SPF or DKIM pass for the From domain (relaxed alignment, approximated as the same
domain or a parent/child of it, which never accepts an unrelated domain).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field

import authres
from django.conf import settings
from django.utils.translation import gettext as _

from tessera.core.refcache import ReferenceTable
from tessera.mail.inbound.parse import decode_words
from tessera.mail.models import InboundMessage, TrustedMailServer

logger = logging.getLogger("tessera.mail.inbound")
Auth = InboundMessage.Auth


@dataclass
class Verdict:
    auth: str  # an InboundMessage.Auth value, or "" when no authserv-id is configured
    reason: str = ""
    forged: list[str] = field(default_factory=list)  # stamps that claim to be ours but are not

    @property
    def passed(self) -> bool:
        return self.auth in ("", Auth.PASS)


def _id_of(value: str) -> str:
    """The authserv-id of a header value (the first word before ';'), without parsing the rest."""
    head = value.split(";", 1)[0].strip()
    return head.split(None, 1)[0] if head else ""


def _looks_like(candidate: str, ours: str) -> bool:
    """An id dressed up as ours: equal once case, quotes, punctuation and encoded-words are set aside, ours
    with something appended, or ours with some letters swapped for non-ASCII look-alikes."""
    seen = unicodedata.normalize("NFKC", decode_words(candidate)).casefold().strip("\"'. ")
    if seen == ours or seen.startswith(ours + "."):
        return True
    if len(seen) == len(ours) and all(a == b or not a.isascii() for a, b in zip(seen, ours, strict=True)):
        return True
    return re.sub(r"[^0-9a-z]", "", seen) == re.sub(r"[^0-9a-z]", "", ours)


def _aligned(domain: str, from_domain: str) -> bool:
    domain, from_domain = domain.lower().strip(".").lstrip("@"), from_domain.lower()
    if "@" in domain:
        domain = domain.rpartition("@")[2]
    return bool(domain) and (
        domain == from_domain or domain.endswith("." + from_domain) or from_domain.endswith("." + domain)
    )


def _load_trusted() -> frozenset[str]:
    return frozenset(a.lower() for a in TrustedMailServer.objects.values_list("authserv_id", flat=True))


_trusted = ReferenceTable(_load_trusted, TrustedMailServer)


def trusted_authserv_ids() -> frozenset[str]:
    """The receiving servers whose stamps count: TESSERA_MAIL_AUTHSERV_ID and those an admin added (admin
    pages, API), from a per-process copy refreshed when they change."""
    configured = settings.TESSERA_MAIL_AUTHSERV_ID.lower()
    return _trusted.get() | ({configured} if configured else set())


def authenticate(values: list[str], sender: str) -> Verdict:
    trusted = trusted_authserv_ids()
    if not trusted:
        return Verdict("")
    # Named in reasons: the server whose stamp was read, else the configured one (or any trusted one).
    ours = settings.TESSERA_MAIL_AUTHSERV_ID.lower() or min(trusted)
    topmost = ""
    forged: list[str] = []
    for value in values:
        claimed = _id_of(value)
        if claimed.lower() in trusted:
            if topmost:
                forged.append(_("a second stamp under our id below ours: %(value)s") % {"value": value[:200]})
            else:
                topmost, ours = value, claimed.lower()
        elif claimed and any(_looks_like(claimed, id_) for id_ in trusted):
            forged.append(_("a look-alike id %(id)s") % {"id": claimed[:100]})
    if not topmost:
        return Verdict(
            Auth.MISSING,
            _(
                "No Authentication-Results from %(server)s (our receiving server): the sender could not be "
                "authenticated."
            )
            % {"server": ours},
            forged,
        )
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(topmost.split()))
    except Exception:  # a stamp we cannot read proves nothing
        logger.info("unreadable Authentication-Results stamp from our server")
        parsed = None
    results: dict[str, list[tuple[str, list[str]]]] = {}
    for result in parsed.results if parsed is not None else []:
        method = str(result.method).lower()
        wanted = _DMARC_PROPS if method == "dmarc" else _DOMAIN_PROPS
        domains = [str(p.value) for p in result.properties if f"{p.type}.{p.name}".lower() in wanted]
        results.setdefault(method, []).append((str(result.result).lower(), domains))
    from_domain = sender.rpartition("@")[2]
    # A DMARC verdict counts for the From address we read only: a stamp about another header.from (a
    # message with two From headers, read differently by the server) is no verdict about this sender.
    dmarc = [
        verdict
        for verdict, domains in results.get("dmarc", [])
        if not domains or any(d.lower() == from_domain.lower() for d in domains)
    ]
    values_for = {"server": ours, "domain": from_domain}
    if "fail" in dmarc:
        return Verdict(
            Auth.DMARC_FAIL,
            _("DMARC check failed at %(server)s: the From address at %(domain)s may be forged.") % values_for,
            forged,
        )
    if "pass" in dmarc or any(
        verdict == "pass" and any(_aligned(d, from_domain) for d in domains)
        for method in ("spf", "dkim")
        for verdict, domains in results.get(method, [])
    ):
        return Verdict(Auth.PASS, "", forged)
    if any(verdict in ("fail", "softfail") for verdict, _domains in results.get("spf", [])):
        return Verdict(
            Auth.SPF_FAIL,
            _(
                "SPF check failed at %(server)s: the sending server may not send mail for %(domain)s, and "
                "no DKIM signature of %(domain)s passed."
            )
            % values_for,
            forged,
        )
    return Verdict(
        Auth.NO_PASS,
        _(
            "No passing DMARC, SPF or DKIM result for %(domain)s from %(server)s: the sender could not "
            "be authenticated."
        )
        % values_for,
        forged,
    )


# The properties that name the domain a method authenticated.
_DOMAIN_PROPS = frozenset({"smtp.mailfrom", "header.d", "header.i"})
_DMARC_PROPS = frozenset({"header.from"})
