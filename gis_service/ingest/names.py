"""Names of the demo district (zh with an English form), Yuexiu district around Shuiyin Road."""

from __future__ import annotations

BASE_DISTRICT = ("440104", "越秀区", "Yuexiu District")
BASE_SUBDISTRICT = ("黄花岗街道", "Huanghuagang Subdistrict")
BASE_COMMUNITIES = [
    ("水荫南社区", "Shuiyinnan Community"),
    ("水荫北社区", "Shuiyinbei Community"),
    ("先烈中社区", "Xianliezhong Community"),
    ("黄花社区", "Huanghua Community"),
]
STREETS = [
    ("水荫路", "Shuiyin Road"),
    ("水荫一横路", "Shuiyin 1st Lane"),
    ("水荫二横路", "Shuiyin 2nd Lane"),
    ("先烈中路", "Xianlie Middle Road"),
    ("黄花路", "Huanghua Road"),
    ("永福路", "Yongfu Road"),
    ("犀牛路", "Xiniu Road"),
    ("执信南路", "Zhixin South Road"),
]
COMPOUND_34 = ("水荫路34号大院", "Shuiyin Road No. 34 Compound")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "丽",
    "强",
    "敏",
    "静",
    "伟",
    "芳",
    "军",
    "霞",
    "磊",
    "洁",
    "涛",
    "燕",
    "斌",
    "红",
    "勇",
    "琳",
]
ISSUE_NOTES = {
    "parking_disorder": "消防通道被乱停车辆占用 / cars parked in the fire lane",
    "ground_locks": "私装地锁三处 / three private ground locks",
    "access_control": "单元门禁损坏 / entrance access control broken",
    "water_pipes": "二楼水管渗漏 / leaking pipe on the 2nd floor",
    "illegal_structure": "违章搭建车棚 / illegal bicycle shed",
}


def person_name(index: int) -> str:
    """A deterministic Chinese personal name for demo users."""
    return SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]


def compound_name(index: int, number: int) -> tuple[str, str]:
    """A compound name (zh, en) built from a street and a door number."""
    zh, en = STREETS[index % len(STREETS)]
    suffix_zh, suffix_en = ("号大院", "Compound") if index % 2 == 0 else ("号小区", "Estate")
    return f"{zh}{number}{suffix_zh}", f"{en} No. {number} {suffix_en}"
