"""The shipped roster against the plan, unit by unit, and the dispatch core (pure).

The plan's own statements (附件3 numbers, §2.1 members, 附件1 groups) are written out here as the
independent reference: this checks contacts.yaml against the source, not against itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geohazard_cli.contacts import Roster, dial_number, phone_problem
from geohazard_cli.contacts_load import check_roster, load_roster
from geohazard_cli.dispatch import CallList, call_list_diff, check_dispatch, resolve_call_list
from geohazard_cli.errors import ConfigError, NotFoundError
from geohazard_cli.grading import grade
from geohazard_cli.intake import parse_incident
from geohazard_cli.rules import Profile

PLAN = Path(__file__).resolve().parents[1] / "docs" / "plan" / "geohazard-emergency-plan-2023.md"


def plan_text() -> str:
    """The plan's source text, vendored in docs/plan/ (a copy of shared/plan/) so these checks always run."""
    return PLAN.read_text(encoding="utf-8")


# 附件3 济南市市中区地质灾害应急救援指挥部成员通讯录, as printed (24 entries).
ATTACHMENT_3 = {
    "区指挥部办公室": "82722671",
    "区人武部": "82078710",
    "区委宣传部": "82078134",
    "区政府办公室": "82078300",
    "区发展改革局": "82078351",
    "区教育体育局": "86010734",
    "区工业和信息化局": "82078568",
    "区民政局": "82796092",
    "区司法局": "82078619",
    "区财政局": "82059660",
    "区自然资源局": "82078846",
    "区住房城乡建设局": "82597378",
    "区水务局": "81751867",
    "区农业农村局": "87192853",
    "区商务局": "82078368",
    "区文化和旅游局": "55700602",
    "区卫生健康局": "67809933",
    "区应急局": "82722671",
    "区园林绿化服务中心": "82078915",
    "公安市中分局": "85284550",
    "生态环境市中分局": "82746577",
    "市中交警大队": "85082520",
    "市中消防救援大队": "87939119",
    "国网济南供电公司市中供电中心": "89027554",
}

# §2.1 成员, in order, with the extraction artefacts resolved as the plan header says.
MEMBERS_2_1 = [
    "区人武部", "区委宣传部", "区政府办公室", "区发展改革局", "区教育体育局", "区工业和信息化局", "区民政局",
    "区司法局", "区财政局", "区自然资源局", "区住房城乡建设局", "区水务局", "区农业农村局", "区商务局",
    "区文化和旅游局", "区卫生健康局", "区应急局", "区园林绿化服务中心", "公安市中分局", "生态环境市中分局",
    "市中交警大队", "市中消防救援大队", "国网济南供电公司市中供电中心", "各街道办事处",
]

# 附件1(一): group -> (lead, members as printed; "街道办事处" of 综合协调组 is 各街道办事处).
GROUPS = {
    "综合协调组": ("区政府办公室", ["区应急局", "区自然资源局", "各街道办事处"]),
    "应急救援组": ("区应急局", ["市中消防救援大队", "各类专业救援队伍"]),
    "应急专家组": ("区自然资源局", ["区发展改革局", "区住房城乡建设局", "区水务局", "区卫生健康局",
                                    "区应急局"]),
    "医疗卫生组": ("区卫生健康局", ["区民政局", "区农业农村局", "各街道办事处"]),
    "社会治安组": ("公安市中分局", ["区人武部", "市中交警大队", "各街道办事处"]),
    "宣传报道组": ("区委宣传部", ["区文化和旅游局"]),
    "后勤保障组": ("区应急局", ["区发展改革局", "区教育体育局", "区工业和信息化局", "区财政局", "区水务局",
                                "区商务局", "国网济南供电公司市中供电中心"]),
    "灾情评估组": ("区应急局", ["区发展改革局", "区司法局", "区财政局", "区自然资源局",
                                "区住房城乡建设局", "区水务局", "区农业农村局", "区商务局",
                                "区园林绿化服务中心", "各街道办事处"]),
}

