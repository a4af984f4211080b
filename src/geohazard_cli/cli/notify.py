"""`geohazard incident notify` and `geohazard incident ack-import`: delivery of the 叫应 messages and
the replies to them. Two lines of ``INCIDENT_COMMANDS`` (cli/incident.py) name them; the shared
incident options and helpers come from ``incident_common``."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, TextJson, command_app
from geohazard_cli.cli.incident_common import (
    DbOpt,
    FormatOpt,
    IdArg,
    after_commit,
    existing,
    mark,
    noun,
    parse_id,
    say,
    skew_of,
    suffixes_for,
    tz_text,
    when_of,
)

if TYPE_CHECKING:
    from geohazard_cli.notify.delivery import Outcome

app = command_app()

NotifyOpt = Annotated[
    Path | None,
    typer.Option("--notify", help="Delivery settings (default: notify.yaml in the config dir; see "
                 "notify.example.yaml).", show_default=False),
]


@app.command("notify")
@after_commit
def notify(
    ref: IdArg,
    channel: Annotated[str, typer.Option(
        "--channel", help="A channel of notify.yaml, or the built-in dry-run or sms-file.", show_default=False)],
    units: Annotated[list[str] | None, typer.Option(
        "--units", help="Only these units (repeat it); default: every unit of the current round not yet "
        "answered.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="sms-file: the batch file to write (.csv appended, .xlsx new).",
        show_default=False)] = None,
    retry: Annotated[bool, typer.Option(
        "--retry", help="Send only this round's messages left queued or failed.")] = False,
    resend_unknown: Annotated[bool, typer.Option(
        "--resend-unknown", help="With --retry: also send messages whose last attempt never ended "
        "(a killed run; check the platform first: they may have arrived).")] = False,
    reminders: Annotated[bool, typer.Option(
        "--reminders", help="Send reminders (叫应提醒) instead of the round's message: for each thing late "
        "now ('incident due'), each unit past its answer deadline and each 速报/续报 overdue, each deadline "
        "once; with --units, to those units now, once a round.")] = False,
    at: Annotated[str | None, typer.Option("--at", help="When (default now).", show_default=False)] = None,
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    notify_file: NotifyOpt = None,
) -> int:
    """Send the current round's 叫应 messages over one channel, recording every attempt.

    Example: geohazard incident notify 3 --channel sms-file --output batch.csv
    """
    from datetime import datetime

    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.config import templates_dir
    from geohazard_cli.errors import InputError
    from geohazard_cli.journal import check_writable
    from geohazard_cli.notify import BUILT_IN, notifier
    from geohazard_cli.notify import delivery as dl
    from geohazard_cli.notify import settings as st
    from geohazard_cli.responses import queue_messages, read, resolve_unit, state_of

    incident_id = parse_id(ref)
    if resend_unknown and not retry:
        raise InputError("--resend-unknown: only with --retry")
    if reminders and retry:
        raise InputError("--reminders: not with --retry (--retry sends what is queued, reminders included)")
    cfg = resolve_dir(config_dir)
    conf = st.load(cfg, notify_file, required=channel not in BUILT_IN, channel=channel)
    if channel in BUILT_IN:
        kind, settings, secret, retries, backoff = channel, {"output": output}, None, 0, 0.0
    else:
        ch = conf.channels.get(channel)
        if ch is None:
            known = ", ".join([*BUILT_IN, *conf.channels])
            raise InputError(f'--channel: "{channel}" is not a channel (known: {known})')
        kind, settings = ch.type, ch.model_dump()
        secret, retries, backoff = st.secret(ch, channel), ch.retries, ch.backoff
    sender = notifier(kind, channel, settings, secret)  # a bad --output is refused before anything is written
    j = existing(db, incident_id)
    try:
        record, events = read(j, incident_id)
        tz = tz_text(record.opened_at)
        when = when_of(at, tz, skew_minutes=skew_of(cfg))
        check_writable(record, when)
        outcome = dl.Outcome()
        if retry:
            statuses = dl.status_of(record, channel)
            allowed = [*dl.RETRYABLE, *(["sending"] if resend_unknown else [])]
            keys = [k for s in allowed for k in statuses.get(s, [])]
            outcome.skipped += [{"key": k, "unit": record.messages[k].get("unit"), "status": "unknown"}
                                for k in ([] if resend_unknown else statuses.get("sending", []))]
        elif reminders and not units:
            fresh = dl.reminders(record, _late(record, when, cfg), channel, kind, conf,
                                 dl.renderer(templates_dir(cfg), kind), outcome)
            record, _ = queue_messages(j, incident_id, fresh, when)
            keys, allowed = [m["key"] for m in fresh], ["queued"]
        else:
            from geohazard_cli.contacts_load import load_roster

            chosen = None
            if units:
                roster = load_roster(cfg)
                suffixes = suffixes_for(record, cfg)
                chosen = list(dict.fromkeys(resolve_unit(u, roster, [record], suffixes) for u in units))
            entries = dl.on_call_list(record, chosen)
            fresh = dl.compose(record, events, channel, kind, entries, conf,
                               dl.renderer(templates_dir(cfg), kind), reminders, outcome)
            record, _ = queue_messages(j, incident_id, fresh, when)
            keys, allowed = [m["key"] for m in fresh], ["queued"]

        def now() -> datetime:
            return when if at is not None else when_of(None, tz)

        try:
            done = dl.send_all(j, incident_id, sender, keys, allowed, retries, backoff, now)
        finally:
            sender.close()
        record = state_of(j, incident_id)
    finally:
        j.close()
    for k in keys:
        m = record.messages[k]
        outcome.messages.append({"key": k, "unit": m.get("unit"), "unit_key": m.get("unit_key"),
                                 "target": m.get("target"), "text": m.get("text"), "status": m.get("status"),
                                 **done.get(k, {})})
    return _print_notify(record, channel, outcome, format)


def _late(record: Any, when: Any, cfg: Path) -> dict[str, Any]:
    """What ``incident due`` finds late in this response now (the config dir's deadlines)."""
    from geohazard_cli.cli.incident_clock import profiles_in
    from geohazard_cli.deadlines import FILENAME, due, load
    from geohazard_cli.errors import ConfigError

    local = load(cfg)
    if local is None:
        raise ConfigError(f"--reminders: {cfg / FILENAME} does not exist: no deadlines are set, so nothing is "
                          "late (copy the shipped response.local.yaml)")
    return due([record], when, local, profiles_in(cfg))


def _print_notify(record: Any, channel: str, outcome: "Outcome", format: TextJson) -> int:
    from geohazard_cli.notify.sms_file import SEGMENT

    for m in outcome.messages:
        if m.get("segments", 1) > 1:
            m["over_one_segment"] = True
    undelivered = [m for m in outcome.messages if m.get("status") != "sent"]
    if format is TextJson.json:
        from geohazard_cli.cli._common import emit_json

        emit_json({"id": record.id, "channel": channel, "messages": outcome.messages, "skipped": outcome.skipped,
                   "no_target": outcome.no_target, "undelivered": len(undelivered)})
    else:
        from geohazard_cli.cli.term import Term

        out = Term()
        # dry-run sends nothing: it records every unit of the round, one with no number by its key
        dry = bool(outcome.messages) and all(m.get("code") == "dry-run" for m in outcome.messages)
        numberless = [m for m in outcome.messages if dry and m.get("target") == m.get("unit_key")]
        head = (f"记录 {len(outcome.messages)} 条(dry-run,未实际发送;其中无号码 {len(numberless)} 个单位)" if dry
                else f"发送 {len(outcome.messages)} 条,未送达 {len(undelivered)} 条")
        missing = f",无可发号码未发 {len(outcome.no_target)} 条" if outcome.no_target else ""
        out.print(f"{mark(record)}{noun(record)} #{record.id} 通知({channel}):{head}{missing}", style="bold")
        labels = {"sent": "已记录,未实际发送" if dry else "已发送", "failed": "失败(待 --retry)",
                  "queued": "排队(待 --retry)", "sending": "结果不明"}
        for m in outcome.messages:
            note = f";超过一条短信({SEGMENT} 字)" if m.get("over_one_segment") else ""
            target = "无号码" if m in numberless else m["target"]
            out.print(f"  {m['unit']} → {target}:{labels.get(str(m.get('status')), m.get('status'))}"
                      f"(代码 {m.get('code')}){note}", wrap=False)
        for s in outcome.skipped:
            out.print(f"  {s['unit']}:本轮已记录({s['status']}),不再发送", wrap=False)
        for n in outcome.no_target:
            out.print(f"  {n['unit']}:{n.get('why') or '无号码或地址'},未发送", style="yellow", wrap=False)
    if undelivered:
        say(f"warning: {len(undelivered)} message(s) not delivered; they stay queued in the journal "
             f"('geohazard incident notify {record.id} --channel {channel} --retry' sends them)")
    return 0


@app.command("ack-import")
@after_commit
def ack_import(
    ref: IdArg,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The SMS platform's reply export: CSV with "
                                         "number, time, text.", show_default=False)],
    format: FormatOpt = TextJson.text,
    db: DbOpt = None,
    config_dir: ConfigDirOpt = None,
    notify_file: NotifyOpt = None,
) -> int:
    """Record the SMS replies of an export as answers (叫应): numbers to units, texts to outcomes.

    Example: geohazard incident ack-import 3 replies.csv
    """
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.notify import settings as st
    from geohazard_cli.notify.replies import match, read_replies, reply_table
    from geohazard_cli.responses import import_replies, state_of

    incident_id = parse_id(ref)
    cfg = resolve_dir(config_dir)
    conf = st.load(cfg, notify_file, required=False)
    table, by = reply_table(cfg)
    j = existing(db, incident_id)
    try:
        record = state_of(j, incident_id)
        rows = read_replies(file, tz_text(record.opened_at))
        matched, unknown = match(rows, record, load_roster(cfg), conf, table)
        record, events = import_replies(j, incident_id, matched, by)
    finally:
        j.close()
    _print_import(record, events, unknown, format)
    return 0


def _print_import(record: Any, events: list[Any], unknown: list[dict[str, Any]], format: TextJson) -> None:
    from geohazard_cli.lifecycle import pending

    if format is TextJson.json:
        from geohazard_cli.cli._common import emit_json
        from geohazard_cli.journal import event_json

        emit_json({"id": record.id, "acks": [event_json(e) for e in events], "unknown": unknown,
                   "pending": pending(record)})
        return
    from geohazard_cli.cli.term import Term
    from geohazard_cli.journal import event_text

    out = Term()
    for e in events:
        out.print(f"{mark(record)}{noun(record)} #{record.id} {event_text(e)}", wrap=False)
    for u in unknown:
        out.print(f"  未识别 第{u['line']}行 {u['number']}「{u['text']}」:{u['reason']}", style="yellow", wrap=False)
    out.print(f"未回应单位 {len(pending(record))} 个")
