"""`geohazard roster [QUERY]`: units, numbers, work groups and duties of contacts.yaml."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from geohazard_cli.cli._common import ConfigDirOpt, TextJson, command_app

if TYPE_CHECKING:
    from geohazard_cli.contacts import RosterWording

app = command_app()


@app.command("roster")
def roster(
    query: Annotated[
        str | None,
        typer.Argument(help="Match unit names, aliases, work groups, posts and duties "
                       "(e.g. 卫生, 医疗卫生组).", show_default=False),
    ] = None,
    format: Annotated[TextJson, typer.Option("--format", "-f", help="Output format.")] = TextJson.text,
    config_dir: ConfigDirOpt = None,
) -> int:
    """List the roster (contacts.yaml): unit, number, work groups and posts; QUERY filters it.

    Example: geohazard roster 医疗卫生组
    """
    from geohazard_cli.cli._common import emit_json
    from geohazard_cli.config import config_dir as resolve_dir
    from geohazard_cli.contacts_load import load_roster
    from geohazard_cli.errors import NotFoundError

    r = load_roster(resolve_dir(config_dir))
    units = r.search(query or "")
    if not units:
        close = r.closest_names(query or "")
        hint = f" (closest: {'、'.join(close)})" if close else ""
        raise NotFoundError(f'roster: nothing matches "{query}"{hint}; '
                            "try a unit, work group, post or number, or \'geohazard roster\' for all")
    rows = []
    for u in units:
        rows.append({
            "key": u.key, "name": u.name, "aliases": u.aliases, "kind": u.kind, "phone": u.phone,
            "dial": u.dial, "phone_missing": u.phone_gap(),
            "in_plan": u.in_plan, "source": u.source,
            "groups": [{"name": g.name, "lead": leads} for g, leads in r.groups_of(u)],
            "roles": r.roles_of(u),
            "duties": [d.model_dump() for d in u.duties],
        })
    if format is TextJson.json:
        emit_json(rows)
        return 0
    _print_roster(rows, query, r.wording)
    return 0


def _print_roster(rows: list[dict[str, Any]], query: str | None, wording: "RosterWording") -> None:
    from geohazard_cli.cli.term import Cell, Column, Term

    out = Term()
    columns = [Column("单位"), Column("电话"), Column("工作组 / 职务", fold=True)]
    table: list[tuple[list[Cell], str]] = []
    gaps = []
    notes: dict[str, int] = {}  # provenance (source) of units the plan does not name -> note number
    for row in rows:
        groups = [wording.group_lead_short.format(group=g["name"]) if g["lead"] else g["name"]
                  for g in row["groups"]]
        roles = [r.split(":")[0] for r in row["roles"]]
        name = row["name"]
        if not row["in_plan"]:
            no = notes.setdefault(row["source"], len(notes) + 1)
            name += f" [注{no}]"
        if not row["dial"]:
            gaps.append(f"{row['name']}: {row['phone_missing'] or '号码缺失,请补充'}")
        table.append(([name, row["dial"] or ("无号码", "bold red"), "、".join(roles + groups) or "—"], ""))
    out.table(columns, table, f"{wording.title}{f' · {query}' if query else ''}")
    for source, no in notes.items():
        out.print(f"[注{no}] {source}")
    if gaps:
        out.print("无号码:", style="bold")
        for gap in gaps:
            out.print(f"  {gap}")