# 附件1(二): every unit with a duty paragraph; the first words of each, as printed.
DUTY_OPENINGS = {
    "区人武部": "根据地质灾害险情、灾情的演进情况",
    "区委宣传部": "负责组织协调突发地质灾害事件新闻宣传",
    "区发展改革局": "负责积极争取上级防灾减灾救灾投资",
    "区教育体育局": "负责组织遭受破坏的学校学生转移安置",
    "区工业和信息化局": "负责组织、协调本地区电信运营企业",
    "区民政局": "负责指导各类社会组织规范开展救灾捐赠",
    "区司法局": "配合有关部门做好全区司法行政系统",
    "区财政局": "负责区级地质灾害应急救援相关资金保障",
    "区自然资源局": "负责组织指导地质灾害应急调查评价",
    "区住房城乡建设局": "负责指导灾区被毁坏的市政供热、供气设施",
    "区水务局": "负责组织抢修受损毁的供水、水利、道路等设施",
    "区农业农村局": "负责调查评估地质灾害造成的农业资源",
    "区商务局": "负责组织协调部分生活必需品的应急供应",
    "区文化和旅游局": "负责协调旅游服务设施所有权单位",
    "区卫生健康局": "负责组织医疗卫生机构积极开展伤病员救治",
    "区应急局": "负责组织协调地质灾害应急救援工作",
    "区园林绿化服务中心": "负责做好中心承建的城市综合公园",
    "公安市中分局": "负责组织协调灾区有关部门维护社会治安秩序",
    "生态环境市中分局": "负责加强灾区大气、饮用水、土壤",
    "市中交警大队": "疏导交通,必要时对灾区和通往灾区的道路实行交通管制",
    "市中消防救援大队": "负责组织指挥消防救援队伍参加应急抢险救援工作",
    "国网济南供电公司市中供电中心": "负责所辖电力设施的抢修恢复工作",
    "各街道办事处": "发现险情灾情立即上报",
}

ARTEFACTS = ["区对政局", "区市,", "区立", "国网济南供电公,", "国网济南供电公\n"]


@pytest.fixture(scope="module")
def roster(cfg: Path) -> Roster:
    return load_roster(cfg)


# --- the data against the plan ------------------------------------------------------------


@pytest.mark.parametrize(("name", "number"), ATTACHMENT_3.items())
def test_attachment_3_number(roster: Roster, name: str, number: str) -> None:
    unit = roster.unit(name)
    assert unit.name == name
    assert unit.phone == number
    assert unit.dial == f"0531-{number}"


def test_attachment_3_is_complete(roster: Roster) -> None:
    with_number = {u.name for u in roster.units if u.source.endswith("附件3") or "附件3" in u.source}
    assert with_number == set(ATTACHMENT_3)
    assert len(ATTACHMENT_3) == 24


def test_numbers_appear_in_plan_text(roster: Roster) -> None:
    """Every number in contacts.yaml is printed somewhere in the plan (附件3 or the notice)."""
    text = plan_text()
    for u in roster.units:
        if u.phone is not None:
            assert u.phone in text, u.name


def test_notice_number(roster: Roster) -> None:
    u = roster.unit("区应急局应急救援协调指挥科")
    assert u.phone == "81913765"
    assert u.dial == "0531-81913765"
    assert "通知" in u.source


def test_command_2_1(roster: Roster) -> None:
    cmd = roster.command
    assert cmd.commander.holder == "区政府指定的负责同志"
    assert [(h.holder, roster.unit(h.unit).name) for h in cmd.deputies] == [
        ("区政府办公室分管副主任", "区政府办公室"),
        ("区应急局局长", "区应急局"),
        ("区自然资源局局长", "区自然资源局"),
        ("市中消防救援大队大队长", "市中消防救援大队"),
    ]
    assert [roster.unit(m).name for m in cmd.members] == MEMBERS_2_1


def test_office_2_2(roster: Roster) -> None:
    office = roster.office
    assert roster.unit(office.unit).name == "区指挥部办公室"
    assert roster.unit(office.seat).name == "区应急局"
    assert office.director.holder == "区应急局局长"
    # The duplicated "副主任由区应急局局长兼任" is an artefact: three deputies, none the director.
    assert [h.holder for h in office.deputies] == [
        "区应急局分管副局长", "区自然资源局分管副局长", "市中消防救援大队副大队长"]


