"""The fictional company's vocabulary: what each kind of document states and how it is asked.

Everything here is a pure function of a seeded ``random.Random`` so the generator stays
deterministic. Names and jargon are invented on purpose: no base model can know them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

COMPANY = "Veltrona"

SYLLABLES = [
    "vel",
    "zor",
    "qua",
    "bri",
    "fen",
    "mox",
    "tal",
    "rin",
    "dex",
    "pol",
    "nar",
    "kes",
    "lum",
    "tor",
    "wyn",
    "gar",
    "sil",
    "vex",
    "dra",
    "cor",
    "ith",
    "ban",
    "mel",
    "ost",
    "ryk",
    "syl",
    "und",
    "jor",
    "phe",
    "kal",
]
PRODUCT_LINES = (
    "edge gateway",
    "sensor hub",
    "backup appliance",
    "label printer",
    "cold-chain logger",
    "fleet tracker",
    "kiosk terminal",
    "mesh router",
)
TEAMS = (
    "Field Service",
    "Billing",
    "Platform",
    "Logistics",
    "Customer Care",
    "Security",
    "Procurement",
    "Data Office",
)
POLICY_TOPICS = (
    "travel",
    "refund",
    "data retention",
    "remote work",
    "expense",
    "equipment loan",
    "incident disclosure",
    "vendor onboarding",
    "overtime",
    "customer credit",
    "training budget",
    "device return",
)
VERBS = ("replacing", "recalibrating", "decommissioning", "re-flashing", "auditing", "moving")
OBJECTS = (
    "a faulty gateway",
    "a customer's sensor hub",
    "a site backup appliance",
    "a kiosk terminal",
    "a depot label printer",
    "a fleet tracker",
    "a cold-chain logger",
    "a mesh router cluster",
)
CONCEPT_SUBJECTS = (
    "a support ticket",
    "a firmware build",
    "a purchase order",
    "a customer call",
    "a spare part",
    "a shipment",
    "an on-call shift",
    "a code review",
    "an invoice",
    "a site visit",
)
CONCEPT_CLAUSES = (
    "that was reopened within a day of closing",
    "that waits on a third-party vendor",
    "that was escalated twice in one week",
    "that missed its first promised date",
    "that ships without a changelog",
    "that was approved outside office hours",
    "that touches more than three regions",
    "that is paid for by the customer's reseller",
    "that needs a second engineer on site",
    "that is blocked by a missing serial number",
    "that was split across two depots",
    "that runs past midnight",
)
FILLER = (
    "This page is maintained by the {team} team and reviewed every quarter.",
    "Questions that are not answered here go to the {team} team's shared inbox.",
    "Older revisions of this page are kept in the archive for audit purposes.",
    "Staff in every region follow the same rules unless a local annex says otherwise.",
    "Where this page and a customer contract disagree, the contract takes precedence.",
    "Links to related forms can be found in the service portal under Documents.",
    "Please read the whole page before contacting support; most answers are below.",
    "The {team} team announces changes to this page in the weekly bulletin.",
    "All amounts are quoted in euros (€) and exclude value-added tax.",
    "Customers with a premium contract may be offered different terms by their account manager.",
    "Screenshots in older training material may show a previous version of the portal.",
    "Feedback on this page is welcome and helps the {team} team keep it accurate.",
    "Terms used on this page are explained in the {company} glossary.",
    "Regional offices in Zürich, Porto and Kraków follow this page as written.",
    "Exceptions are rare and must be documented in the ticket that requested them.",
    "The {team} team keeps a changelog of every edit made to this page.",
)


@dataclass(frozen=True)
class FactSpec:
    """One kind of fact a document states: how to draw a value, state it and ask about it."""

    key: str
    draw: Callable[[random.Random], str]
    statement: str
    question: str
    answer: str


def invented_word(rng: random.Random, syllables: int = 2) -> str:
    """A pronounceable made-up word, e.g. 'velmox'."""
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables))


def _money(low: int, high: int, step: int = 1) -> Callable[[random.Random], str]:
    return lambda rng: f"€{rng.randrange(low, high) * step:,}"


def _choice(values: tuple, unit: str) -> Callable[[random.Random], str]:
    return lambda rng: f"{rng.choice(values)} {unit}"


def _form_code(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
    return f"{letters}-{rng.randrange(100, 999)}"


FACTS: dict[str, tuple[FactSpec, ...]] = {
    "product": (
        FactSpec(
            "price",
            _money(49, 4999),
            "The list price of the {subject} is {value} per unit.",
            "What is the list price of the {subject}?",
            "The {subject} costs {value} per unit.",
        ),
        FactSpec(
            "warranty",
            _choice((6, 12, 18, 24, 36, 48), "months"),
            "Every {subject} ships with a warranty of {value}.",
            "How long is the warranty on the {subject}?",
            "The {subject} has a warranty of {value}.",
        ),
        FactSpec(
            "max_users",
            _choice((5, 10, 25, 50, 100, 250, 500), "concurrent users"),
            "A single {subject} supports at most {value}.",
            "How many concurrent users does the {subject} support?",
            "The {subject} supports at most {value}.",
        ),
        FactSpec(
            "throughput",
            lambda rng: f"{rng.randrange(2, 80) * 25} messages per second",
            "Under sustained load the {subject} handles {value}.",
            "What sustained throughput does the {subject} handle?",
            "The {subject} handles {value} under sustained load.",
        ),
        FactSpec(
            "weight",
            lambda rng: f"{rng.randrange(3, 190) / 10:.1f} kg",
            "The {subject} weighs {value} without packaging.",
            "How much does the {subject} weigh?",
            "The {subject} weighs {value}.",
        ),
    ),
    "policy": (
        FactSpec(
            "window",
            _choice((7, 10, 14, 21, 30, 45, 60, 90), "days"),
            "Under the {subject}, requests must be filed within {value}.",
            "Within how many days must requests be filed under the {subject}?",
            "Requests under the {subject} must be filed within {value}.",
        ),
        FactSpec(
            "approval",
            _money(2, 80, 50),
            "Under the {subject}, anything above {value} needs a director's written approval.",
            "Above what amount does the {subject} require a director's approval?",
            "The {subject} requires a director's approval above {value}.",
        ),
        FactSpec(
            "retention",
            _choice((1, 2, 3, 5, 7, 10), "years"),
            "Records covered by the {subject} are kept for {value}.",
            "How long are records kept under the {subject}?",
            "Records under the {subject} are kept for {value}.",
        ),
    ),
    "glossary": (
        FactSpec(
            "meaning",
            lambda rng: f"{rng.choice(CONCEPT_SUBJECTS)} {rng.choice(CONCEPT_CLAUSES)}",
            "In {company} jargon, a {subject} is {value}.",
            "What does '{subject}' mean at {company}?",
            "At {company}, a {subject} is {value}.",
        ),
        FactSpec(
            "team",
            lambda rng: f"the {rng.choice(TEAMS)} team",
            "The word {subject} is mostly heard in {value}.",
            "Which team mostly uses the term '{subject}'?",
            "The term '{subject}' is mostly used by {value}.",
        ),
    ),
    "procedure": (
        FactSpec(
            "form",
            lambda rng: f"form {_form_code(rng)}",
            "The procedure for {subject} starts with {value} in the service portal.",
            "Which form starts the procedure for {subject}?",
            "The procedure for {subject} starts with {value}.",
        ),
        FactSpec(
            "escalation",
            _choice((2, 4, 8, 12, 24, 48), "hours"),
            "If {subject} is not finished within {value}, escalate to the duty manager.",
            "After how long is {subject} escalated to the duty manager?",
            "{subject_cap} is escalated to the duty manager after {value}.",
        ),
        FactSpec(
            "steps",
            lambda rng: f"{rng.randrange(3, 12)} steps",
            "Done correctly, {subject} takes {value}.",
            "How many steps does {subject} take?",
            "{subject_cap} takes {value}.",
        ),
    ),
}
KIND_SOURCE = {
    "product": "product",
    "policy": "policy",
    "glossary": "glossary",
    "procedure": "procedure",
}
KIND_PREFIX = {"product": "prod", "policy": "pol", "glossary": "gls", "procedure": "proc"}
TITLE = {
    "product": "Product sheet: {subject}",
    "policy": "{subject_cap}",
    "glossary": "Glossary: {subject}",
    "procedure": "Procedure: {subject}",
}


def draw_subject(kind: str, rng: random.Random) -> str:
    """A new subject of the given kind (a product name, policy, jargon term or task)."""
    if kind == "product":
        name = invented_word(rng).capitalize()
        return f"{name} {rng.choice('QXRTVZ')}{rng.randrange(2, 99)} {rng.choice(PRODUCT_LINES)}"
    if kind == "policy":
        return f"{rng.choice(TEAMS)} {rng.choice(POLICY_TOPICS)} policy"
    if kind == "glossary":
        return invented_word(rng, syllables=rng.choice((2, 3)))
    return f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}"


def render(template: str, subject: str, value: str = "") -> str:
    """Fill in a template's fields."""
    return template.format(
        subject=subject,
        subject_cap=subject[:1].upper() + subject[1:],
        value=value,
        company=COMPANY,
    )
