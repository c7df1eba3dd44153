"""What one language contributes to the benchmark corpus (bench/corpus/<code>.py fills one of these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    common: str  # real common words, whitespace-separated, roughly most frequent first
    stems: str  # support-domain stems that take the endings below (generated inflections)
    endings: tuple[str, ...]
    # Phrase patterns; the slots in braces are listed in bench.corpus.SLOTS.
    greetings: tuple[str, ...]
    agent_greetings: tuple[str, ...]
    problems: tuple[str, ...]
    details: tuple[str, ...]
    context: tuple[str, ...]  # free sentences, mostly vocabulary words
    tried: tuple[str, ...]
    questions: tuple[str, ...]
    thanks: tuple[str, ...]
    closings: tuple[str, ...]
    agent_answers: tuple[str, ...]
    agent_questions: tuple[str, ...]
    followups: tuple[str, ...]
    notes: tuple[str, ...]
    subjects: tuple[str, ...]
    quote_header: str  # "On {date}, {sender} wrote:"
    first_names: str
    last_names: str
    company_forms: tuple[str, ...]  # "{last} Ltd"
    signature: str  # {first} {last} {company} {phone}
    agent_signature: str  # {first} {department}
    free_mail: tuple[str, ...]  # mail domains of customers without an organisation