@pytest.mark.parametrize("group", GROUPS)
def test_work_group(roster: Roster, group: str) -> None:
    g = roster.group(group)
    assert g is not None
    lead, members = GROUPS[group]
    assert roster.unit(g.lead).name == lead
    assert [roster.unit(m).name for m in g.members] == members
    assert g.source == "附件1(一)"
    assert g.duties.endswith("承担区指挥部交办的其他工作。")


def test_groups_complete(roster: Roster) -> None:
    assert [g.name for g in roster.groups] == list(GROUPS)


@pytest.mark.parametrize(("name", "opening"), DUTY_OPENINGS.items())
def test_unit_duty(roster: Roster, name: str, opening: str) -> None:
    duties = [d for d in roster.unit(name).duties if d.source == "附件1(二)"]
    assert len(duties) == 1
    assert duties[0].text.startswith(opening)


def test_duty_texts_are_the_plans(roster: Roster) -> None:
    """Each 附件1(二) duty is the plan's paragraph with only line-wrap spaces removed."""
    import re

    text = plan_text()
    flat = re.sub(r"\s+", "", text)
    for u in roster.units:
        for d in u.duties:
            assert d.text in flat, (u.name, d.text[:20])
    for g in roster.groups:
        assert g.duties in flat, g.name


def test_no_duty_paragraph_for_units_the_plan_gives_none(roster: Roster) -> None:
    assert roster.unit("区政府办公室").duties == []
    assert set(DUTY_OPENINGS) | {"区政府办公室"} == set(ATTACHMENT_3) - {"区指挥部办公室"} | {"各街道办事处"}


def test_no_extraction_artefact_reaches_the_data(cfg: Path) -> None:
    text = (cfg / "contacts.yaml").read_text(encoding="utf-8")
    data = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # comments may quote them
    for bad in ["区对政局", "区市,", "区立,", "区立\n", "国网济南供电公,", "国网济南供电公\n"]:
        assert bad not in data + "\n", bad
    for name in ["区对政局", "区市", "区立", "国网济南供电公"]:
        with pytest.raises(NotFoundError):
            load_roster(cfg).unit(name)


def test_units_without_number_are_kept_and_explained(roster: Roster) -> None:
    no_number = {u.name: u for u in roster.units if u.phone is None}
    for name in ["各街道办事处", "各类专业救援队伍", "区指挥部指挥长", "七里山街道办事处"]:
        assert name in no_number
        assert no_number[name].phone_missing
        assert no_number[name].dial is None


def test_streets_not_from_plan_are_marked(roster: Roster) -> None:
    streets = [u for u in roster.units if u.kind == "street" and u.parent is not None]
    assert len(streets) == 17
    for u in streets:
        assert u.in_plan is False
        assert "非预案内容" in u.source
        assert roster.unit(u.parent or "").name == "各街道办事处"
    assert roster.unit("七里山街道").name == "七里山街道办事处"


def test_shipped_roster_has_no_fatal_problem(roster: Roster, cfg: Path) -> None:
    text = (cfg / "contacts.yaml").read_text(encoding="utf-8")
    problems = check_roster(roster, "contacts.yaml", text)
    assert [str(p) for p in problems if p.fatal] == []
    # What remains are notices: exactly the units without a number, each reported, and the number
    # 附件3 gives both 区指挥部办公室 and 区应急局.
    assert all(p.notice for p in problems)
    no_number = [p.unit for p in problems if p.message.startswith("no number")]
    assert sorted(u or "" for u in no_number) == sorted(u.name for u in roster.units if u.phone is None)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith('    phone: "82722671"   #'))
    assert [str(p) for p in problems if not p.message.startswith("no number")] == [
        f"contacts.yaml:{line}: units.17.phone: [区应急局] same number as 区指挥部办公室 (82722671)"]


# --- lookup ---------------------------------------------------------------------------------


