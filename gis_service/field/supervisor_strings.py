"""Strings of the supervisor page (/maps/field-progress) and the headers of its CSV (zh/en);
the field pages' own strings stay in strings.py."""

from __future__ import annotations

SUPERVISOR: dict[str, dict[str, str]] = {
    "zh": {
        "title": "走访进度督导", "map": "各网格走访进度", "per_grid": "各网格走访率",
        "communities": "社区汇总", "community": "社区", "grids": "网格数",
        "open_issues_n": "未办结问题", "age": "已过天数", "days": "{n} 天",
        "assign": "派单", "assign_to": "派给", "choose_worker": "选择网格员",
        "resolve_note": "办结说明(必填)", "note_required": "请填写办结说明",
        "export": "导出 CSV", "status_label": "状态", "assignee": "处理人",
        "share_legend": "走访率", "surveyed_of": "已走访 {done} / {all} 个梯口",
        "failed": "操作失败", "stale": "该问题已被他人修改,已重新加载",
        "category": "类别", "note": "描述", "last_surveyed": "最近走访",
    },
    "en": {
        "title": "Survey progress (supervisor)", "map": "Progress per grid",
        "per_grid": "Share surveyed per grid", "communities": "By community",
        "community": "Community", "grids": "Grids", "open_issues_n": "Open issues",
        "age": "Age", "days": "{n} days", "assign": "Assign", "assign_to": "Assign to",
        "choose_worker": "Choose a grid worker", "resolve_note": "What was done (required)",
        "note_required": "Say what was done", "export": "Export CSV",
        "status_label": "Status", "assignee": "Assignee", "share_legend": "Share surveyed",
        "surveyed_of": "{done} of {all} stairwells surveyed", "failed": "Failed",
        "stale": "Someone changed this issue since: reloaded", "category": "Category",
        "note": "Note", "last_surveyed": "Last surveyed",
    },
}
CSV_HEADERS: dict[str, dict[str, str]] = {
    "zh": {"grid": "网格", "code": "网格编码", "stairwells": "梯口数", "surveyed": "已走访梯口",
           "share": "走访率", "households": "户数", "reached": "走访户数",
           "last": "最近走访日期", "open": "未办结问题", "assigned": "已派单问题",
           "resolved": "已办结问题"},
    "en": {"grid": "Grid", "code": "Grid code", "stairwells": "Stairwells",
           "surveyed": "Stairwells surveyed", "share": "Share surveyed",
           "households": "Households", "reached": "Households reached",
           "last": "Last surveyed on", "open": "Open issues", "assigned": "Assigned issues",
           "resolved": "Resolved issues"},
}


def csv_headers(lang: str) -> dict[str, str]:
    """The CSV's column headers in a language."""
    return CSV_HEADERS[lang]
