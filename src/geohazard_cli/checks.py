"""`geohazard check`: validate a config dir and list every problem (not just the first).

Checked: every profile in rules/ (YAML syntax, schema, the profile's own soundness checks, its
``dispatch:`` section against contacts.yaml), rules/profiles.yaml's default, contacts.yaml (schema,
unknown or duplicated units with the closest known name, phone numbers), and templates/ (each
compiles; call sheets and report forms render a sample incident of every grade of every profile).
Each problem names the file, line (where known), key path and unit.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError, model_validator

from geohazard_cli.contacts import Problem, Roster
from geohazard_cli.contacts_load import LOCAL_FILE, check_roster
from geohazard_cli.dispatch import check_dispatch
from geohazard_cli.errors import GeohazardError
from geohazard_cli.rules import Profile
from geohazard_cli.rules_schema import ProfileSchema, check_profile, plain
from geohazard_cli.timeutil import zone

DOCUMENTS = ("callsheet", "report-form")
FORMATS = ("text", "markdown", "html")


class _UncheckedProfile(ProfileSchema):
    """A profile validated for shape only, so that check_profile can list every problem."""

    @model_validator(mode="after")
    def _sound(self) -> _UncheckedProfile:
        return self


def _from_error(exc: GeohazardError, file: str, path: str = "(file)") -> Problem:
    """A Problem from a one-line error message that may start with ``file:line:``."""
    msg = str(exc)
    m = re.match(r"^(.*?):(\d+): (.*)$", msg)
    if m and m.group(1) == file:
        return Problem(file=file, line=int(m.group(2)), path=path, message=m.group(3))
    if msg.startswith(f"{file}: "):
        msg = msg[len(file) + 2:]
    return Problem(file=file, path=path, message=msg)


def _validation_problems(
    exc: ValidationError, file: str, text: str, prefix: tuple[str | int, ...] = ()
) -> list[Problem]:
    from geohazard_cli.loader import line_of

    out = []
    for err in exc.errors():
        loc = [*prefix, *(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))]
        kind = err["type"]
        msg = ("unknown key" if kind == "extra_forbidden" else
               "required key is missing" if kind == "missing" else err["msg"].removeprefix("Value error, "))
        out.append(Problem(file=file, line=line_of(text, loc), path=".".join(map(str, loc)) or "(top level)",
                           message=msg))
    return out


def _load(path: Path) -> tuple[str | None, Any, list[Problem]]:
    """Read and parse a YAML file: (text, data, problems)."""
    from geohazard_cli.loader import load_yaml, read_text

    try:
        text = read_text(path)
        return text, load_yaml(text, str(path)), []
    except GeohazardError as exc:
        return None, None, [_from_error(exc, str(path))]


def check_contacts(cfg: Path) -> tuple[Roster | None, list[Problem]]:
    from geohazard_cli.config import contacts_path

    path = contacts_path(cfg)
    text, data, problems = _load(path)
    if text is None:
        return None, problems
    try:
        from geohazard_cli.construct import plain
        from geohazard_cli.contacts_schema import RosterSchema

        roster = Roster(plain(RosterSchema.model_validate(data)))
    except ValidationError as exc:
        return None, _validation_problems(exc, str(path), text)
    local_problems: list[Problem] = []
    local_path = path.with_name(LOCAL_FILE)
    if local_path.exists():  # the overlay: checked against the plan's roster, then merged for the gaps
        roster, local_problems = _check_local(roster, data, local_path)
    return roster, local_problems + check_roster(roster, str(path), text)


def _check_local(roster: Roster, data: dict[str, Any], path: Path) -> tuple[Roster, list[Problem]]:
    """contacts.local.yaml: its own problems, and the roster with it merged (to list what is still
    missing) when nothing in it is fatal."""
    from geohazard_cli.contacts_local import LocalContacts, check_local, merge_local

    text, local_data, problems = _load(path)
    if text is None:
        return roster, problems
    try:
        local = LocalContacts.model_validate(local_data)
    except ValidationError as exc:
        return roster, _validation_problems(exc, str(path), text)
    problems = check_local(roster, local, str(path), text)
    if any(p.fatal for p in problems):
        return roster, problems
    return merge_local(roster, data, local, str(path)), problems


def check_local_response(cfg: Path) -> list[Problem]:
    """``response.local.yaml`` (the bureau's deadlines), when the config dir has one."""
    from geohazard_cli.deadlines import LocalResponse, path_of

    path = path_of(cfg)
    if not path.exists():
        return []
    text, data, problems = _load(path)
    if text is None:
        return problems
    try:
        LocalResponse.model_validate(data)
    except ValidationError as exc:
        return _validation_problems(exc, str(path), text)
    return []


def check_rules(cfg: Path, roster: Roster | None) -> tuple[list[Profile], list[Problem]]:
    from geohazard_cli.config import available_plans, default_plan
    from geohazard_cli.loader import line_of

    rules_dir = cfg / "rules"
    problems: list[Problem] = []
    profiles: list[Profile] = []
    plans = available_plans(cfg)
    if not plans:
        return [], [Problem(file=str(rules_dir), path="(dir)", message="no rules/*.yaml profile found")]
    try:
        default = default_plan(cfg)
        if default not in plans:
            problems.append(Problem(file=str(rules_dir / "profiles.yaml"), path="default",
                                    message=f"{default!r} is not a profile in rules/ ({', '.join(plans)})"))
    except GeohazardError as exc:
        problems.append(_from_error(exc, str(rules_dir / "profiles.yaml"), "default"))
    for plan in plans:
        path = rules_dir / f"{plan}.yaml"
        file = str(path)
        text, data, load_problems = _load(path)
        problems += load_problems
        if text is None:
            continue
        try:
            schema = _UncheckedProfile.model_validate(data)
            profile = Profile(plain(schema), file)
            if profile.id != plan:
                problems.append(Problem(file=file, line=line_of(text, ["id"]), path="id",
                                        message=f"{profile.id!r} differs from the file name {plan!r}: results would "
                                        f"say plan {profile.id!r} for --plan {plan}; make them the same"))
        except ValidationError as exc:
            problems += _validation_problems(exc, file, text)
            continue
        sound = check_profile(schema)
        for message in sound:
            key, _, rest = message.partition(": ")
            loc = [int(p) if p.isdigit() else p for p in re.sub(r" \([^)]*\)", "", key).split(".")]
            problems.append(Problem(file=file, line=line_of(text, loc), path=key, message=rest))
        dispatch_problems = check_dispatch(profile, roster, file, text) if roster is not None else []
        problems += dispatch_problems
        problems += _warning_problems(profile, file, text, roster)
        if not sound and not dispatch_problems:  # only sound profiles go on to render samples
            profiles.append(profile)
    return profiles, problems


def _warning_problems(profile: Profile, file: str, text: str, roster: Roster | None) -> list[Problem]:
    """The profile's ``warning:`` section (schema, soundness, units against the roster)."""
    from geohazard_cli.errors import ConfigError
    from geohazard_cli.warning import check_section

    lookup = roster.unit if roster is not None else None
    found = [_from_error(ConfigError(msg), file, "warning") for msg in check_section(profile, file, text, lookup)]
    return found or _cap_placeholders(profile, file, text)


def _cap_placeholders(profile: Profile, file: str, text: str) -> list[Problem]:
    """Notices for the CAP settings a bureau must set (``local: true``) still at their shipped
    placeholder: the GB/T 4657 institution code 000 of the sender code."""
    from geohazard_cli.loader import line_of
    from geohazard_cli.warning import load_section

    if not profile.warning:
        return []
    code = load_section(profile, file, text).cap.sender_code
    if code.institution != "000":
        return []
    loc = ["warning", "cap", "sender_code"]
    return [Problem(file=file, line=line_of(text, loc), path=".".join(loc) + ".institution", fatal=False,
                    notice=True, message="institution 000 is a placeholder (local: true): set the bureau's "
                    "GB/T 4657 机构行业编码 before sending CAP alerts to a consumer")]


def sample_incidents(profile: Profile) -> list[Any]:
    """One incident per grade: the lower bound of that grade's band on the first indicator having one."""
    from geohazard_cli.models import Incident

    out = []
    hazard = profile.hazard_types.items[0]
    tz = zone(profile.timezone)
    for g in profile.grades:
        for ind in profile.indicators:
            band = next((b for b in ind.bands if b.grade == g.key), None)
            if band is None:
                continue
            value: int | Decimal = int(band.lower) if ind.kind == "count" else band.lower
            out.append(Incident(**{ind.key: value}, id=f"check-{g.key}", hazard_type=hazard.key,
                                hazard_type_name=hazard.name, location="<示例> & 地点",
                                reported_at=datetime(2026, 7, 21, 9, 40, tzinfo=tz)))
            break
    return out


def check_templates(cfg: Path, profiles: list[Profile], roster: Roster | None) -> list[Problem]:
    import jinja2

    from geohazard_cli.config import templates_dir
    from geohazard_cli.dispatch import resolve_call_list
    from geohazard_cli.documents import callsheet_context, report_form_context
    from geohazard_cli.grading import grade
    from geohazard_cli.render import SUFFIX, environment, unsafe_access
    from geohazard_cli.textlayout import TEXT_HELPERS

    tdir = templates_dir(cfg)
    if not tdir.is_dir():
        return [Problem(file=str(tdir), path="(dir)", message="templates directory missing")]
    env = environment(tdir)
    problems: list[Problem] = []
    broken: set[str] = set()
    for path in sorted(tdir.glob("*.j2")):
        try:
            env.get_template(path.name)
            unsafe = unsafe_access(env, env.loader.get_source(env, path.name)[0])
        except jinja2.TemplateSyntaxError as exc:
            broken.add(path.name)
            problems.append(Problem(file=str(path), line=exc.lineno, path="(template)",
                                    message=f"template syntax error: {exc.message}"))
            continue
        if unsafe is not None:
            broken.add(path.name)
            problems.append(Problem(file=str(path), line=unsafe[0], path="(template)",
                                    message=f"reaches for {unsafe[1]!r}, a private attribute; templates "
                                            "show the data they are given and may not reach Python internals"))
    for doc in DOCUMENTS:
        for fmt in FORMATS:
            name = f"{doc}.{SUFFIX[fmt]}.j2"
            if not (tdir / name).is_file():
                problems.append(Problem(file=str(tdir / name), path="(template)", message="template missing"))
                broken.add(name)
    if roster is None:
        return problems
    for profile in profiles:
        for incident in sample_incidents(profile):
            assessment = grade(incident, profile)
            try:
                contexts = {
                    "callsheet": callsheet_context(assessment, profile,
                                                   resolve_call_list(assessment, profile, roster)),
                    "report-form": report_form_context(assessment, profile),
                }
            except GeohazardError as exc:
                problems.append(Problem(file=profile.source_file, path="dispatch",
                                        message=f"sample {assessment.grade_name} incident: {exc}"))
                continue
            for doc, ctx in contexts.items():
                for fmt in FORMATS:
                    name = f"{doc}.{SUFFIX[fmt]}.j2"
                    if name in broken:
                        continue
                    try:
                        env.get_template(name).render(**ctx, **TEXT_HELPERS)
                    except jinja2.TemplateError as exc:
                        broken.add(name)
                        line = getattr(exc, "lineno", None)
                        problems.append(Problem(
                            file=str(tdir / name), line=line, path="(render)",
                            message=f"does not render a sample {assessment.grade_name} incident of "
                                    f"{profile.id}: {exc.message or type(exc).__name__}"))
                    except Exception as exc:  # a template calling a filter wrongly, etc.
                        broken.add(name)
                        problems.append(Problem(
                            file=str(tdir / name), path="(render)",
                            message=f"does not render a sample {assessment.grade_name} incident of "
                                    f"{profile.id}: {type(exc).__name__}: {exc}"))
    return problems


def check_sites(cfg: Path, profiles: list[Profile], roster: Roster | None) -> list[Problem]:
    """The hazard-site register (sites.yaml), when the config dir has one: every row against the
    default profile's hazard types, the roster's streets and district.yaml's box."""
    from geohazard_cli.config import default_plan
    from geohazard_cli.sites import SITES_FILE, load_bounds
    from geohazard_cli.sites_load import read_register

    path = cfg / SITES_FILE
    if not path.is_file() or roster is None:
        return []
    try:
        default = default_plan(cfg)
        profile = next((p for p in profiles if p.id == default), None)
        if profile is None:
            return []
        return read_register(path, profile, roster, load_bounds(cfg))[1]
    except GeohazardError as exc:
        return [_from_error(exc, str(path))]


def _relative(p: Problem, cfg: Path) -> Problem:
    """Name files relative to the config dir (the report's header names the dir)."""
    try:
        return p.model_copy(update={"file": str(Path(p.file).resolve().relative_to(cfg.resolve()))})
    except ValueError:
        return p


def run_checks(cfg: Path) -> tuple[list[Problem], list[Problem]]:
    """(problems, notices) for a config dir. Notices (a unit with no known number, explained in
    ``phone_missing``) do not make the config unsound but are always listed."""
    roster, contact_problems = check_contacts(cfg)
    profiles, rule_problems = check_rules(cfg, roster)
    usable = roster if not any(p.fatal for p in contact_problems) else None  # as load_roster would
    template_problems = check_templates(cfg, profiles, usable) + check_notify(cfg, usable, profiles)
    site_problems = check_sites(cfg, profiles, usable)
    local_problems = check_local_response(cfg)
    everything = [_relative(p, cfg)
                  for p in contact_problems + rule_problems + template_problems + local_problems + site_problems]
    problems = [p for p in everything if not p.notice]
    notices = [p for p in everything if p.notice]
    return problems, notices


def notice_summary(notices: list[Problem], shown: int = 3) -> str:
    """One line for the notices: how many units have no number (the first few named), and the rest."""
    no_number = [p for p in notices if p.path.endswith(".phone") and p.message.startswith("no number")]
    shared = [p for p in notices if p.message.startswith("same number as")]
    other = len(notices) - len(no_number) - len(shared)
    parts = []
    if no_number:
        names = [p.unit or p.path for p in no_number]
        more = ", …" if len(names) > shown else ""
        unit_s = "unit has" if len(names) == 1 else "units have"
        parts.append(f"{len(names)} {unit_s} no number ({', '.join(names[:shown])}{more})")
    if shared:
        names = [p.unit or p.path for p in shared]
        parts.append(f"{len(names)} shared number{'s' if len(names) != 1 else ''} ({', '.join(names)})")
    if other:
        parts.append(f"{other} other notice{'s' if other != 1 else ''}")
    return "; ".join(parts)


def check_notify(cfg: Path, roster: Roster | None, profiles: list[Profile] | None = None) -> list[Problem]:
    """notify.yaml (when the config dir has one: schema, unit keys, placeholders left from
    notify.example.yaml) and the message templates of templates/notify/ (compile, render a sample
    made from this config dir's roster and default profile: ``notify_sample``)."""
    from geohazard_cli.notify.settings import FILENAME, NotifyFile, placeholders

    problems: list[Problem] = []
    path = cfg / FILENAME
    if path.is_file():
        text, data, problems = _load(path)
        if text is not None:
            try:
                conf = NotifyFile.model_validate(data)
            except ValidationError as exc:
                problems += _validation_problems(exc, str(path), text)
            else:
                problems += _notify_units(conf, roster, str(path), text)
                problems += _notify_ca_files(conf, path, text)
            problems += [Problem(file=str(path), line=n, path="(value)",
                                 message=f"still holds a placeholder of notify.example.yaml: {line}")
                         for n, line in placeholders(text, str(path))]
    return problems + _notify_templates(cfg, notify_sample(_default_profile(cfg, profiles or []), roster))


def _notify_units(conf: Any, roster: Roster | None, file: str, text: str) -> list[Problem]:
    from geohazard_cli.loader import line_of

    if roster is None:
        return []
    tables: list[tuple[list[str | int], dict[str, Any]]] = [(["numbers"], conf.numbers)]
    for name, ch in conf.channels.items():
        tables += [(["channels", name, "addresses"], ch.addresses), (["channels", name, "mentions"], ch.mentions)]
    out = []
    for loc, table in tables:
        for key in table:
            if key not in roster.by_key:
                out.append(Problem(file=file, line=line_of(text, [*loc, key]), path=".".join(map(str, [*loc, key])),
                                   message=f'"{key}" is not a unit key of contacts.yaml{roster.suggest(key)}'))
    return out


def _notify_ca_files(conf: Any, path: Path, text: str) -> list[Problem]:
    from geohazard_cli.loader import line_of

    return [Problem(file=str(path), line=line_of(text, ["channels", name, "ca_file"]),
                    path=f"channels.{name}.ca_file", message=f"{ch.ca_file}: no such file (relative to {path.name})")
            for name, ch in conf.channels.items()
            if ch.ca_file and not (path.parent / ch.ca_file).is_file()]


def _default_profile(cfg: Path, profiles: list[Profile]) -> Profile | None:
    from geohazard_cli.config import default_plan

    try:
        default = default_plan(cfg)
    except GeohazardError:
        return profiles[0] if profiles else None
    return next((p for p in profiles if p.id == default), profiles[0] if profiles else None)


def notify_sample(profile: Profile | None, roster: Roster | None) -> dict[str, Any]:
    """A message context as ``notify.delivery.context`` makes one, from this config dir's own
    data: the roster's office unit (first on every call list) and first street office, the profile's
    lowest grade, level, first hazard type and lowest warning colour. What is not loaded reads as a
    neutral placeholder, never another district's names."""
    from geohazard_cli.warning_rules import load_section

    unit = roster.unit(roster.office.unit) if roster is not None else None
    street = next((u for u in roster.units if u.kind == "street" and u.parent is not None), None) if roster else None
    area = (street.aliases[0] if street.aliases else street.name) if street is not None else "某街道"
    colour = "预警"
    if profile is not None and profile.warning:
        import contextlib

        with contextlib.suppress(GeohazardError):  # an unsound section is its own problem (check_section)
            colour = load_section(profile, profile.source_file).colours[0].name
    return {"exercise": True, "kind": "incident", "channel": "dry-run", "channel_type": "dry-run", "id": 1,
            "response": "incident", "unit": unit.name if unit else "某单位", "unit_key": unit.key if unit else "unit",
            "reasons": [], "grade_name": profile.grades[0].name if profile else "某等级",
            "response_level_name": profile.levels[-1].name if profile and profile.levels else "某级响应",
            "warning": {"level_name": colour, "areas": [area]}, "location": area,
            "hazard_type_name": profile.hazard_types.items[0].name if profile and profile.hazard_types.items
            else "地质灾害", "opened_at": "2026-07-21 09:40", "round_at": "2026-07-21 09:40", "late": None,
            "decided_by": None}


def _notify_templates(cfg: Path, sample: dict[str, Any]) -> list[Problem]:
    import jinja2

    from geohazard_cli.config import templates_dir
    from geohazard_cli.render import environment, unsafe_access

    tdir = templates_dir(cfg)
    if not (tdir / "notify").is_dir():
        return []
    env = environment(tdir)
    lates = [None, {"what": "answer", "minutes_late": 5, "due_at": "2026-07-21 09:50", "report_name": None,
                    "attempts": 1}, {"what": "report", "minutes_late": 5, "due_at": "2026-07-21 10:10",
                                     "report_name": "速报", "attempts": None}]
    out = []
    for path in sorted((tdir / "notify").glob("*.j2")):
        name = f"notify/{path.name}"
        try:
            unsafe = unsafe_access(env, env.loader.get_source(env, name)[0])
            if unsafe is not None:
                out.append(Problem(file=str(path), line=unsafe[0], path="(template)",
                                   message=f"reaches for {unsafe[1]!r}, a private attribute"))
                continue
            for late in lates if path.name.startswith("reminder.") else [None]:
                for decided_by in (None, "决定者"):  # (the level as opened, and as decided)
                    env.get_template(name).render(**{**sample, "late": late, "decided_by": decided_by})
        except jinja2.TemplateSyntaxError as exc:
            out.append(Problem(file=str(path), line=exc.lineno, path="(template)",
                               message=f"template syntax error: {exc.message}"))
        except Exception as exc:  # a template error or a filter misused: the message names it
            out.append(Problem(file=str(path), path="(render)",
                               message=f"does not render a sample message: {type(exc).__name__}: {exc}"))
    for kind in ("incident", "level_change", "warning", "reminder"):
        if not (tdir / "notify" / f"{kind}.txt.j2").is_file():
            out.append(Problem(file=str(tdir / "notify" / f"{kind}.txt.j2"), path="(template)",
                               message="template missing (every channel falls back to it)"))
    return out