def test_lookup_aliases_and_suggestion(roster: Roster) -> None:
    assert roster.unit("应急局").name == "区应急局"
    assert roster.unit("区卫健局").name == "区卫生健康局"
    assert roster.unit("ｅｍｅｒｇｅｎｃｙ").name == "区应急局"  # key, full-width
    with pytest.raises(NotFoundError) as err:
        roster.unit("区应急")
    assert str(err.value) == 'unknown unit "区应急" (did you mean "区应急局"?) (see \'geohazard roster\')'
    with pytest.raises(NotFoundError) as err:
        roster.unit("xyz")
    assert str(err.value) == 'unknown unit "xyz" (see \'geohazard roster\')'


@pytest.mark.parametrize(("phone", "problem"), [
    ("82722671", None),
    ("0531-82722671", None),
    ("053182722671", None),
    ("13912345678", None),
    ("8272267", None),
    ("", "blank number"),
    ("1234", '"1234" is not a fixed-line (7-8 digits, optional area code 0xx-) or mobile number'),
    ("12345678901", '"12345678901" is not a mobile number (11 digits starting 13-19)'),
    ("02722671", '"02722671" is not a fixed-line (7-8 digits, optional area code 0xx-) or mobile number'),
    ("８２７２２６７１", '"８２７２２６７１" has spaces or full-width digits; write it as "82722671"'),
])
def test_phone_problem(phone: str, problem: str | None) -> None:
    assert phone_problem(phone) == problem


@pytest.mark.parametrize(("phone", "problem"), [
    ("82722671", None),
    ("0531-82722671", None),
    ("010-6234567", None),  # another area: its own length, not checked here
    ("13912345678", None),
    ("8207830", '"8207830" has 7 digits; local numbers in 0531 have 8 (local_number_length)'),
    ("0531-8207830", '"0531-8207830" has 7 digits; local numbers in 0531 have 8 (local_number_length)'),
])
def test_phone_problem_local_length(phone: str, problem: str | None) -> None:
    """A 7-digit number in 济南 (0531, 8-digit local numbers) cannot be dialled."""
    assert phone_problem(phone, "0531", 8) == problem


def test_local_number_length_is_data(roster: Roster) -> None:
    assert (roster.area_code, roster.local_number_length) == ("0531", 8)


def test_dial_number() -> None:
    assert dial_number("82722671", "0531") == "0531-82722671"
    assert dial_number("010-62345678", "0531") == "010-62345678"
    assert dial_number("13912345678", "0531") == "13912345678"
    assert dial_number(None, "0531") is None
    assert dial_number("abc", "0531") is None
    assert dial_number("82722671", "0531", 8) == "0531-82722671"
    assert dial_number("8207830", "0531", 8) is None  # "0531-8207830" cannot be dialled
    assert dial_number("0531-8207830", "0531", 8) is None
    assert dial_number("010-6234567", "0531", 8) == "010-6234567"


# --- dispatch ---------------------------------------------------------------------------------


def call_list(profile: Profile, roster: Roster, **figures: str) -> CallList:
    return resolve_call_list(grade(parse_incident(figures, profile), profile), profile, roster)


def test_shipped_dispatch_is_sound(profile: Profile, roster: Roster) -> None:
    assert check_dispatch(profile, roster, profile.id) == []


@pytest.mark.parametrize("evacuees", ["140", "600", "1000"])
def test_levels_i_ii_engage_every_member(shizhong: Profile, roster: Roster, evacuees: str) -> None:
    cl = call_list(shizhong, roster, evacuees=evacuees)
    assert cl.level in ("I", "II")
    names = cl.names()
    for member in MEMBERS_2_1:
        assert member in names
    assert "各类专业救援队伍" in names and "区指挥部指挥长" in names
    assert len(names) == len(set(names))


def test_order_office_and_leads_first(shizhong: Profile, roster: Roster) -> None:
    names = call_list(shizhong, roster, evacuees="600").names()
    assert names[:9] == ["区指挥部办公室", "区指挥部指挥长", "区政府办公室", "区自然资源局", "区应急局",
                         "市中消防救援大队", "区委宣传部", "区卫生健康局", "公安市中分局"]
    assert [e.order for e in call_list(shizhong, roster, evacuees="600").entries] == list(range(1, 28))


