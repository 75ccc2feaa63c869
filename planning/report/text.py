"""Words of the coverage report, in Simplified Chinese and English (one table)."""

from __future__ import annotations

# The words for the site vocabularies (codes in data/vocabulary.toml), in
# (Chinese, English). The app takes them from here too, so a kind or level reads
# the same on screen and on paper.
KIND_WORDS: dict[str, tuple[str, str]] = {
    "service_center": ("职工服务中心（站）", "Worker service centre/station"),
    "cultural_center": ("职工文体中心", "Cultural-sports centre"),
    "reading_room": ("职工书屋", "Reading room"),
    "workers_palace": ("工人文化宫", "Workers' palace"),
    "library": ("图书馆", "Library"),
    "clinic": ("卫生院（室）", "Clinic"),
    "school": ("学校", "School"),
}
LEVEL_WORDS: dict[str, tuple[str, str]] = {
    "city": ("市级", "City"),
    "county": ("县级", "County"),
    "township": ("乡镇（街道）级", "Township/street"),
    "community": ("社区（村）级", "Community"),
    "park": ("园区（企业）级", "Park/enterprise"),
}
GRADE_WORDS: dict[str, tuple[str, str]] = {
    "national": ("全国级", "National"),
    "provincial": ("省级", "Provincial"),
    "city": ("市级", "City"),
}
MODE_WORDS: dict[str, tuple[str, str]] = {"drive": ("驾车", "drive"), "walk": ("步行", "walk")}
# coordinate systems and text encodings of imported files, by the names planners know
CRS_WORDS: dict[str, tuple[str, str]] = {
    "wgs84": ("WGS-84（GPS、天地图、OSM）", "WGS-84 (GPS, Tianditu, OSM)"),
    "gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
}
ENCODING_XLSX = ("Excel 工作簿（无需编码）", "Excel workbook (no text encoding)")


def crs_word(code: str, lang: str = "zh", short: bool = False) -> str:
    """``gcj02`` -> "GCJ-02（高德、腾讯）" (``short``: "GCJ-02", for a narrow column);
    an unknown code is shown as given."""
    pair = CRS_WORDS.get(str(code).lower())
    if not pair:
        return str(code)
    word = pair[1] if lang == "en" else pair[0]
    return word.split("（")[0].split(" (")[0] if short else word


def encoding_word(code: str, lang: str = "zh") -> str:
    """``xlsx`` -> "Excel 工作簿（无需编码）", ``gb18030`` -> "GB18030"."""
    if str(code).lower() == "xlsx":
        return ENCODING_XLSX[1] if lang == "en" else ENCODING_XLSX[0]
    return str(code).upper()


STATUS_WORDS: dict[str, tuple[str, str]] = {
    "existing": ("现有", "Existing"),
    "planned": ("规划", "Planned"),
    "under_construction": ("在建", "Under construction"),
    "closed": ("停用", "Closed"),
}

