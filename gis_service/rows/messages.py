"""The messages of the row rules in Chinese and English: {label} and the rule's parameters.

Rules between fields take their messages from the layer (layers/*.yaml `checks`).
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
    },
}


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