def test_level_iii_is_the_6_2_3_tasks(shizhong: Profile, roster: Roster) -> None:
    cl = call_list(shizhong, roster, evacuees="50")
    assert cl.level == "III"
    assert set(cl.names()) == {
        "区指挥部办公室", "区指挥部指挥长", "区政府办公室", "区自然资源局", "区应急局", "市中消防救援大队",
        "区委宣传部", "区卫生健康局", "公安市中分局", "区发展改革局", "区工业和信息化局", "区住房城乡建设局",
        "区水务局", "区商务局", "市中交警大队", "国网济南供电公司市中供电中心", "各街道办事处",
        "各类专业救援队伍",
    }
    power = next(e for e in cl.entries if e.unit == "国网济南供电公司市中供电中心")
    assert power.reasons == ["电力保障(6.2.3(3))"]
    assert power.dial == "0531-89027554"


def test_reasons_name_roles_groups_and_clauses(shizhong: Profile, roster: Roster) -> None:
    cl = call_list(shizhong, roster, evacuees="600")
    e = next(e for e in cl.entries if e.unit == "区应急局")
    assert e.reasons[:2] == ["副指挥长: 区应急局局长(2.1)", "办公室主任: 区应急局局长(2.2)"]
    assert "应急救援组牵头单位(附件1(一))" in e.reasons
    assert "综合协调组成员单位(附件1(一))" in e.reasons
    assert "相关成员单位按照各自职责开展应急救援和现场处置(6.1.3(3))" in e.reasons
    assert e.duties[0].startswith("负责组织协调地质灾害应急救援工作")
    assert any(d.startswith("牵头应急救援组: ") for d in e.duties)
    teams = next(e for e in cl.entries if e.unit == "各类专业救援队伍")
    assert teams.phone is None and teams.phone_missing
    assert teams.duties[0].startswith("参加应急救援组: ")


def test_local_street_from_location(shizhong: Profile, roster: Roster) -> None:
    cl = call_list(shizhong, roster, evacuees="50", location="七里山街道办事处辖区某小区后山")
    e = next(e for e in cl.entries if e.unit == "七里山街道办事处")
    assert e.in_plan is False and e.phone is None
    assert ("属地街道办事处:险情灾情初期的人员疏散、设立警戒线和伤员救助(5; 附件1(二));"
            "地点: 七里山街道办事处辖区某小区后山") in e.reasons
    # the first responder on the ground: right after the office, 指挥长 and the 副指挥长 units
    assert cl.names()[:7] == ["区指挥部办公室", "区指挥部指挥长", "区政府办公室", "区自然资源局", "区应急局",
                              "市中消防救援大队", "七里山街道办事处"]
    # and it stands in for 各街道办事处, which is not called as well
    assert "各街道办事处" not in cl.names()
    unmatched = call_list(shizhong, roster, evacuees="50", location="某山体")
    streets = next(e for e in unmatched.entries if e.unit == "各街道办事处")
    assert any("地点未对应到具体街道" in r for r in streets.reasons)


@pytest.mark.parametrize("evacuees", ["50", "140", "600"])
def test_affected_street_is_labelled_not_marked_non_plan(shizhong: Profile, roster: Roster,
                                                         evacuees: str) -> None:
    """The affected street office says what it is (受灾街道办事处); where its name comes from is a
    footnote, never a "(非预案)" tag on the unit a tired officer might skip."""
    cl = call_list(shizhong, roster, evacuees=evacuees, deaths="1", location="七里山街道")
    e = next(e for e in cl.entries if e.unit_key == "street_qilishan")
    assert e.unit == "七里山街道办事处"
    assert e.label == "受灾街道办事处"
    assert e.footnote == ("七里山街道办事处: 名称据地点“七里山街道”确定;"
                          "非预案内容:市中区行政区划(街道名录),待核实")
    assert e.order == 7
    assert e.duties[0].startswith("发现险情灾情立即上报")  # 附件1(二) 各街道办事处
    assert "各街道办事处" not in cl.names()
    assert len(cl.names()) == len(set(cl.names()))


def test_affected_street_takes_over_the_streets_roles(shizhong: Profile, roster: Roster) -> None:
    cl = call_list(shizhong, roster, evacuees="140", location="七里山街道")
    e = next(e for e in cl.entries if e.unit == "七里山街道办事处")
    for g in ("综合协调组", "医疗卫生组", "社会治安组", "灾情评估组"):
        assert f"{g}成员单位(附件1(一))" in e.reasons
    assert "受灾街道办事处(6.1.3(2));地点: 七里山街道" in e.reasons


