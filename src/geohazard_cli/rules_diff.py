"""What changed between two plan profiles (``rules diff OLD NEW``): pure, on the loaded profiles.

The comparison walks the validated plain data every command's ``rules.Profile`` is built from
(``Profile.data``), never the YAML text: comments, anchors, key order and how a bound is written
(``500万`` or ``5000000``) make no difference. Lists are matched by what names their items (a grade
or level by ``key``, a band by its ``grade``, a dispatch rule by what it engages), clauses without a
key by their text, then by their clause; each change carries the clause (``source``) of the entry it
is in, from NEW (from OLD when the entry was removed).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from geohazard_cli.grading import bound_text

if TYPE_CHECKING:
    from geohazard_cli.rules import Profile

# Sections in the order they are shown; a change belongs to the first whose path prefix it has.
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("bounds", "分级标准", ("indicators",)),
    ("grades", "等级", ("grades",)),
    ("levels", "响应级别与措施", ("levels",)),
    ("leads", "指挥", ("leads",)),
    ("decisions", "响应决策", ("decisions",)),
    ("dispatch", "调度(叫应)", ("dispatch",)),
    ("deadlines", "报告时限", ("reporting.deadline",)),
    ("reporting", "信息报告", ("reporting",)),
    ("other", "其他", ("",)),
)
SECTION_TITLES = {key: title for key, title, _ in SECTIONS}
IDENTITY = ("schema_version", "id", "title", "short_title", "document", "issued")  # shown in the header

Change = dict[str, Any]


def profile_header(profile: Profile) -> dict[str, Any]:
    return {"id": profile.id, "title": profile.title, "short_title": profile.short_title,
            "document": profile.document, "issued": profile.issued, "file": profile.source_file}


def profile_changes(old: Profile, new: Profile) -> list[Change]:
    """Every difference between two profiles, section by section (``SECTIONS``), each a dict:
    ``section``, ``path`` (keys and ``[item]`` names), ``change`` (changed, added, removed),
    ``label`` (the plan's names for it), ``old``, ``new``, ``source``."""
    names = _names(old, new)
    found: list[Change] = []
    a, b = old.data, new.data
    for key in dict.fromkeys([*a, *b]):
        if key in IDENTITY:
            continue
        found.extend(_walk(key, [key], a.get(key, _ABSENT), b.get(key, _ABSENT), None, None, names))
    order = {key: i for i, (key, _, _) in enumerate(SECTIONS)}
    for change in found:
        change["section"] = _section(change["path"])
    found.sort(key=lambda c: order[c["section"]])  # stable: within a section, the file's order
    return [{"section": c.pop("section"), **c} for c in found]


def counts_by_section(changes: list[Change]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in changes:
        out[c["section"]] = out.get(c["section"], 0) + 1
    return out


# --- the walk ---------------------------------------------------------------------------------


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "ABSENT"


_ABSENT: Any = _Absent()
Names = dict[str, dict[str, str]]  # indicators, grades, levels, leads -> key -> the plan's name; kinds, units


def _names(old: Profile, new: Profile) -> Names:
    out: Names = {"indicators": {}, "grades": {}, "levels": {}, "leads": {}, "kinds": {}, "units": {}}
    for p in (old, new):
        out["indicators"].update({i.key: i.name for i in p.indicators})
        out["kinds"].update({i.key: i.kind for i in p.indicators})
        out["units"].update({i.key: i.unit for i in p.indicators})
        out["grades"].update({g.key: g.name for g in p.grades})
        out["levels"].update({lv.key: lv.name for lv in p.levels})
        out["leads"].update({k: lead.name for k, lead in p.leads.items()})
    return out


def _walk(path: str, trail: list[str], a: Any, b: Any, src_a: str | None, src_b: str | None,
          names: Names) -> Iterator[Change]:
    if isinstance(a, dict) and isinstance(b, dict):
        src_a = a.get("source", src_a) if isinstance(a.get("source"), str) else src_a
        src_b = b.get("source", src_b) if isinstance(b.get("source"), str) else src_b
        if _is_band(a) and _is_band(b) and (a["lower"], a["upper"]) != (b["lower"], b["upper"]):
            yield _change(path, trail, "changed", _bound(a, trail, names), _bound(b, trail, names), src_b, names)
            a = {k: v for k, v in a.items() if k not in ("lower", "upper")}
            b = {k: v for k, v in b.items() if k not in ("lower", "upper")}
        for key in dict.fromkeys([*a, *b]):
            yield from _walk(f"{path}.{key}", [*trail, key], a.get(key, _ABSENT), b.get(key, _ABSENT),
                             src_a, src_b, names)
        return
    if isinstance(a, list) and isinstance(b, list) and a != b:
        pairs = _pair(a, b)
        if pairs is not None:
            for name, x, y in pairs:
                yield from _walk(f"{path}[{name}]", [*trail, f"[{name}]"], x, y, src_a, src_b, names)
            return
    if a is _ABSENT:
        yield _change(path, trail, "added", None, _shown(b, trail, names), _own_source(b, src_b), names)
    elif b is _ABSENT:
        yield _change(path, trail, "removed", _shown(a, trail, names), None, _own_source(a, src_a), names)
    elif a != b:
        yield _change(path, trail, "changed", _shown(a, trail, names), _shown(b, trail, names),
                      src_b if trail[-1] != "source" else b, names)


def _own_source(value: Any, around: str | None) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("source"), str):
        return str(value["source"])
    return around


def _is_band(value: dict[str, Any]) -> bool:
    return "grade" in value and "lower" in value and "upper" in value


def _item_key(item: Any) -> str | None:
    """What names a list item, when something does."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("key"), str):
        return str(item["key"])
    if _is_band(item):
        return str(item["grade"])
    if "engage" in item:  # a dispatch rule: what it engages
        return " ".join(str(item[k]) for k in ("engage", "name", "label") if item.get(k) is not None)
    if "title" in item and "fields" in item:  # a report-form section
        return str(item["title"])
    for k in ("unit", "party", "placeholder"):  # a warning call, by who and from which colour
        if isinstance(item.get(k), str):
            return f"{item[k]} {item.get('from', '')}".strip()
    return None


def _pair(a: list[Any], b: list[Any]) -> list[tuple[str, Any, Any]] | None:
    """Items of two lists matched by their names, or clauses by text then by clause; None for lists
    of plain values (compared whole)."""
    items = [*a, *b]
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    keys_a, keys_b = [_item_key(x) for x in a], [_item_key(x) for x in b]
    if (None not in keys_a and None not in keys_b and len(set(keys_a)) == len(a)
            and len(set(keys_b)) == len(b)):
        by_a = dict(zip(keys_a, a, strict=True))
        by_b = dict(zip(keys_b, b, strict=True))
        return [(str(k), by_a.get(k, _ABSENT), by_b.get(k, _ABSENT)) for k in dict.fromkeys([*keys_a, *keys_b])]
    return _pair_clauses(a, b)


def _pair_clauses(a: list[Any], b: list[Any]) -> list[tuple[str, Any, Any]]:
    left, right = list(range(len(a))), list(range(len(b)))
    matched: list[tuple[int | None, int | None]] = []
    for i in list(left):  # the same text: at most its clause changed
        j = next((j for j in right if b[j].get("text") == a[i].get("text")), None)
        if j is not None:
            matched.append((i, j))
            left.remove(i)
            right.remove(j)
    for i in list(left):  # the same clause, named once on each side: its text changed
        src = a[i].get("source")
        same_a = [k for k in left if a[k].get("source") == src]
        same_b = [k for k in right if b[k].get("source") == src]
        if src is not None and len(same_a) == 1 and len(same_b) == 1:
            matched.append((i, same_b[0]))
            left.remove(i)
            right.remove(same_b[0])
    matched += [(i, None) for i in left] + [(None, j) for j in right]
    matched.sort(key=lambda m: (m[1] if m[1] is not None else len(b), m[0] if m[0] is not None else -1))
    out = []
    seen: dict[str, int] = {}
    for m, n in matched:
        x = a[m] if m is not None else _ABSENT
        y = b[n] if n is not None else _ABSENT
        name = str((y if n is not None else x).get("source") or "")
        seen[name] = seen.get(name, 0) + 1
        out.append((f"{name}#{seen[name]}" if seen[name] > 1 or not name else name, x, y))
    return out


def _bound(band: dict[str, Any], trail: list[str], names: Names) -> dict[str, Any]:
    lower, upper = Decimal(band["lower"]), None if band["upper"] is None else Decimal(band["upper"])
    return {"lower": band["lower"], "upper": band["upper"], "text": bound_text(*_kind_unit(trail, names), lower, upper)}


def _kind_unit(trail: list[str], names: Names) -> tuple[str, str]:
    key = trail[1].strip("[]") if len(trail) > 1 else ""
    return names["kinds"].get(key, "count"), names["units"].get(key, "")


def _shown(value: Any, trail: list[str], names: Names) -> Any:
    if isinstance(value, dict) and _is_band(value):
        return {**value, "text": _bound(value, trail, names)["text"]}
    return value


def _section(path: str) -> str:
    for key, _, prefixes in SECTIONS:
        if any(path == p or path.startswith((p + ".", p + "[")) or p == "" for p in prefixes):
            return key
    return "other"  # pragma: no cover - the last section takes every path


_FIELD_LABELS = {"name": "名称", "level": "响应级别", "lead": "指挥", "source": "条款", "text": "内容",
                 "measures": "措施", "start_procedure": "启动程序", "bands": "", "lower": "下限", "upper": "上限",
                 "full_name": "全称", "decider": "决定", "proposer": "提出建议", "consult": "会商",
                 "termination": "响应终止", "criteria": "终止条件", "advisers": "意见", "hours": "时限(小时)",
                 "engage": "调度", "reason": "事由", "units": "单位", "recipients": "报送对象",
                 "min_grade": "最低等级", "casualty_indicators": "伤亡指标"}


def _label(trail: list[str], names: Names) -> str:
    """The path in the plan's words where it has them: 需搬迁转移人数 中型, II级响应 措施 [6.1.3(4)]."""
    kind = trail[0]
    words: list[str] = []
    for i, part in enumerate(trail):
        item = part[1:-1] if part.startswith("[") else None
        if i == 0 and kind in ("indicators", "grades", "levels", "leads"):
            continue
        if item is not None and i == 1 and kind in names:
            words.append(names[kind].get(item, item))
        elif item is not None and kind == "indicators" and i == 3:
            words.append(names["grades"].get(item, item))
        elif item is not None and kind == "dispatch" and i == 2:
            words.append(names["levels"].get(item, item))
        elif item is not None:
            words.append(f"[{item}]")
        else:
            word = _FIELD_LABELS.get(part, part)
            if word:
                words.append(word)
    return " ".join(words) or kind


def _change(path: str, trail: list[str], change: str, old: Any, new: Any, source: Any, names: Names) -> Change:
    return {"path": path, "change": change, "label": _label(trail, names), "old": old, "new": new,
            "source": source}
