"""Page language (lang parameter or Accept-Language) and the user-interface strings."""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "sign_in": "登录",
        "sign_out": "退出",
        "token": "访问令牌",
        "token_hint": "粘贴规划人员的访问令牌",
        "signed_in": "已登录",
        "need_sign_in": "请先登录以查看数据",
        "search": "搜索小区、社区、网格、楼栋(可用拼音)",
        "share": "分享视图",
        "share_hint": "复制当前视图的链接",
        "share_copied": "链接已复制",
        "share_select": "请复制下面的链接",
        "no_results": "无结果",
        "loading": "加载中…",
        "failed": "加载失败",
        "history": "状态记录",
        "no_history": "暂无变更记录",
        "aggregated": "梯口汇总",
        "count": "梯口数",
        "legend": "图例",
        "level": "统计单元",
        "indicator": "指标",
        "no_data": "无数据",
        "min": "最小",
        "median": "中位数",
        "max": "最大",
        "areas": "个单元",
        "scenarios": "方案比较",
        "choose_scenario": "选择方案",
        "baseline": "现状",
        "scenario": "方案",
        "delta": "变化",
        "swipe": "拖动滑块比较现状与方案",
        "close": "关闭",
        "stairwells": "梯口",
        "in_service": "已投用电梯",
        "households": "户数",
        "status_legend": "加装电梯进度",
        "basemap_failed": "底图无法加载,已切换为空白底图",
        "compound_card": "小区指标",
        "unchanged": "该指标无变化",
        "target_is": "目标:每{per}{value}{unit}",
        "per_household": "户",
        "per_resident": "人",
        "target_source": "来源",
        "definitions": "口径说明",
        "report": "报告(PDF)",
        "other_kinds": "其他类型",
        "batch": "连片加装批次",
        "batch_size": "{n}个梯口",
        "projection": "投用梯口(现状 → 批次建成后):{now} → {then}",
        "compare_batch": "比较此批次",
        "batch_scenario": "由小区指标卡创建:{name}的全部梯口加装电梯",
        "error_400": "请求有误",
        "error_401": "请先登录",
        "error_403": "无权查看",
        "error_404": "未找到",
        "error_409": "数据已被他人修改,请刷新",
        "error_413": "内容过大",
        "error_422": "请求有误",
        "error_429": "请求过于频繁,请稍后再试",
        "error_503": "服务暂不可用,请稍后再试",
        "error_4xx": "请求未被接受",
        "error_5xx": "服务出错",
        "error_offline": "无法连接服务器",
    },
    "en": {
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "token": "Access token",
        "token_hint": "Paste a planner's access token",
        "signed_in": "Signed in",
        "need_sign_in": "Sign in to see the data",
        "search": "Find a compound, community, grid or building (pinyin too)",
        "share": "Share this view",
        "share_hint": "Copy a link to this view",
        "share_copied": "Link copied",
        "share_select": "Copy the link below",
        "no_results": "No results",
        "loading": "Loading…",
        "failed": "Could not load",
        "history": "Status history",
        "no_history": "No recorded changes",
        "aggregated": "Stairwells here",
        "count": "Stairwells",
        "legend": "Legend",
        "level": "Areas",
        "indicator": "Indicator",
        "no_data": "No data",
        "min": "min",
        "median": "median",
        "max": "max",
        "areas": "areas",
        "scenarios": "Scenarios",
        "choose_scenario": "Choose a scenario",
        "baseline": "Baseline",
        "scenario": "Scenario",
        "delta": "Change",
        "swipe": "Drag the handle to compare baseline and scenario",
        "close": "Close",
        "stairwells": "Stairwells",
        "in_service": "Elevators in service",
        "households": "Households",
        "status_legend": "Elevator retrofit status",
        "basemap_failed": "The basemap cannot be reached: switched to the blank one",
        "compound_card": "Compound indicators",
        "unchanged": "No change in this indicator",
        "target_is": "Target: {value} {unit} per {per}",
        "per_household": "household",
        "per_resident": "resident",
        "target_source": "Source",
        "definitions": "Definitions",
        "report": "Report (PDF)",
        "other_kinds": "Other kinds",
        "batch": "Retrofit batch",
        "batch_size": "{n} stairwells",
        "projection": "Stairwells in service (now → once the batch is built): {now} → {then}",
        "compare_batch": "Compare this batch",
        "batch_scenario": "Made from the compound card: elevators in every stairwell of {name}",
        "error_4xx": "The request was refused",
        "error_5xx": "The service failed",
        "error_offline": "The service cannot be reached",
    },
}

