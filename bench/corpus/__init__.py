"""Realistic support text for the benchmark data (bench/generate.py), in English, Italian, Polish and French.

Each language module gives a few hundred real common words, support-domain stems that take the language's
endings, and the phrase patterns of a conversation (greeting, problem, details, what was tried, question,
thanks, signature; the agent's answers and questions; internal notes). The vocabulary of a language is its
common words, the inflections of its stems and technical compounds shared by all languages (`mailrelay`,
`backupagent`): several thousand distinct words, drawn with a Zipf-Mandelbrot frequency (rank r has weight
1 / (r + 2.7)^1.05), so a few words are in most tickets and most words are rare, as in a real desk.

Slots in the patterns: {w} a vocabulary word; {n} a small number; the others come from the ticket's
context (`Context`): {product} {service} {host} {host2} {ip} {ip6} {error} {order} {ref} {email} {name}
{agent} {date} {time}.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from bench.corpus import en, fr, it, pl
from bench.corpus.language import Language

LANGUAGES: dict[str, Language] = {
    lang.code: lang for lang in (en.LANGUAGE, it.LANGUAGE, pl.LANGUAGE, fr.LANGUAGE)
}
SLOTS = ("w", "n", "product", "service", "host", "host2", "ip", "ip6", "error", "order", "ref", "email")
SLOTS += ("name", "agent", "date", "time")

# Technical compounds, the same in every language: part x kind, e.g. "mailrelay", "dbbackup".
TECH_PARTS = (
    "mail", "web", "db", "cache", "auth", "dns", "vpn", "api", "backup", "storage", "proxy", "cdn", "sso",
    "ldap", "smtp", "imap", "ftp", "ssh", "cron", "queue", "log", "disk", "cpu", "ram", "ssl", "tls", "cert",
    "token", "session", "cluster", "node", "pod", "volume", "bucket", "gateway", "router", "switch",
    "firewall", "printer", "scanner", "laptop", "wifi", "lan", "vlan", "dhcp", "ntp", "nfs", "smb", "raid",
    "kvm",
)  # fmt: skip
TECH_KINDS = (
    "server", "relay", "proxy", "agent", "client", "daemon", "service", "worker", "pool", "quota", "limit",
    "timeout", "config", "policy", "rule", "port", "key", "store", "sync", "job", "panel", "console",
    "portal", "plugin", "driver", "module", "update", "patch", "filter", "list", "report", "check",
    "monitor", "backup", "mirror", "gateway", "cluster", "cert", "token", "alert", "index", "shard",
    "replica", "snapshot", "manager",
)  # fmt: skip
SERVICES = (
    "mail server", "web server", "MySQL database", "PostgreSQL database", "VPN gateway", "DNS resolver",
    "SMTP relay", "IMAP service", "SFTP server", "load balancer", "Kubernetes cluster", "Redis cache",
    "backup agent", "control panel", "webmail", "CRM", "ERP", "file share", "print server",
    "Active Directory", "Exchange", "WordPress site", "Nextcloud", "GitLab", "VoIP PBX", "object storage",
)  # fmt: skip
BRAND_HEADS = (
    "Nex", "Velt", "Quor", "Stra", "Lumi", "Orb", "Kel", "Vyn", "Zer", "Tal", "Mir", "Cor", "Fen", "Bryn",
    "Sol", "Dax", "Ira", "Hal", "Pyr", "Ost",
)  # fmt: skip
BRAND_TAILS = ("ora", "rix", "ion", "ent", "ava", "ex", "ium", "eon", "ara", "ix")
PRODUCT_KINDS = (
    "Cloud",
    "Mail",
    "Backup",
    "VPS",
    "Host",
    "DNS",
    "Office",
    "CRM",
    "Shield",
    "Drive",
    "Sync",
    "Pay",
)
HOST_ROLES = ("web", "mail", "db", "app", "vps", "fs", "backup", "mx", "ns", "vpn", "srv", "node")
DATACENTRES = ("fra1", "mil2", "waw1", "par3", "ams1", "lon2")
ERRORS = (
    "HTTP 500", "HTTP 502 Bad Gateway", "HTTP 503", "HTTP 504 Gateway Timeout", "HTTP 403 Forbidden",
    "550 5.7.1 Relaying denied", "421 4.7.0 Try again later", "554 5.7.1 Message rejected as spam",
    "ERR_CONNECTION_RESET", "ERR_SSL_PROTOCOL_ERROR", "SSL_ERROR_BAD_CERT_DOMAIN",
    "certificate verify failed",
    "errno 111 Connection refused", "errno 28 No space left on device", "NT_STATUS_LOGON_FAILURE",
    "SQLSTATE[HY000] [2002]", "ORA-{5}", "E{4}", "0x8007{X4}", "AUTH-{3}",
    "Error 1045 (28000) Access denied",
    "Kernel panic", "Out of memory: Killed process {4}", "DNS_PROBE_FINISHED_NXDOMAIN", "PHP Fatal error",
)  # fmt: skip


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(text.split()))


def vocabulary(language: Language, seed: int = 1) -> list[str]:
    """The language's distinct words, most frequent first: its common words, then its generated inflections
    and the technical compounds, interleaved in a fixed pseudo-random order."""
    common = _words(language.common)
    generated = [stem + ending for stem in _words(language.stems) for ending in language.endings]
    generated += [part + kind for part in TECH_PARTS for kind in TECH_KINDS]
    random.Random(f"{language.code}-{seed}").shuffle(generated)
    return list(dict.fromkeys(common + generated))


def zipf_weights(size: int, first_rank: int = 1) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights for ranks first_rank..size."""
    return list(accumulate(1.0 / (rank + 2.7) ** 1.05 for rank in range(first_rank, size + 1)))


