"""How a response's events read to people: call outcomes as typed and shown, the one-line Chinese
text of each event, and times as an officer reads them. Labels only, no plan wording."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from geohazard_cli.errors import field_error
from geohazard_cli.timeutil import zone


class Outcome(StrEnum):
    """How one call in the 叫应 loop went."""

    answered = "answered"
    no_answer = "no-answer"
    busy = "busy"
    other = "other"


# Labels for people, as on the paper call sheet (结果: 1 接通 2 未接 3 占线 4 其他; see
# templates/callsheet.*.j2); the machine keys above are what JSON carries.
OUTCOME_LABELS = {"answered": "接通", "no-answer": "未接", "busy": "占线", "other": "其他"}
ATTEMPT_LABELS = {"sending": "发送中", "sent": "已发送", "failed": "失败"}
OUTCOME_CODES = {"1": "answered", "2": "no-answer", "3": "busy", "4": "other"}
# The words an officer writes in the 结果 column, beside the sheet's own labels.
OUTCOME_WORDS = {"已接通": "answered", "接听": "answered", "已接听": "answered", "已回应": "answered",
                 "回应": "answered", "收到": "answered", "未接通": "no-answer", "无人接听": "no-answer",
                 "未接听": "no-answer", "无应答": "no-answer", "关机": "no-answer", "忙": "busy",
                 "忙线": "busy", "占线中": "busy"}
OUTCOME_ACCEPTED = ("answered|no-answer|busy|other, 接通|未接|占线|其他 (or 已接通, 已回应, 未接通, 无人接听, "
                    "关机, 忙线) or 1|2|3|4")


def parse_outcome(text: str, field: str = "--outcome") -> Outcome:
    """An outcome as typed: the English key, the call sheet's label (接通), an officer's word
    (无人接听) or the sheet's code (1)."""
    import unicodedata

    raw = unicodedata.normalize("NFKC", text).strip()
    key = raw.lower().replace("_", "-")
    by_label = {label: k for k, label in OUTCOME_LABELS.items()}
    value = OUTCOME_CODES.get(key) or by_label.get(raw) or OUTCOME_WORDS.get(raw) or key
    try:
        return Outcome(value)
    except ValueError:
        raise field_error(field, text, f"is not a call outcome (accepted: {OUTCOME_ACCEPTED})") from None


def human_time(value: datetime | None, tz: str | None = None, seconds: bool = False) -> str | None:
    """A time as people read it, "2026-07-21 09:40" (no T, no offset), in ``tz`` ("+08:00") if given;
    with ``seconds`` "2026-07-21 09:40:12" (the timeline, where many rows fall in the same minute).

    Text, Markdown and HTML show this; JSON keeps ISO 8601 with the offset."""
    if value is None:
        return None
    if tz is not None and value.tzinfo is not None:
        value = value.astimezone(zone(tz))
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def minutes_text(minutes: int) -> str:
    """A span in minutes as a duty officer reads it: 不足1分, 45分, 1小时5分, 10小时9分, 2天3小时."""
    if minutes < 1:  # (whole minutes, counted down: 0 is under a minute, not none)
        return "不足1分"
    if minutes < 60:
        return f"{minutes}分"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    return f"{hours}小时{mins}分" if mins else f"{hours}小时"


def offset_of(dt: datetime) -> str:
    """The offset of a stored (always aware) time, "+08:00": a response keeps its opening zone."""
    return dt.isoformat()[-6:]


def _ranged(assessment: dict[str, Any]) -> str:
    """What an assessment from a range or an estimate says (the profile's words, as recorded)."""
    said = assessment.get("uncertain")
    return f"({';'.join(said)})" if said else ""


