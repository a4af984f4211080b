"""CAP 1.2 (OASIS Common Alerting Protocol): the alert for a warning response, and the earlier
alerts an Update or Cancel names.

Pure: ``build_cap(response, section, geocode, ...)`` writes the XML text; what it says comes from
the profile's ``warning.cap`` settings and the response (warning.py). Nothing here prints, reads
the clock or touches files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from geohazard_cli.errors import ConfigError, InputError, field_error
from geohazard_cli.timeutil import cap_time as cap_time
from geohazard_cli.warning import CAP_TOKEN

if TYPE_CHECKING:
    from geohazard_cli.cap_area import Margins
    from geohazard_cli.warning import ActivationSentence, WarningResponse, WarningSection

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"

_CAP_TOKEN_RE = re.compile(CAP_TOKEN)
# The XSD's pattern for sent: no fractional seconds, an explicit offset.
_CAP_TIME_RE = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")

MsgType = Literal["Alert", "Update", "Cancel"]
Scope = Literal["Public", "Restricted"]


class CapRef(BaseModel):
    """An earlier alert named in ``references`` (CAP: "sender,identifier,sent"); when read from its
    file (``name``), also its status, message type, colour key and areas (None: not known)."""

    model_config = ConfigDict(defer_build=True, frozen=True)
    sender: str
    identifier: str
    sent: str
    status: str | None = None
    name: str | None = None  # the file it was read from
    msg_type: str | None = None
    colour: str | None = None  # colour key, told from the alert's severity (warning.colours[].cap)
    areas: list[str] | None = None  # as in areaDesc after "jurisdiction:"; [] = the whole jurisdiction
    earlier: tuple[CapRef, ...] = ()  # the alerts its own references name (an Update names them all)

    def text(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


def parse_reference(spec: str, field: str) -> CapRef:
    """``sender,identifier,sent`` as CAP writes it in ``references``."""
    parts = spec.strip().split(",")
    if len(parts) != 3 or not all(parts):
        raise field_error(field, spec, "is not a reference (give the earlier alert's CAP file, "
                                       "or sender,identifier,sent)")
    sender, identifier, sent = (p.strip() for p in parts)
    for what, value in (("sender", sender), ("identifier", identifier)):
        if not _CAP_TOKEN_RE.match(value):
            raise field_error(field, spec, f"has a {what} with spaces or < & in it")
    if not _CAP_TIME_RE.match(sent):
        raise field_error(field, spec, "has a sent time not in CAP form (2026-07-21T08:30:00+08:00)")
    return CapRef(sender=sender, identifier=identifier, sent=sent)


def reference_from_xml(text: str, name: str, field: str, section: WarningSection | None = None) -> CapRef:
    """The sender, identifier, sent, status and msgType of a CAP 1.2 alert document (an earlier
    alert's file) and, given the profile's ``section``, its colour and areas. A Cancel message is
    refused: what it cancelled can be neither updated nor cancelled again."""
    import xml.etree.ElementTree as ET

    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InputError(f"{field}: {name}: DTDs and entities are not allowed in a CAP file")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"{field}: {name}: not XML ({exc})") from None
    if root.tag != f"{{{CAP_NS}}}alert":
        raise InputError(f"{field}: {name}: not a CAP 1.2 alert (root element {root.tag})")
    ns = f"{{{CAP_NS}}}"

    def get(parent: ET.Element, tag: str) -> str | None:
        el = parent.find(ns + tag)
        if el is None:
            return None
        return (el.text or "").strip() or None

    values = {}
    for tag in ("sender", "identifier", "sent"):
        value = get(root, tag)
        if value is None:
            raise InputError(f"{field}: {name}: the alert has no {tag}")
        values[tag] = value
    ref = parse_reference(",".join((values["sender"], values["identifier"], values["sent"])),
                          f"{field}: {name}")
    msg_type = get(root, "msgType")
    if msg_type == "Cancel":
        raise InputError(f"{field}: {name} is itself a Cancel message ({ref.identifier}); "
                         "a cancelled alert can be neither updated nor cancelled again")
    colour: str | None = None
    areas: list[str] | None = None
    info = root.find(ns + "info")
    if section is not None and info is not None:
        colour = _colour_of(section, *(get(info, t) for t in ("severity", "urgency", "certainty", "responseType")))
        areas = _our_areas(section, [get(a, "areaDesc") for a in info.findall(ns + "area")])
    earlier = tuple(parse_reference(t, f"{field}: {name}: references")
                    for t in (get(root, "references") or "").split())
    return ref.model_copy(update={"status": get(root, "status"), "name": name, "msg_type": msg_type,
                                  "colour": colour, "areas": areas, "earlier": earlier})


def _our_areas(section: WarningSection, descs: Sequence[str | None]) -> list[str] | None:
    """The areas of an alert this profile wrote: [] for the whole jurisdiction, else the names
    after "jurisdiction:" of each area (one per <area>; older alerts joined them with 、)."""
    if descs == [section.area_name]:
        return []
    out: list[str] = []
    for desc in descs:
        if desc is None or not desc.startswith(section.area_name + ":"):
            return None
        out += [a for a in desc[len(section.area_name) + 1:].split("、") if a and a not in out]
    return out or None


def _colour_of(section: WarningSection, severity: str | None, urgency: str | None,
               certainty: str | None, response_type: str | None) -> str | None:
    """The colour whose ``cap`` severity is ``severity`` (when several share it, the one whose
    urgency, certainty and responseType match too); None when no single colour fits."""
    found = [c for c in section.colours if c.cap.severity == severity]
    if len(found) > 1:
        found = [c for c in found if (c.cap.urgency, c.cap.certainty, c.cap.response_type)
                 == (urgency, certainty, response_type)]
    return found[0].key if len(found) == 1 else None


def check_reference(ref: CapRef, response: WarningResponse, section: WarningSection, *,
                    msg_type: MsgType, sent: str, field: str, level: str | None,
                    areas_given: bool) -> None:
    """Refuse an Update or Cancel that does not fit the alert ``ref`` names: sent before it; and,
    for a Cancel of an alert read from its file, a LEVEL or --area other than what it said."""
    if datetime.fromisoformat(sent) < datetime.fromisoformat(ref.sent):
        raise InputError(f"--sent: {sent} is earlier than the alert {field} names ({ref.identifier}, "
                         f"sent {ref.sent}); an {msg_type} must come after it")
    if msg_type != "Cancel" or ref.name is None:
        return
    if ref.colour is None or ref.areas is None:
        raise InputError(f"{field}: {ref.name}: cannot tell the alert's colour or areas (not an alert "
                         f"of this profile?); give sender,identifier,sent instead")
    names = {c.key: c.name for c in section.colours}
    if level is not None and response.level != ref.colour:
        raise InputError(f'LEVEL: "{level}" ({response.level_name}) is not the colour of the alert '
                         f"{field} cancels ({ref.name}: {names[ref.colour]}); omit LEVEL or give "
                         f"{names[ref.colour]}")
    if areas_given and set(response.areas) != set(ref.areas):
        theirs = "、".join(ref.areas) or section.area_name
        raise InputError(f"--area: {response.areas_text()} is not the area of the alert {field} cancels "
                         f"({ref.name}: {theirs}); omit --area or give the same areas")


def update_text(ref: CapRef, response: WarningResponse, section: WarningSection) -> str:
    """What an Update changes against the alert ``ref`` (from its file): ``warning.cap.update``;
    empty when the earlier alert's colour or areas are not known."""
    if ref.colour is None or ref.areas is None:
        return ""
    words = section.cap.update
    names = {c.key: c.name for c in section.colours}
    out = ""
    if ref.colour != response.level:
        out += words.colour.format(old=names[ref.colour], new=response.level_name)
    if set(ref.areas) != set(response.areas):
        out += words.areas.format(old="、".join(ref.areas) or section.area_name, new=response.areas_text())
    return out or words.unchanged


def check_identifier(value: str, field: str = "--identifier") -> str:
    if not _CAP_TOKEN_RE.match(value):
        raise field_error(field, value, "is not a CAP identifier (no spaces, commas, < or &)")
    return value


def make_identifier(section: WarningSection, sent: str, sequence: int = 0) -> str:
    """GB/T 35965.1-2018 A.1.1: 发布单位代码_YYYYMMDDhhmmss_N (the sent time as written, Beijing
    time in this tool's profiles; N a digit for alerts sent in the same second)."""
    if not 0 <= sequence <= 9:
        raise field_error("--sequence", str(sequence), "is not a digit 0-9 (GB/T 35965.1 A.1.1)")
    stamp = datetime.fromisoformat(sent).strftime("%Y%m%d%H%M%S")
    return f"{section.cap.sender_code.text()}_{stamp}_{sequence}"


def build_cap(
    response: WarningResponse,
    section: WarningSection,
    geocode: dict[str, str],
    *,
    identifier: str,
    sent: str,
    exercise: bool = False,
    msg_type: MsgType = "Alert",
    references: Sequence[CapRef] = (),
    scope: Scope | None = None,
    english: bool = False,
    margins: Margins | None = None,
) -> str:
    """The CAP 1.2 alert (XML text) for ``response``; every text goes through ElementTree.

    A Public alert's instruction is what residents must do (``warning.cap.public_instructions``);
    the duty list for staff goes only into a Restricted one (``scope``, with ``<restriction>``).
    Each area is its own ``<area>``; an Update or Cancel names the earlier alert and every alert
    that one named. With ``margins`` (district.yaml), a street's ``<area>`` with hazard sites
    carries a ``<polygon>`` or ``<circle>`` enclosing them (cap_area.py says the rule)."""
    import xml.etree.ElementTree as ET

    from geohazard_cli.cap_area import enclosing

    if msg_type != "Alert" and not references:
        raise InputError(f"an {msg_type} message must name the earlier alert (references)")
    for ref in references:
        if ref.status == "Exercise" and not exercise:
            raise InputError(f"the earlier alert {ref.identifier} is an Exercise; add --exercise")
        if ref.status == "Actual" and exercise:
            raise InputError(f"the earlier alert {ref.identifier} is Actual; an Exercise cannot update or cancel it")
    cap = section.cap
    ns = f"{{{CAP_NS}}}"
    ET.register_namespace("", CAP_NS)
    root = ET.Element(ns + "alert")

    def sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
        el = ET.SubElement(parent, ns + tag)
        el.text = text
        return el

    scope = scope or cap.scope
    sub(root, "identifier", check_identifier(identifier))
    sub(root, "sender", cap.sender_code.text())
    if not _CAP_TIME_RE.match(sent):
        raise InputError(f'sent: "{sent}" is not in CAP form (2026-07-21T08:30:00+08:00)')
    sub(root, "sent", sent)
    sub(root, "status", "Exercise" if exercise else "Actual")
    sub(root, "msgType", msg_type)
    sub(root, "scope", scope)
    if scope == "Restricted":
        sub(root, "restriction", cap.restriction)
    if exercise:
        sub(root, "note", section.exercise.cap_note)
    named = list(dict.fromkeys(r.text() for ref in references for r in (*ref.earlier, ref)))
    if named:
        sub(root, "references", " ".join(named))

    if not geocode.get("valueName") or not geocode.get("value"):
        raise ConfigError("geocode: a CAP area needs geocode {valueName: ..., value: ...} in the profile")
    cancel = msg_type == "Cancel"
    texts = [_zh_texts(response, section, msg_type, references, scope, exercise)]
    if english:
        texts.append(_en_texts(response, section, cancel, exercise))
    start = datetime.fromisoformat(sent)
    for t in texts:
        info = ET.SubElement(root, ns + "info")
        sub(info, "language", t.language)
        sub(info, "category", cap.category)
        sub(info, "event", t.event)
        if cancel:
            sub(info, "responseType", "AllClear")
        elif response.cap.response_type:
            sub(info, "responseType", response.cap.response_type)
        sub(info, "urgency", cap.cancel.urgency if cancel else response.cap.urgency)
        sub(info, "severity", response.cap.severity)
        sub(info, "certainty", cap.cancel.certainty if cancel else response.cap.certainty)
        sub(info, "effective", sent)
        sub(info, "expires", (start + timedelta(hours=response.cap.validity.hours)).isoformat())
        sub(info, "senderName", t.sender_name)
        sub(info, "headline", t.headline)
        sub(info, "description", t.description)
        if t.instruction:
            sub(info, "instruction", t.instruction)
        if t.contact:
            sub(info, "contact", t.contact)
        for i, desc in enumerate(t.areas):
            area = ET.SubElement(info, ns + "area")
            sub(area, "areaDesc", desc)
            if margins is not None and response.areas:
                shape = enclosing([(s.lon, s.lat) for s in response.sites if s.area == response.areas[i]
                                   and s.lon is not None and s.lat is not None], margins)
                if shape is not None:
                    sub(area, shape.kind, shape.text)
            # The district's code, but not on a street's area: it would widen it to the whole district
            # (CAP's area is the union of its codes and shapes); a place as typed (全区) keeps it.
            streets = response.street_areas if response.street_areas is not None else []
            if not response.areas or response.areas[i] not in streets:
                gc = ET.SubElement(area, ns + "geocode")
                sub(gc, "valueName", geocode["valueName"])
                sub(gc, "value", geocode["value"])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


class _InfoText(NamedTuple):
    """What differs between the zh-CN and the en-US <info> of one alert."""

    language: str
    event: str
    sender_name: str
    headline: str
    description: str
    instruction: str | None
    contact: str | None
    areas: list[str]


def _zh_texts(response: WarningResponse, section: WarningSection, msg_type: MsgType,
              references: Sequence[CapRef], scope: Scope, exercise: bool) -> _InfoText:
    cap = section.cap
    values = {
        "jurisdiction": response.area_name,
        "areas": response.areas_text(),
        "colour": response.level_name,
        "issuer": response.issuer,
        "event": response.event,
        "activation": _activation_text(response, section.activation_sentence),
    }
    mark = section.exercise.mark if exercise else ""
    areas = area_descs(response.area_name, response, ":")
    if msg_type == "Cancel":
        return _InfoText(cap.language, response.event, cap.sender_name, mark + cap.cancel.headline.format_map(values),
                         cap.cancel.description.format_map(values), cap.cancel.instruction.format_map(values),
                         None, areas)
    changed = "".join(update_text(r, response, section) for r in references) if msg_type == "Update" else ""
    contact = next((c for c in response.contacts if c.order == 1 and c.dial), None)
    return _InfoText(cap.language, response.event, cap.sender_name, mark + cap.headline.format_map(values),
                     changed + cap.description.format_map(values),
                     instruction_text(response) if scope == "Restricted" else public_text(response, section),
                     f"{contact.unit} {contact.dial}" if contact is not None else None, areas)


def _en_texts(response: WarningResponse, section: WarningSection, cancel: bool, exercise: bool) -> _InfoText:
    en = section.cap.en
    if en is None:
        raise ConfigError("warning.cap.en: --lang en needs the English texts in the profile (see docs/warning.md)")
    values = {"jurisdiction": en.jurisdiction, "colour": en.colours[response.level], "event": en.event,
              "areas": ", ".join(response.areas) if response.areas else en.jurisdiction}
    mark = en.exercise_mark if exercise else ""
    areas = area_descs(en.jurisdiction, response, ": ")
    if cancel:
        return _InfoText("en-US", en.event, en.sender_name, mark + en.cancel_headline.format_map(values),
                         en.cancel_description.format_map(values), en.cancel_instruction.format_map(values),
                         None, areas)
    rank = section.rank(response.level)
    lines = [t for p, t in zip(section.cap.public_instructions, en.instructions, strict=True)
             if section.rank(p.from_) <= rank]
    return _InfoText("en-US", en.event, en.sender_name, mark + en.headline.format_map(values),
                     en.description.format_map(values),
                     "\n".join(f"{n}. {t}" for n, t in enumerate(lines, start=1)), None, areas)


def area_descs(jurisdiction: str, response: WarningResponse, sep: str) -> list[str]:
    """One areaDesc per area ("济南市市中区:七里山街道"), the jurisdiction alone when none is named:
    a long street list becomes several <area> blocks, never one text past a consumer's limit."""
    if not response.areas:
        return [jurisdiction]
    return [f"{jurisdiction}{sep}{a}" for a in response.areas]


def public_text(response: WarningResponse, section: WarningSection) -> str:
    """A Public alert's instruction: what residents of the areas must do, each with its clause."""
    rank = section.rank(response.level)
    lines = [p for p in section.cap.public_instructions if section.rank(p.from_) <= rank]
    return "\n".join(f"{n}. {p.text}({p.source})" for n, p in enumerate(lines, start=1))


def _activation_text(response: WarningResponse, sentence: ActivationSentence) -> str:
    a = response.activation
    template = sentence.active if response.active else sentence.inactive
    return template.format(name=a.name, text=a.text, source=a.source)


def instruction_text(response: WarningResponse) -> str:
    """The measures as numbered lines, each with its clause (routine duties when not active)."""
    lines: list[str] = []
    if response.active:
        for n, m in enumerate(response.measures, start=1):
            extra = "".join(f"({i}){t}" for i, t in enumerate(m.items, start=1))
            lines.append(f"{n}. {m.text}{':' + extra if extra else ''}({m.source})")
    else:
        for n, c in enumerate([*response.routine, *response.notes], start=1):
            lines.append(f"{n}. {c.text}({c.source})")
    return "\n".join(lines)