def test_level_calling_all_streets_lists_them_once(shizhong: Profile, roster: Roster) -> None:
    import copy

    dispatch = copy.deepcopy(shizhong.dispatch)
    for rule in dispatch["levels"]["III"]["engage"]:
        if rule["engage"] == "local_street":
            rule["all_streets"] = "本级响应通知各街道办事处"
    profile = shizhong.model_copy(update={"dispatch": dispatch})
    assert check_dispatch(profile, roster, "x.yaml") == []
    cl = call_list(profile, roster, evacuees="50", location="七里山街道")
    assert cl.names().count("各街道办事处") == 1
    streets = next(e for e in cl.entries if e.unit == "各街道办事处")
    assert streets.reasons == ["本级响应通知各街道办事处(5; 附件1(二))"]
    assert "七里山街道办事处" in cl.names()


def test_label_is_local_street_only(shizhong: Profile, roster: Roster) -> None:
    import copy

    dispatch = copy.deepcopy(shizhong.dispatch)
    dispatch["levels"]["III"]["engage"][0]["label"] = "受灾街道办事处"
    profile = shizhong.model_copy(update={"dispatch": dispatch})
    assert [str(p) for p in check_dispatch(profile, roster, "x.yaml")] == [
        "x.yaml: dispatch.levels.III.engage.0.label: engage: office takes no label (local_street only)"]


def test_report_form_fields_are_checked(shizhong: Profile, roster: Roster) -> None:
    import copy

    dispatch = copy.deepcopy(shizhong.dispatch)
    dispatch["report_form"][0]["fields"][0] = "occured_at"
    profile = shizhong.model_copy(update={"dispatch": dispatch})
    assert [str(p) for p in check_dispatch(profile, roster, "x.yaml")] == [
        "x.yaml: dispatch.report_form.0.fields.0: unknown incident field 'occured_at' "
        '(did you mean "occurred_at"?)']
    del dispatch["report_form"]
    profile = shizhong.model_copy(update={"dispatch": dispatch})
    assert [str(p) for p in check_dispatch(profile, roster, "x.yaml")] == [
        "x.yaml: dispatch.report_form: no report_form sections: the 速报单 would cite no clause of this plan"]


def test_national_profile_levels(national: Profile, roster: Roster) -> None:
    small = call_list(national, roster, evacuees="50")
    medium = call_list(national, roster, evacuees="140")
    assert (small.level, medium.level) == ("IV", "III")
    assert len(small.entries) < len(medium.entries)
    assert set(MEMBERS_2_1) <= set(medium.names())


def test_call_list_diff(shizhong: Profile, roster: Roster) -> None:
    small = call_list(shizhong, roster, evacuees="50")
    medium = call_list(shizhong, roster, evacuees="140")
    newly, dropped = call_list_diff(small, medium)
    assert [e.unit for e in newly] == ["区人武部", "区教育体育局", "区民政局", "区司法局", "区财政局",
                                       "区农业农村局", "区文化和旅游局", "区园林绿化服务中心",
                                       "生态环境市中分局"]
    assert dropped == []
    newly, dropped = call_list_diff(medium, small)
    assert newly == [] and len(dropped) == 9
    newly, dropped = call_list_diff(None, small)
    assert newly == small.entries and dropped == []


def test_missing_dispatch_level_is_an_error(shizhong: Profile, roster: Roster) -> None:
    broken = shizhong.model_copy(update={"dispatch": {"levels": {"I": shizhong.dispatch["levels"]["I"]},
                                                      "report_form": shizhong.dispatch["report_form"]}})
    a = grade(parse_incident({"evacuees": "50"}, shizhong), shizhong)
    with pytest.raises(ConfigError) as err:
        resolve_call_list(a, broken, roster)
    assert str(err.value) == (f"{shizhong.source_file}: dispatch.levels: no entry for response level 'III' "
                              "(has: I)")
    problems = check_dispatch(broken, roster, "x.yaml")
    assert [p.message for p in problems] == [
        "no entry for response level II (II级响应): nobody would be called",
        "no entry for response level III (III级响应): nobody would be called",
    ]