def describe(kind: str, details: dict[str, Any], answerer: str | None = None,
             responded_at: datetime | None = None) -> str:
    """The one-line Chinese timeline text for an event."""
    if kind == "open":
        mark = "【演练】" if details.get("exercise") else ""
        w = details.get("warning")
        if details.get("response") == "warning" and isinstance(w, dict):
            return f"{mark}预警响应启动:{w.get('level_name')}({'、'.join(w.get('areas') or [])})"
        a = details["assessment"]
        figs = ";".join(f"{c['label']} {c['text']}" for c in details.get("figures", []))
        tail = f"({figs})" if figs else ""
        # (the level as opened is the plan's, proposed to the decider: §6.1.2, §6.2.2)
        return f"{mark}接报立案:{a['grade_name']} → 按预案{a['response_level_name']}(待决定){tail}" + _ranged(a)
    if kind == "update":
        a = details["assessment"]
        figs = ";".join(f"{c['label']} {c['old_text'] or '未报告'} → {c['new_text'] or '未报告'}"
                        + ("(范围收窄)" if c.get("narrowed") else "")
                        for c in details.get("changes", []))
        return f"续报:{figs or '数字无变化'};等级 {a['grade_name']},{a['response_level_name']}" + _ranged(a)
    if kind == "level_change":
        arrow = {"up": "升级", "down": "降级"}.get(details.get("direction", ""), "调整")
        return (f"响应级别调整({arrow}):{details['previous_level_name']} → {details['response_level_name']}"
                f"({details['previous_grade_name']} → {details['grade_name']})")
    if kind == "proposal":
        arrow = {"up": "升级", "down": "降级"}.get(details.get("direction", ""), "调整")
        return (f"级别建议({arrow}):{details['previous_level_name']} → {details['response_level_name']}"
                f"(等级 {details['grade_name']});待决定")
    if kind == "decision":
        moved = {"up": "升级", "down": "降级"}.get(details.get("direction", ""))
        change = f"({moved},原{details['previous_level_name']})" if moved else "(维持)"
        note = f";{details['note']}" if details.get("note") else ""
        return f"级别决定:{details['by']}决定 {details['response_level_name']}{change}{note}"
    if kind == "warning":
        w = details["warning"]
        arrow = {"up": "升级", "down": "降级"}.get(details.get("direction", ""), "")
        was = details.get("previous_level_name")
        change = f"{was} → {w.get('level_name')}" if was and was != w.get("level_name") else w.get("level_name")
        return f"预警{arrow or '续发'}:{change}({'、'.join(w.get('areas') or [])})"
    if kind == "call":
        parts = []
        if details.get("newly"):
            parts.append("需叫应 " + "、".join(e["unit"] for e in details["newly"]))
        if details.get("dropped"):
            parts.append("不再需要 " + "、".join(e["unit"] for e in details["dropped"]))
        return "叫应名单:" + (";".join(parts) or "未变")
    if kind == "ack":
        people = [f"{label}:{name}" for label, name in (("接听人", answerer), ("经办人", details.get("by")),
                                                       ("回应时间", human_time(responded_at)))
                  if name]
        who = f"({';'.join(people)})" if people else ""
        return f"叫应 {details['unit']}:{OUTCOME_LABELS.get(details['outcome'], details['outcome'])}{who}"
    if kind == "report":
        name = {"first": "速报", "follow_up": "续报", "correction": "更正报告"}.get(details.get("report", ""), "上报")
        to = "、".join(details.get("to") or [])
        who = f"(经办人:{details['by']})" if details.get("by") else ""
        return f"已{name}{(' ' + to) if to else ''}{who}" + (f";{details['note']}" if details.get("note") else "")
    if kind == "amend":
        parts = []
        if details.get("opened_at"):
            old, new = (human_time(datetime.fromisoformat(details["opened_at"][k])) for k in ("old", "new"))
            parts.append(f"立案时间 {old} → {new}")
        parts += [f"{c['label']} {c['old_text'] or '未报告'} → {c['new_text'] or '未报告'}"
                  for c in details.get("changes", [])]
        return f"更正:{';'.join(parts) or '无'}(原因:{details.get('reason')})"
    if kind == "close":
        who = f"(宣布/意见:{details['by']})" if details.get("by") else ""
        return f"响应终止:{details['reason']}{who}"
    if kind == "message":  # (dry-run keeps a unit with no number by its key: not a number to show)
        target = "无号码" if details.get("target") == details.get("unit_key") else details.get("target")
        return f"通知排队:{details.get('unit')}({details.get('channel')} → {target})"
    if kind == "attempt":
        result = ATTEMPT_LABELS.get(str(details.get("result")), str(details.get("result")))
        if details.get("channel") == "dry-run" and details.get("result") == "sent":
            result = "已记录(dry-run,未实际发送)"  # (dry-run reaches no one)
        code = f",代码 {details['code']}" if details.get("code") else ""
        return f"发送 {details.get('unit')}({details.get('channel')}):{result}{code}"
    return kind