# Scenario indicators (gis_service.analysis.scenario) by name
INDICATORS: dict[str, dict[str, str]] = {
    "zh": {
        "elevator_eligible_stairwells": "符合加装条件的梯口",
        "elevator_in_service_stairwells": "电梯已投用的梯口",
        "elevator_share_stairwells": "加装电梯覆盖率(梯口)",
        "elevator_share_households": "加装电梯覆盖率(住户)",
        "elevator_share_elderly_households": "加装电梯覆盖率(老年户)",
        # results stored before supply measures (one radius for every kind, all parking summed)
        "garden_share_households_served": "花园服务住户比例(旧口径)",
        "garden_share_elderly_served": "花园服务老年户比例(旧口径)",
        "garden_m2_per_resident": "人均可达花园面积(m²,旧口径)",
        "parking_share_households_served": "停车服务住户比例(旧口径)",
        "parking_share_elderly_served": "停车服务老年户比例(旧口径)",
        "parking_spaces_per_household": "户均可达停车设施(各类相加,旧口径)",
    },
    "en": {
        "elevator_eligible_stairwells": "Eligible stairwells",
        "elevator_in_service_stairwells": "Stairwells with an elevator in service",
        "elevator_share_stairwells": "Elevator coverage (stairwells)",
        "elevator_share_households": "Elevator coverage (households)",
        "elevator_share_elderly_households": "Elevator coverage (elderly households)",
        "garden_share_households_served": "Households a garden serves (former definition)",
        "garden_share_elderly_served": "Elderly households a garden serves (former definition)",
        "garden_m2_per_resident": "Garden m² within reach per resident (former definition)",
        "parking_share_households_served": "Households parking serves (former definition)",
        "parking_share_elderly_served": "Elderly households parking serves (former definition)",
        "parking_spaces_per_household": "Parking of every kind per household (former definition)",
    },
}


# Scenario indicators of each supply measure (analysis.scenario.MEASURE_INDICATORS): templates
# filled with the measure's label and unit from layers/*.yaml (ratio_<per>: per household/resident)
MEASURE_INDICATORS: dict[str, dict[str, str]] = {
    "zh": {
        "ratio": "{label}:可达量({unit})",
        "ratio_household": "{label}:户均可达({unit}/户)",
        "ratio_resident": "{label}:人均可达({unit}/人)",
        "shortage": "{label}:缺口({unit})",
        "households_short": "{label}:未达标住户(折算户数)",
        "share_households_reached": "{label}:服务半径内住户比例",
    },
    "en": {
        "ratio": "{label}: within reach ({unit})",
        "ratio_household": "{label} within reach per household ({unit})",
        "ratio_resident": "{label} within reach per resident ({unit})",
        "shortage": "{label}: shortage ({unit})",
        "households_short": "{label}: households short of the target (equivalents)",
        "share_households_reached": "{label}: households within reach",
    },
}


def negotiate(lang: str | None, accept_language: str | None) -> str:
    """'zh' or 'en': the lang parameter, else the best Accept-Language match, else Chinese."""
    if lang:
        code = lang.strip().lower()[:2]
        if code in LANGS:
            return code
    best, best_q = None, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        if code not in LANGS:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = code, q
    return best or DEFAULT_LANG
