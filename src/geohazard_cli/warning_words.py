"""The words and bounds a profile's ``warning:`` section is written in (CAP's code lists, the
placeholders its texts may use, the identifier rule), shared by its schema (warning_schema.py) and
the section as commands read it (warning_rules.py)."""

from __future__ import annotations

import unicodedata
from typing import Literal

Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
ResponseType = Literal["Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess",
                       "AllClear", "None"]
CapCategory = Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                      "Transport", "Infra", "CBRNE", "Other"]

# CAP 1.2 §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters
# (< and &)".
CAP_TOKEN = r"^[^\s,<&]+$"
MAX_AREA = 100
PLACEHOLDERS = frozenset({"jurisdiction", "areas", "colour", "issuer", "event", "activation"})


ACTIVATION_PLACEHOLDERS = ("name", "text", "source")
UPDATE_PLACEHOLDERS = ("old", "new")
EN_PLACEHOLDERS = ("jurisdiction", "areas", "colour", "event")


def normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()
