"""The messages of the row rules in Chinese and English: {label} and the rule's parameters.

Rules between fields take their messages from the layer (layers/*.yaml `checks`). The rules the
tables' triggers refuse a write by (gis_refuse: TRIGGER_RULES) are named in the refusal
(`constraint`), so a page says them in its language: the API's message is the database's,
in English, with the values it found.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "required": "请填写{label}",
        "integer": "{label}须为整数",
        "number": "{label}须为数字",
        "boolean": "{label}须为是或否",
        "string": "{label}须为文字",
        "nul": "{label}不能包含空字符",
        "date": "{label}须为日期(年-月-日)",
        "datetime": "{label}须为日期时间(ISO 8601)",
        "min": "{label}不能小于{min}",
        "above": "{label}须大于{above}",
        "max": "{label}不能大于{max}",
        "date_min": "{label}不能早于{min}",
        "date_future": "{label}不能晚于今天",
        "enum": "{label}须为以下之一:{values}",
        "max_length": "{label}最多{max_length}个字",
        "reference": "{label}引用的记录不存在",
        "rule": "{label}不符合规则{rule}",
        "stairwell_counts_follow_register": "此楼栋有住户台账:户数、老年户数和同意、反对户数"
                                            "由台账计算,请修改住户,不要修改计数",
        "stairwell_vote_gate": "有住户台账的楼栋须经业主表决通过才能推进到此状态:请在流程中推进,"
                               "由系统判定表决结果",
        "issue_reporter_is_writer": "网格员只能以本人名义上报问题",
        "issue_stairwell_in_issue_grid": "问题关联的楼栋须在问题所在的网格内,且在你负责的网格内",
        "issue_point_in_issue_grid": "问题的位置须在其网格范围内",
        "survey_surveyor_is_writer": "网格员只能以本人名义记录调查",
        "vote_in_proposal_unit": "该住户不属于此提案的楼栋或楼房",
        "vote_on_open_proposal": "该提案的表决已结束,投票不能再更改",
        "household_at_its_stairwell": "住户位于其梯口:请移动梯口,或为住户改选梯口",
    },
    "en": {
        "required": "{label} is required",
        "integer": "{label} must be a whole number",
        "number": "{label} must be a number",
        "boolean": "{label} must be true or false",
        "string": "{label} must be text",
        "nul": "{label} must not contain NUL characters",
        "date": "{label} must be a date (YYYY-MM-DD)",
        "datetime": "{label} must be a date and time (ISO 8601)",
        "min": "{label} must be at least {min}",
        "above": "{label} must be greater than {above}",
        "max": "{label} must be at most {max}",
        "date_min": "{label} must not be before {min}",
        "date_future": "{label} must not be after today",
        "enum": "{label} must be one of: {values}",
        "max_length": "{label} must be at most {max_length} characters",
        "reference": "{label} refers to a record that does not exist",
        "rule": "{label} breaks the rule {rule}",
        "stairwell_counts_follow_register": "this stairwell has a household register: its "
                                            "households, elderly households and consent counts "
                                            "are counted from it; change the households, not "
                                            "the count",
        "stairwell_vote_gate": "a stairwell with a household register moves on only when its "
                               "owners' vote passes: move it along the pipeline, which judges "
                               "the vote",
        "issue_reporter_is_writer": "a grid worker reports issues in their own name",
        "issue_stairwell_in_issue_grid": "an issue's stairwell lies in the issue's grid, and in "
                                         "a grid of yours",
        "issue_point_in_issue_grid": "the issue's point lies outside its grid",
        "survey_surveyor_is_writer": "a grid worker records surveys in their own name",
        "vote_in_proposal_unit": "the household does not belong to the stairwell or building of "
                                 "this proposal",
        "vote_on_open_proposal": "the proposal's vote has ended: its votes are final",
        "household_at_its_stairwell": "a household stands at its stairwell's entrance: move "
                                      "the stairwell, or give the household another one",
    },
}

TRIGGER_RULES = (
    "stairwell_counts_follow_register", "stairwell_vote_gate", "issue_reporter_is_writer",
    "issue_stairwell_in_issue_grid", "issue_point_in_issue_grid", "survey_surveyor_is_writer",
    "vote_in_proposal_unit", "vote_on_open_proposal", "household_at_its_stairwell",
)  # fmt: skip
"""The rules the tables' triggers refuse writes by (the migrations' gis_refuse calls)."""


def shown(value: Any) -> str:
    """A parameter as a message shows it (1 for 1.0, lists joined by commas)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def say(doc: dict[str, Any], key: str, name: str, **params: Any) -> str:
    """A message of a rules document with {label} and the field's parameters filled in."""
    spec = doc["fields"].get(name, {})
    values = {**spec, **params, "label": doc["labels"].get(name, name)}
    text: str = doc["messages"][key]
    for param, value in values.items():
        text = text.replace("{" + param + "}", shown(value))
    return text
