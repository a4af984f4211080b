"""The schema of contacts.yaml (pydantic): what validates the file when it changes, and what `check`
reads. Commands read the roster as plain objects (contacts.py), built from the data this schema
validated (kept by cache.py), so a run builds none of these models. Each class here has a runtime
twin of the same name and fields in contacts.py (tests/test_roster.py holds the two equal).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

UnitKind = Literal["office", "post", "member", "section", "street", "team"]


class Duty(BaseModel):
    model_config = _STRICT
    text: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Holder(BaseModel):
    """A post in the command (指挥长, 副指挥长, 办公室主任...) and the unit that holds it."""

    model_config = _STRICT
    title: str
    holder: str  # 区应急局局长
    unit: str  # a unit name or alias


class Command(BaseModel):
    model_config = _STRICT
    name: str
    full_name: str
    source: str
    commander: Holder
    deputies: list[Holder]
    members: list[str] = Field(min_length=1)
    duties: Duty


class Office(BaseModel):
    model_config = _STRICT
    unit: str
    seat: str
    source: str
    director: Holder
    deputies: list[Holder]


class Unit(BaseModel):
    """One unit (or post) to call. ``phone`` is exactly as the plan prints it."""

    model_config = _STRICT
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    aliases: list[str] = []
    kind: UnitKind
    parent: str | None = None
    phone: str | None
    phone_missing: str | None = None  # why no number is known (shown on call sheets)
    in_plan: bool = True  # False: not named by the plan (see source)
    source: str = Field(min_length=1)
    duties: list[Duty] = []


class Group(BaseModel):
    """A work group of 附件1(一)."""

    model_config = _STRICT
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    lead: str
    members: list[str]
    source: str
    duties: str = Field(min_length=1)
    note: str | None = None


WORDING_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "group_lead": ("group", "source"), "group_member": ("group", "source"), "group_lead_short": ("group",),
    "lead_duty": ("group", "duties", "source"), "member_duty": ("group", "duties", "source"),
    "street_unknown": ("reason", "source"), "bad_number": ("phone",),
}


class RosterWording(BaseModel):
    """How call lists and the roster name group membership and unplaced streets (``wording:`` in
    contacts.yaml): the plan's own words, as templates whose ``{placeholders}`` the code fills in."""

    model_config = _STRICT
    title: str = Field(min_length=1)  # the roster table's heading (区指挥部成员通讯录)
    group_lead: str = Field(min_length=1)  # a reason: {group} {source} (应急救援组牵头单位(附件1(一)))
    group_member: str = Field(min_length=1)  # a reason: {group} {source}
    group_lead_short: str = Field(min_length=1)  # the roster table: {group} (应急救援组(牵头))
    lead_duty: str = Field(min_length=1)  # a duty: {group} {duties} {source}
    member_duty: str = Field(min_length=1)  # a duty: {group} {duties} {source}
    street_unknown: str = Field(min_length=1)  # the location names no street: {reason} {source}
    bad_number: str = Field(min_length=1)  # a number that cannot be dialled, on the sheet: {phone}

    @field_validator("group_lead", "group_member", "group_lead_short", "lead_duty", "member_duty",
                     "street_unknown", "bad_number")
    @classmethod
    def _placeholders(cls, value: str, info: ValidationInfo) -> str:
        from geohazard_cli.phrasing import placeholder_problem

        bad = placeholder_problem(value, WORDING_PLACEHOLDERS[info.field_name or ""])
        if bad:
            raise ValueError(bad)
        return value


class RosterSchema(BaseModel):
    """contacts.yaml."""

    model_config = _STRICT

    schema_version: Literal[1] = Field(alias="schema")
    title: str
    document: str
    area_code: str = Field(pattern=r"^0\d{2,3}$")
    local_number_length: int = Field(ge=7, le=8)  # digits of a local fixed-line number in area_code
    command: Command
    office: Office
    units: list[Unit] = Field(min_length=1)
    groups: list[Group]
    wording: RosterWording