REPORT_TEXT: dict[str, tuple[str, str]] = {
    "title": ("服务网络覆盖分析报告", "Service network coverage report"),
    "generated": ("生成时间", "Generated"),
    "tool": ("生成工具", "Produced by"),
    "contents": ("目录", "Contents"),
    "s_summary": ("一、结论摘要", "1. Summary"),
    "s_data": ("二、数据来源", "2. Data and provenance"),
    "s_standards": ("三、服务标准与覆盖率", "3. Standards and coverage"),
    "s_areas": ("四、分县区、分乡镇覆盖", "4. Coverage by county and township"),
    "s_map": ("五、网络地图", "5. Network map"),
    "s_gaps": ("六、服务缺口", "6. Service gaps"),
    "s_suggest": ("七、方案中的规划站点与选址建议", "7. Planned sites of the plan and suggestions"),
    "plan_line": ("本报告描述的方案：{name}", "Plan described: {name}"),
    "plan_base": ("现状（未加方案修改）", "the base (no scenario changes)"),
    "plan_scenario": ("方案“{name}”", "scenario “{name}”"),
    "planned_head": (
        "本方案包含 {n} 个规划站点（状态为“规划”，其中 {accepted} 个来自采纳的选址建议）：",
        "The plan holds {n} planned sites (status “planned”; {accepted} of them accepted "
        "suggestions):",
    ),
    "planned_none": ("本方案没有规划站点。", "The plan holds no planned sites."),
    "fresh_title": (
        "另行求解的选址建议（新求解，未纳入本方案）",
        "Suggestions solved afresh for this report (not part of the plan)",
    ),
    "from_suggestion": ("采纳的建议", "accepted suggestion"),
    "edited_after": ("（导入后在应用中修改过）", " (edited in the app after import)"),
    "added_file": ("（追加导入）", " (rows added)"),
    "added_in_scenario": ("，方案“{name}”", ", scenario “{name}”"),
    "project_layer": ("项目图层 {layer}（{file}）", "project layer {layer} ({file})"),
    "session_table": (
        "本次会话中的表（未保存为文件）",
        "the session's table (not saved as a file)",
    ),
    "project_file": ("项目文件", "Project file"),
    "project_version": ("{file}（第 {version} 版）", "{file} (version {version})"),
    "standards_default": (
        "servicenet 内置默认标准（见方法说明）",
        "servicenet's built-in default standards (see the method notes)",
    ),
    "added_by_hand": ("手工添加", "added by hand"),
    "origin": ("来源", "Origin"),
    "plan": ("方案", "Plan"),
    "planned_sites": ("其中规划站点", "of them planned"),
    "s_method": ("八、方法说明", "8. Method notes"),
    "s_compare": ("附：方案对比", "Annex: scenario comparison"),
    "compare_head": (
        "方案“{name}”与现状对比（双方均按建成后计，即计入规划与在建站点）：消除缺口 {closed} 处，新出现缺口 {opened} 处。",
        "Scenario “{name}” against the base, both as built (planned and under-construction sites counted): {closed} gaps closed, {opened} gaps opened.",
    ),
    "compare_before": ("现状覆盖率", "Covered (base)"),
    "compare_after": ("方案覆盖率", "Covered (scenario)"),
    "compare_change": ("变化（百分点）", "Change (points)"),
    "compare_added": ("方案新增站点", "Sites added"),
    "compare_removed": ("方案减少站点", "Sites removed"),
    "proxy_warning": (
        "本报告未使用真实路网：出行时间按示意路网估算（需求点与站点之间的直线距离×1.4 绕行系数，"
        "驾车 40 km/h、步行 5 km/h），仅供粗略研究，不能代替基于真实道路的分析。",
        "This report does not use real roads: travel times come from a proxy network "
        "(straight lines between demand points and sites x 1.4 detour, 40 km/h driving, "
        "5 km/h walking). It serves rough studies only and does not replace an analysis on "
        "real roads.",
    ),
    "summary_line": (
        "共 {sites} 个站点（其中规划 {planned} 个）、{points} 个需求点（合计 {weight} 人），按 {n_std} 项服务标准分析；"
        "{met} 项达到目标，{not_met} 项未达到；共识别 {gaps} 处服务缺口。",
        "{sites} sites ({planned} of them planned) and {points} demand points ({weight} people) "
        "analysed under {n_std} "
        "standards: {met} meet their target, {not_met} do not; {gaps} service gaps found.",
    ),
    "summary_worst": (
        "覆盖率最低的标准：{name}，覆盖 {share}（目标 {target}）。",
        "Lowest coverage: {name}, {share} covered (target {target}).",
    ),
    "file": ("文件", "File"),
    "demand": ("需求点", "Demand"),
    "layer_area": ("服务范围", "Service area"),
    "layer_gaps": ("服务缺口", "Service gaps"),
    "layer_suggested": ("建议新增站点", "Suggested sites"),
    "legend_kind": ("类型", "Kind"),
    "legend_layers": ("图层", "Layers"),
    "demand_legend": ("需求点（大小示人数）", "Demand point (size: people)"),
    "numbered_legend": ("建议站点（数字为建设顺序）", "Suggested site (number: build order)"),
    "area_legend": ("服务范围：标准时间内可达", "Service area: reached within the standard"),
    "gap_legend": ("缺口：未覆盖需求的聚集区", "Gap: a cluster of uncovered demand"),
    "rows": ("行数（读取/导入/拒绝）", "Rows (read/imported/rejected)"),
    "sha256": ("SHA-256", "SHA-256"),
    "encoding": ("编码", "Encoding"),
    "crs": ("坐标系", "Coordinates"),
    "roads": ("路网", "Roads"),
    "roads_proxy": ("示意路网（非真实道路）", "proxy network (not real roads)"),
    "network_facts": (
        "{mode}：{nodes} 个节点、{segments} 段、总长 {km} km；剔除孤立路段 {dropped} 段（{dropped_km} km）",
        "{mode}: {nodes} nodes, {segments} segments, {km} km; {dropped} segments in isolated pieces dropped ({dropped_km} km)",
    ),
    "standards_file": ("服务标准", "Standards"),
    "after_completion": (
        "计入规划与在建站点（建成后）",
        "Planned and under-construction sites counted (after completion)",
    ),
    "operating_only": ("仅计入现有站点", "Existing sites only"),
    "kind": ("类型", "Kind"),
    "level": ("级别", "Level"),
    "mode": ("方式", "Mode"),
    "minutes": ("标准（分钟）", "Standard (min)"),
    "target": ("目标", "Target"),
    "covered": ("覆盖率", "Covered"),
    "covered_weight": ("覆盖人数", "People covered"),
    "total_weight": ("总人数", "People"),
    "met": ("达标", "Met"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "none": ("—", "—"),
    "sites_counted": ("计入站点", "Sites counted"),
    "county": ("县区", "County"),
    "township": ("乡镇街道", "Township"),
    "gini": ("乡镇间基尼系数", "Gini across townships"),
    "gap": ("缺口", "Gap"),
    "rank": ("排名", "Rank"),
    "uncovered": ("未覆盖人数", "People not covered"),
    "share_of_demand": ("占需求人数比例", "Share of all demand"),
    "points": ("需求点", "Points"),
    "townships": ("涉及乡镇", "Townships"),
    "nearest_site": ("最近同级站点", "Nearest site"),
    "nearest_minutes": ("时间（分钟）", "Minutes"),
    "standard": ("标准", "Standard"),
    "gaps_none": ("没有服务缺口。", "No service gaps."),
    "gaps_more": (
        "（仅列出每项标准未覆盖人数最多的 {n} 处；完整清单见 XLSX 工作簿。）",
        "(The {n} largest gaps per standard; the XLSX workbook lists all.)",
    ),
    "suggest_none": ("本报告未包含选址建议。", "This report includes no site suggestions."),
    "suggest_head": (
        "在保留全部现有站点的前提下，新增 {n} 个{name}：覆盖率由 {before} 提高到 {after}。"
        "求解方法 {method}，状态：{status}，最优性差距 {gap}。",
        "Keeping every existing site, {n} new {name}: coverage rises from {before} to {after}. "
        "Method {method}, status: {status}, optimality gap {gap}.",
    ),
    "order": ("顺序", "Order"),
    "candidate": ("建议位置", "Location"),
    "newly": ("新增覆盖人数", "Newly covered"),
    "newly_share": ("新增覆盖比例", "Share"),
    "gaps_closed": ("消除缺口", "Gaps closed"),
    "farthest": ("最远覆盖（分钟）", "Farthest (min)"),
    "nearest_existing": ("最近现有站点", "Nearest existing"),
    "curve": (
        "覆盖率—新增站点数曲线（每个 p 为最优解）",
        "Coverage against number of new sites (optimum for each p)",
    ),
    "map_caption": (
        "图：站点按级别着色；浅色区域为所选标准的服务范围，红色轮廓为服务缺口。",
        "Figure: sites coloured by level; shaded areas are service areas, red outlines are gaps.",
    ),
    "map_interactive": (
        "交互地图（可缩放，离线可用）",
        "Interactive map (zoomable, works offline)",
    ),
    "method_text": (
        "出行时间：需求点沿路网到站点的时间。点位吸附到最近路段上的最近点（最远 {snap} m，步行 {walk} km/h 接入），"
        "以全部站点为源、沿反向路网做一次带截断的多源 Dijkstra。覆盖：最近的合格站点（同类型、同级别，"
        "默认不以上级代替下级，参照 GB 50180-2018 分级配置原则）在标准时间内。缺口：未覆盖需求点按距离聚类。"
        "可达性：容量加权的 E2SFCA（分段权重 1.00/0.68/0.22），按每千人计；基尼系数按乡镇人口加权。"
        "选址：保留现有站点，以 HiGHS 精确求解混合整数规划并报告最优性差距；建设顺序为在最优方案上的贪心排序。",
        "Travel time: from the demand point to the site over the network. Points snap to the "
        "nearest point of the nearest segment (at most {snap} m, walking access at {walk} km/h); one "
        "multi-source Dijkstra with a cutoff runs from all sites over the reversed network. Covered: "
        "the nearest qualifying site (same kind and level; higher levels do not stand in by "
        "default, after the tiered rule of GB 50180-2018) is within the standard. Gaps: uncovered "
        "demand clustered by distance. Accessibility: capacity-aware E2SFCA (step weights "
        "1.00/0.68/0.22) per 1,000 people; Gini weighted by township population. Suggestions: "
        "existing sites kept open, mixed-integer programmes solved exactly with HiGHS with the "
        "optimality gap reported; the build order is greedy on the optimal set.",
    ),
    "defaults_note": (
        "服务标准为本工具的规划默认值或用户设定，并非法规。",
        "The standards are this tool's planning defaults or the user's, not law.",
    ),
    "page": ("第 {page} 页", "Page {page}"),
    "drive": ("驾车", "drive"),
    "walk": ("步行", "walk"),
    "status_optimal": ("已证明最优", "proven optimal"),
    "status_feasible": ("可行解", "feasible"),
    "status_heuristic": ("启发式解", "heuristic"),
    "status_infeasible": ("无可行解", "infeasible"),
    "sheet_summary": ("概要", "Summary"),
    "sheet_standards": ("服务标准", "Standards"),
    "sheet_county": ("分县区", "By county"),
    "sheet_township": ("分乡镇", "By township"),
    "sheet_sites": ("站点", "Sites"),
    "sheet_gaps": ("缺口", "Gaps"),
    "sheet_suggestions": ("建议", "Suggestions"),
    "sheet_compare": ("方案对比", "Comparison"),
    "scenario": ("方案", "Scenario"),
    "min": ("分钟", "min"),
    "item": ("项目", "Item"),
    "value": ("内容", "Value"),
    "site_id": ("编号", "ID"),
    "name": ("名称", "Name"),
    "status": ("状态", "Status"),
    "capacity": ("容量", "Capacity"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    **{f"kind_{k}": v for k, v in KIND_WORDS.items()},
    **{f"level_{k}": v for k, v in LEVEL_WORDS.items()},
    **{f"st_{k}": v for k, v in STATUS_WORDS.items()},
}


def t(key: str, lang: str = "zh", **kwargs: object) -> str:
    """The report word ``key`` in ``lang``; unknown vocabulary keys fall back to the code."""
    pair = REPORT_TEXT.get(key)
    if pair is None:
        return key.split("_", 1)[-1] if "_" in key else key
    chosen = pair[1] if lang == "en" else pair[0]
    return chosen.format(**kwargs) if kwargs else chosen
