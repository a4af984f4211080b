"""The schema of a profile's ``dispatch:`` section (pydantic): what validates it when the rules file
changes, and what `check` reads. Commands read the section as plain objects (dispatch.py), built
from the data this schema validated (kept by cache.py beside the profile); each class here has a
runtime twin of the same name and fields there (tests/test_roster.py holds the two equal).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class EngageRule(BaseModel):
    """One rule of a level: which units it adds to the call list, why, and the clause."""

    model_config = _STRICT
    engage: Literal["office", "command", "members", "groups", "group", "unit", "local_street"]
    name: str | None = None  # group or unit name for `group` / `unit`
    units: Literal["all", "lead"] | list[str] = "all"  # for `group`
    reason: str = Field(min_length=1)
    source: str = Field(min_length=1)
    # `local_street` only: what the street office named from the location is (受灾街道办事处), shown
    # before its name; and whether this level calls every street office even when the affected one
    # is known (then 各街道办事处 stays on the list, once, with `all_streets` as the reason).
    label: str | None = None
    all_streets: str | None = None


class LevelDispatch(BaseModel):
    model_config = _STRICT
    text: str
    source: str
    engage: list[EngageRule] = Field(min_length=1)


class ReportSection(BaseModel):
    """One section of the 速报单: its title, the incident fields it holds, and the clause."""

    model_config = _STRICT
    title: str = Field(min_length=1)
    fields: list[str] = Field(min_length=1)
    source: str | None = None  # None: not named by the plan (shown without a citation)


class Dispatch(BaseModel):
    model_config = _STRICT
    levels: dict[str, LevelDispatch]
    # The 速报单's content as this profile's plan lists it (district §3.2.1, national §3.3.2).
    report_form: list[ReportSection] = Field(default_factory=list)
    # When the roster (contacts.yaml) encodes another plan than this profile's: the mark put before
    # every clause the roster cites (its posts §2.1/§2.2, work groups and duties of 附件1), so a
    # sheet under this profile never passes the roster's clause off as its own ("区" -> (区2.1)).
    roster_cite: str = ""