@dataclass
class Context:
    """What one ticket is about: the same host, address, order... recur through its conversation."""

    product: str
    service: str
    host: str
    host2: str
    ip: str
    ip6: str
    error: str
    order: str
    ref: str
    email: str
    name: str
    agent: str
    date: str
    time: str


Template = tuple[str, ...]  # literal, slot, literal, slot, ..., literal


def _compile(patterns: Sequence[str]) -> list[Template]:
    compiled = []
    for pattern in patterns:
        parts = tuple(re.split(r"\{(\w+)\}", pattern))
        unknown = set(parts[1::2]) - set(SLOTS)
        if unknown:
            raise ValueError(f"unknown slots {unknown} in {pattern!r}")
        compiled.append(parts)
    return compiled


class Technical:
    """Tokens every language shares: products, hosts, addresses, error codes, order numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        brands = [head + tail for head in BRAND_HEADS for tail in BRAND_TAILS]
        rng.shuffle(brands)
        self.products = [f"{brand} {rng.choice(PRODUCT_KINDS)}" for brand in brands[:120]]
        self.product_weights = zipf_weights(len(self.products))
        # Customers' servers sit in a few hundred provider networks, as on a real desk.
        self.networks = [f"{rng.randint(31, 223)}.{rng.randint(0, 255)}" for _ in range(400)]

    def product(self) -> str:
        return self.rng.choices(self.products, cum_weights=self.product_weights)[0]

    def service(self) -> str:
        return self.rng.choice(SERVICES)

    def host(self, domain: str) -> str:
        rng = self.rng
        return f"{rng.choice(HOST_ROLES)}{rng.randint(1, 40):02d}.{rng.choice(DATACENTRES)}.{domain}"

    def ipv4(self) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        return f"{rng.choice(self.networks)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def ipv6(self) -> str:
        rng = self.rng
        return f"2001:db8:{rng.randint(0, 0xFFFF):x}:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"

    def error(self) -> str:
        rng = self.rng
        code = rng.choice(ERRORS)
        return (
            code.replace("{5}", f"{rng.randint(0, 99999):05d}")
            .replace("{4}", f"{rng.randint(1000, 9999)}")
            .replace("{3}", f"{rng.randint(100, 999)}")
            .replace("{X4}", f"{rng.randint(0, 0xFFFF):04X}")
        )

    def order(self, year: int) -> str:
        rng = self.rng
        if rng.random() < 0.7:
            return f"ORD-{year}-{rng.randint(0, 999999):06d}"
        return f"{year}/{rng.randint(1, 99999):05d}"

    def phone(self) -> str:
        rng = self.rng
        return f"+{rng.choice((39, 48, 33, 44, 1))} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"  # noqa: E501


class Writer:
    """Support text in one language from a seeded random generator."""

    SLOT_WORDS_FROM = 40  # {w} skips the most common (function) words, which the patterns already carry

    def __init__(self, language: Language, rng: random.Random) -> None:
        self.language = language
        self.rng = rng
        self.words = vocabulary(language)
        self._slot_words = self.words[self.SLOT_WORDS_FROM :]
        self._slot_weights = zipf_weights(len(self.words), first_rank=self.SLOT_WORDS_FROM + 1)
        self._buffer: list[str] = []
        lang = language
        self.greetings = _compile(lang.greetings)
        self.agent_greetings = _compile(lang.agent_greetings)
        self.problems = _compile(lang.problems)
        self.details = _compile(lang.details)
        self.context = _compile(lang.context)
        self.tried = _compile(lang.tried)
        self.questions = _compile(lang.questions)
        self.agent_answers = _compile(lang.agent_answers)
        self.agent_questions = _compile(lang.agent_questions)
        self.followups = _compile(lang.followups)
        self.notes = _compile(lang.notes)
        self.subjects = _compile(lang.subjects)

    def word(self) -> str:
        if not self._buffer:
            self._buffer = self.rng.choices(self._slot_words, cum_weights=self._slot_weights, k=4096)
        return self._buffer.pop()

    def fill(self, template: Template, ctx: Context) -> str:
        out = [template[0]]
        for index in range(1, len(template), 2):
            slot = template[index]
            if slot == "w":
                out.append(self.word())
            elif slot == "n":
                out.append(str(self.rng.randint(2, 95)))
            else:
                out.append(getattr(ctx, slot))
            out.append(template[index + 1])
        return "".join(out)

    def pick(self, templates: list[Template], ctx: Context) -> str:
        return self.fill(self.rng.choice(templates), ctx)

    def some(self, templates: list[Template], ctx: Context, low: int, high: int) -> list[str]:
        count = self.rng.randint(low, high)
        return [self.fill(t, ctx) for t in self.rng.sample(templates, min(count, len(templates)))]

    def subject(self, ctx: Context) -> str:
        return self.pick(self.subjects, ctx)[:250]

    def description(self, ctx: Context, signature: str) -> str:
        """A customer's first message: greeting, problem, details, what was tried, question, thanks."""
        rng = self.rng
        body = [*self.some(self.problems, ctx, 1, 2), *self.some(self.context, ctx, 1, 3)]
        body += self.some(self.details, ctx, 0, 3) + self.some(self.tried, ctx, 0, 2)
        body += self.some(self.questions, ctx, 1, 2)
        paragraphs = [self.pick(self.greetings, ctx), " ".join(body)]
        paragraphs.append(rng.choice(self.language.thanks) + "\n" + rng.choice(self.language.closings))
        return "\n\n".join(paragraphs) + "\n" + signature

    def agent_reply(self, ctx: Context, signature: str, *, ask: bool) -> str:
        body = self.some(self.agent_answers, ctx, 1, 3) + self.some(self.context, ctx, 0, 1)
        if ask:
            body.append(self.pick(self.agent_questions, ctx))
        closing = self.rng.choice(self.language.closings)
        return f"{self.pick(self.agent_greetings, ctx)}\n\n{' '.join(body)}\n\n{closing}\n{signature}"

    def customer_reply(self, ctx: Context, signature: str) -> str:
        body = self.some(self.followups, ctx, 1, 2) + self.some(self.context, ctx, 0, 2)
        body = " ".join(body + self.some(self.details, ctx, 0, 1))
        thanks = self.rng.choice(self.language.thanks)
        return f"{self.pick(self.greetings, ctx)}\n\n{body}\n\n{thanks}\n{signature}"

    def note(self, ctx: Context) -> str:
        return " ".join(self.some(self.notes, ctx, 1, 2))

    def quote(self, previous: str, ctx: Context, sender: str) -> str:
        """An email client's quote of the previous message: "On <date>, <sender> wrote:" and "> " lines."""
        header = self.language.quote_header.format(date=ctx.date, sender=sender)
        lines = previous.splitlines()[:12]
        return "\n\n" + header + "\n" + "\n".join(f"> {line}" if line else ">" for line in lines)