def test_json_shape(shizhong: Profile, roster: Roster) -> None:
    data = call_list(shizhong, roster, evacuees="50").model_dump(mode="json")
    assert data["level"] == "III"
    first = data["entries"][0]
    assert first["unit"] == "区指挥部办公室" and first["dial"] == "0531-82722671" and first["order"] == 1
    assert roster.unit("区应急局").model_dump(mode="json")["dial"] == "0531-82722671"


def test_unknown_unit_in_dispatch_is_a_config_error(shizhong: Profile, roster: Roster) -> None:
    import copy

    dispatch = copy.deepcopy(shizhong.dispatch)
    dispatch["levels"]["III"]["engage"][7]["name"] = "市中交警"
    broken = shizhong.model_copy(update={"dispatch": dispatch})
    a = grade(parse_incident({"evacuees": "50"}, shizhong), shizhong)
    with pytest.raises(ConfigError) as err:
        resolve_call_list(a, broken, roster)
    assert str(err.value) == (f"{shizhong.source_file}: dispatch.levels.III.engage.7.name: [市中交警] unknown "
                              'unit \'市中交警\' (did you mean "市中交警大队"?)')
    # other levels still resolve
    ok = grade(parse_incident({"evacuees": "140"}, shizhong), shizhong)
    assert resolve_call_list(ok, broken, roster).level == "II"


def test_the_roster_is_kept_as_plain_data_and_an_edit_is_seen(copy: Path) -> None:
    """load_roster keeps contacts.yaml (as loaded and checked) in the cache: a fresh process reads it
    without the YAML parser, and an edited file is read again; a bad edit is refused, not served
    from the old entry."""
    import os
    import subprocess
    import sys

    from geohazard_cli import contacts_load

    probe = ("import sys; from pathlib import Path; from geohazard_cli.contacts_load import load_roster; "
             "r = load_roster(Path(sys.argv[1])); print(r.by_key['district_ert'].phone if 'district_ert' in r.by_key "
             "else sorted(r.by_key)[0], 'yaml' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", probe, str(copy)], capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", probe, str(copy)], capture_output=True, text=True, check=True)
    assert first.stdout.split()[0] == again.stdout.split()[0]
    assert again.stdout.split()[-1] == "False", "the second run parsed YAML"
    path = copy / "contacts.yaml"
    text = path.read_text(encoding="utf-8")
    stat = path.stat()
    path.write_text(text.replace('phone: "82722671"', 'phone: "82722672"', 1), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    contacts_load._cache.clear()
    assert "82722672" in {u.phone for u in load_roster(copy).by_key.values()}
    path.write_text(text.replace('phone: "82722671"', 'phone: [1]', 1), encoding="utf-8")
    contacts_load._cache.clear()
    with pytest.raises(ConfigError, match=r"contacts\.yaml"):
        load_roster(copy)


@pytest.mark.parametrize("figures", [{"deaths": 12}, {"deaths": 3}, {"evacuees": 140}, {"evacuees": 50,
                                                                                      "location": "七里山街道"}])
def test_a_unit_named_as_its_call_list_names_it_resolves_as_the_roster_does(
        roster: Roster, shizhong: Profile, figures: dict[str, object]) -> None:
    """incident ack looks on the call list first (listed_unit) and reads the roster only when the
    list does not hold the name: for every unit on a call list, by key or full name, both agree."""
    from geohazard_cli.lifecycle import State
    from geohazard_cli.responses import listed_unit, resolve_unit

    calls = resolve_call_list(grade(parse_incident(figures, shizhong), shizhong), shizhong, roster)
    state = State(id=1, call_list=calls.model_dump(mode="json"))
    assert calls.entries
    for e in calls.entries:
        for name in (e.unit, e.unit_key, f" {e.unit} "):
            assert listed_unit(name, [state]) == resolve_unit(name, roster, [state]) == (e.unit_key, e.unit)
    assert listed_unit("七里山", [state]) is None  # a short form: the roster's to resolve
