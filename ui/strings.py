"""Every word the app shows, in Simplified Chinese and English: the one string table.

The words for site kinds, levels and statuses come from ``planning.report.text``,
so the app and the reports name them alike.
"""

from __future__ import annotations

from planning.report.text import (
    CRS_WORDS,
    ENCODING_XLSX,
    GRADE_WORDS,
    KIND_WORDS,
    LEVEL_WORDS,
    MODE_WORDS,
    STATUS_WORDS,
)

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("三明市职工服务阵地规划", "Sanming worker service network planner"),
    "language": ("语言 / Language", "语言 / Language"),
    "lang_zh": ("中文", "中文"),
    "lang_en": ("English", "English"),
    "page_map": ("网络地图", "Network map"),
    "page_import": ("导入数据", "Import data"),
    "dataset": ("当前数据", "Current data"),
    "dataset_demo": ("三明示例（示意位置）", "Sanming demo (illustrative positions)"),
    "dataset_user": ("用户导入的数据", "Data imported by the user"),
    "demo_note": (
        "示例数据：站点数量来自三明市总工会资料，乡镇代码为 2021 年统计区划代码；"
        "站点位置与人数权重为示意，并非实际地址。乡镇位置部分来自 GeoNames（CC BY 4.0）。",
        "Demo data: site counts from the Sanming union's documents, township codes from the "
        "2021 statistical division codes; site positions and demand weights are illustrative, "
        "not real addresses. Township positions partly from GeoNames (CC BY 4.0).",
    ),
    "basemap": ("底图", "Basemap"),
    "basemap_blank": ("空白底图（离线）", "Blank (offline)"),
    "basemap_osm": ("OpenStreetMap", "OpenStreetMap"),
    "basemap_tianditu": ("天地图", "Tianditu"),
    "basemap_amap": ("高德地图（点位转换为 GCJ-02 显示）", "Amap (points shown in GCJ-02)"),
    "tianditu_missing": (
        "未设置天地图密钥（环境变量 TIANDITU_KEY 或 secrets），已改用空白底图。",
        "No Tianditu key (TIANDITU_KEY environment variable or secrets); using the blank map.",
    ),
    "online_note": (
        "在线底图需要联网；离线时请选空白底图，站点照常显示。",
        "Online basemaps need internet; offline, choose the blank map — sites still show.",
    ),
    "show_demand": ("显示需求点", "Show demand points"),
    "metric_sites": ("站点", "Sites"),
    "metric_demand_points": ("需求点", "Demand points"),
    "metric_demand_weight": ("服务人数", "People served"),
    "metric_counties": ("县区", "Counties"),
    "table_by_level": ("各级站点数量", "Sites by kind and level"),
    "table_by_county": ("各县区站点数量", "Sites by county"),
    "col_kind": ("类型", "Kind"),
    "col_level": ("级别", "Level"),
    "col_count": ("数量", "Count"),
    "col_county": ("县区", "County"),
    "col_township": ("乡镇街道", "Township"),
    "col_total": ("合计", "Total"),
    "legend_title": ("级别", "Level"),
    "legend_status": ("状态", "Status"),
    "legend_kind": ("类型", "Kind"),
    "legend_layers": ("图层", "Layers"),
    "demand_legend": ("需求点（大小示人数）", "Demand point (size: people)"),
    "numbered_legend": ("建议站点（数字为建设顺序）", "Suggested site (number: build order)"),
    "service_area_legend": (
        "服务范围：标准时间内可达（颜色同级别）",
        "Service area: reached within the standard (colour of its level)",
    ),
    "gap_legend": ("缺口：未覆盖需求的聚集区", "Gap: a cluster of uncovered demand"),
    "proxy_legend": ("示意路网（非真实道路）", "Proxy network (not real roads)"),
    "demand_layer": ("需求点（按人数）", "Demand (by weight)"),
    "no_sites": (
        "当前没有站点。请到“导入数据”页导入。",
        "No sites yet. Import them on the Import page.",
    ),
    # import page
    "import_intro": (
        "上传站点或需求表（CSV/XLSX）。支持 GBK/GB18030 与 UTF-8、中英文表头、"
        "WGS-84 / GCJ-02（高德、腾讯）/ BD-09（百度）坐标。每一行要么导入，要么说明原因。",
        "Upload a site or demand table (CSV/XLSX). GBK/GB18030 and UTF-8, Chinese or English "
        "headers, WGS-84 / GCJ-02 (Amap, Tencent) / BD-09 (Baidu) coordinates. Every row is "
        "either imported or explained.",
    ),
    "upload": ("选择文件（CSV、TSV、TXT、XLSX）", "Choose a file (CSV, TSV, TXT, XLSX)"),
    # Streamlit's file uploader has no language option: its three fixed words are
    # covered by these (ui.state.uploader_words_css)
    "uploader_button": ("上传", "Upload"),
    "uploader_limit": ("每个文件不超过 {mb} MB", "Up to {mb} MB per file"),
    "uploader_drop": ("松开鼠标，上传这个文件", "Drop the file here"),
    "table_kind": ("表的类型", "Table"),
    "table_sites": ("站点表", "Sites"),
    "table_demand": ("需求表（人数）", "Demand (people)"),
    "encoding": ("文字编码", "Text encoding"),
    "encoding_auto": ("自动识别", "Detect"),
    "crs": ("坐标系", "Coordinate system"),
    "crs_auto": (
        "自动判断（默认 WGS-84）",
        "Auto (else WGS-84)",
    ),
    "crs_auto_help": (
        "自动：按表头（如“经度(GCJ-02)”）、表头上方的说明或文件名（如 sites_gcj02.csv）判断，都没有注明时按 WGS-84。",
        "Auto: from the header (e.g. 经度(GCJ-02)), a note above it or the file name "
        "(e.g. sites_gcj02.csv); WGS-84 when none says.",
    ),
    **{f"crs_{k}": v for k, v in CRS_WORDS.items()},
    "try_sample": ("用示例文件试一试", "Try a sample file"),
    "sample_loaded": ("已载入示例文件：{name}", "Sample file loaded: {name}"),
    "rows_read": ("读取行数", "Rows read"),
    "rows_imported": ("导入", "Imported"),
    "rows_rejected": ("拒绝", "Rejected"),
    "lscp_to_target": (
        "只需达到该标准的目标覆盖率（{share}），不必覆盖全部可达需求",
        "Only reach the standard's target share ({share}), not every reachable point",
    ),
    "no_candidate_source": (
        "请至少选择一种候选点来源，或上传候选点文件；“缺口内的路网节点”只在有真实路网时才有候选点。",
        "Choose at least one candidate source or upload candidates; road nodes inside gaps "
        "exist only with a real road file.",
    ),
    "suggest_network_changed": (
        "站点或需求点在求解后已更改，以上结果基于更改前的数据；请重新求解。",
        "Sites or demand changed after this was solved; the result shown is of the data before. "
        "Solve again.",
    ),
    "suggest_settings_changed": (
        "设置已更改：下面仍是按先前设置求得的结果，点击“求解”按当前设置重新计算。",
        "Settings changed: the result below is for the earlier settings; press Solve to "
        "solve with the current ones.",
    ),
    "sheet_used": ("读取的工作表：{sheet}", "Worksheet read: {sheet}"),
    "extra_columns": (
        "未识别的列，已原样保留为附加列：{cols}。如果其中有坐标、类型、级别或状态，请改用常见的列名。",
        "Columns not recognised, kept as extra columns: {cols}. If one of them holds "
        "coordinates, kind, level or status, rename it to a common header.",
    ),
    "encoding_xlsx": ENCODING_XLSX,
    "encoding_used": (
        "编码：{encoding}；坐标系：{crs}",
        "Encoding: {encoding}; coordinates: {crs}",
    ),
    "issues": ("问题清单（行号为文件中的行）", "Issues (row = line in the file)"),
    "no_issues": ("没有发现问题。", "No issues found."),
    "col_row": ("行", "Row"),
    "col_column": ("列", "Column"),
    "col_code": ("代码", "Code"),
    "col_message": ("说明", "Message"),
    "col_severity": ("级别", "Severity"),
    "severity_error": ("拒绝", "rejected"),
    "severity_warning": ("提示", "warning"),
    "preview": ("导入预览（WGS-84）", "Preview (WGS-84)"),
    "add_sites": ("添加到当前站点", "Add to current sites"),
    "replace_sites": ("替换当前站点", "Replace current sites"),
    "replace_demand": ("替换当前需求点", "Replace current demand"),
    "confirm_replace": (
        "我确认用本文件替换当前的 {n} 条记录",
        "I confirm replacing the current {n} records with this file",
    ),
    "added": ("添加 {n} 个站点", "added {n} sites"),
    "replaced": ("替换为 {n} 条记录", "replaced with {n} records"),
    "id_clash": (
        "以下编号已存在，未添加任何站点：{ids}。请修改编号或选择替换。",
        "These ids already exist, nothing was added: {ids}. Change the ids or replace instead.",
    ),
    "download_clean": (
        "下载清洗后的表（CSV，Excel 可直接打开）",
        "Download the cleaned table (CSV for Excel)",
    ),
    "download_report": ("下载导入报告（JSON）", "Download the import report (JSON)"),
    "import_failed": ("无法导入：{message}", "Cannot import: {message}"),
    "nothing_imported": ("没有可导入的行。", "No row could be imported."),
    # coverage page
    "page_coverage": ("覆盖分析", "Coverage"),
    "coverage_intro": (
        "按各级服务标准计算沿路网的出行时间：哪些人口在标准时间之外，缺口在哪里。",
        "Travel time over the road network under each level's standard: who is beyond it, "
        "and where the gaps are.",
    ),
    "proxy_warning": (
        "未提供路网文件：出行时间按示意路网（直线距离×1.4 绕行系数，驾车 40 km/h、步行 5 km/h）"
        "估算，仅供粗略研究，并非真实道路。",
        "No road file: travel times use the proxy network (straight lines × 1.4 detour, "
        "40 km/h driving, 5 km/h walking) — for rough studies only, not real roads.",
    ),
    "proxy_banner": ("示意路网：非真实道路", "Proxy network: not real roads"),
    "road_source": (
        "路网：{source}（{nodes:,} 个节点，{segments:,} 段）",
        "Roads: {source} ({nodes:,} nodes, {segments:,} segments)",
    ),
    "roads_upload": (
        "路网文件（可选：OSM .osm.pbf/.osm/.osm.bz2、GraphML、GeoJSON/GeoPackage）",
        "Road file (optional: OSM .osm.pbf/.osm/.osm.bz2, GraphML, GeoJSON/GeoPackage)",
    ),
    "roads_in_use": ("正在使用路网：{name}", "Using roads: {name}"),
    "roads_clear": ("改用示意路网", "Use the proxy network"),
    "roads_failed": ("路网文件无法使用：{message}", "The road file cannot be used: {message}"),
    "show_service_areas": (
        "在地图上画出服务范围（大路网上较慢）",
        "Draw service areas on the map (slow on large road networks)",
    ),
    "after_completion": (
        "计入规划和在建站点（建成后）",
        "Count planned and under-construction sites (after completion)",
    ),
    "standards_table": ("各级标准与覆盖率", "Standards and coverage"),
    "col_mode": ("方式", "Mode"),
    "col_minutes": ("标准（分钟）", "Standard (min)"),
    "col_target": ("目标", "Target"),
    "col_target_percent": ("目标覆盖率（%）", "Target share (%)"),
    "col_covered_percent": ("覆盖率（%）", "Covered (%)"),
    "col_standard": ("服务标准", "Standard"),
    "col_time_rule": ("时间标准", "Time limit"),
    "time_rule": ("{mode} ≤ {minutes:g} 分钟", "{mode} ≤ {minutes:g} min"),
    "standards_more": (
        "更多指标：未计入的站点、乡镇间基尼系数",
        "More: sites not counted, Gini across townships",
    ),
    "col_higher_levels": ("上级站点也计入", "Higher levels count"),
    "col_covered": ("覆盖率", "Covered"),
    "col_met": ("是否达标", "Met"),
    "col_sites": ("计入站点", "Sites counted"),
    "col_ignored": ("未计入（状态）", "Not counted (status)"),
    "col_gini": ("乡镇间基尼系数", "Gini across townships"),
    "met_yes": ("达标", "met"),
    "met_no": ("未达标", "not met"),
    "met_none": ("未设目标", "no target"),
    **{f"mode_{k}": v for k, v in MODE_WORDS.items()},
    "edit_standards": ("修改服务标准", "Edit the standards"),
    "apply_standards": ("应用", "Apply"),
    "standards_applied": ("应用新的服务标准", "applied new standards"),
    "standards_invalid": ("标准有误：{message}", "Invalid standards: {message}"),
    "standards_note": (
        "默认标准为本工具的规划默认值，并非法规；"
        "各级默认不互相替代（参照 GB 50180-2018 分级配置原则）。",
        "The defaults are planning defaults of this tool, not law; levels do not stand in for "
        "each other by default (the tiered rule of GB 50180-2018).",
    ),
    "choose_standard": ("查看的标准", "Standard shown"),
    "county_bars": ("各县区覆盖率", "Coverage by county"),
    "gaps_title": ("缺口（按未覆盖人数排序）", "Gaps (ranked by people not covered)"),
    "no_gaps": ("该标准下没有缺口。", "No gaps under this standard."),
    "service_area_layer": ("服务范围 · {name}", "Service area · {name}"),
    "gap_layer": ("缺口 · {name}", "Gaps · {name}"),
    "proxy_layer": ("示意路网", "Proxy network"),
    "col_rank": ("排名", "Rank"),
    "col_gap": ("缺口", "Gap"),
    "col_weight": ("未覆盖人数", "People not covered"),
    "col_share": ("占总人数", "Share of all"),
    "col_points": ("需求点数", "Points"),
    "col_townships": ("涉及乡镇", "Townships"),
    "col_nearest_site": ("最近同级站点", "Nearest site of this level"),
    "col_nearest_minutes": ("最近站点时间（分钟）", "Minutes to it"),
    "col_rule": ("标准", "Rule"),
    "download_gaps": ("下载缺口表（CSV）", "Download gaps (CSV)"),
    "download_coverage": ("下载逐点覆盖表（CSV）", "Download per-point coverage (CSV)"),
    "computing": ("正在计算覆盖……", "Computing coverage…"),
    # suggestion page
    "page_suggest": ("选址建议", "Suggestions"),
    "suggest_intro": (
        "保留现有站点，为所选类型和级别新增若干站点：精确求解（HiGHS），给出最优性差距与每个建议的理由。",
        "Keep the existing sites and add a few of the chosen kind and level: solved exactly "
        "(HiGHS) with the optimality gap, and a reason for every suggestion.",
    ),
    "suggest_standard": ("规划的类型与级别", "Kind and level to plan"),
    "suggest_model": ("模型", "Model"),
    "model_mclp": (
        "最大覆盖（MCLP）：给定数量，覆盖最多人口",
        "MCLP: most people covered with p sites",
    ),
    "model_lscp": (
        "集合覆盖（LSCP）：覆盖全部可达人口的最少站点",
        "LSCP: fewest sites to cover all reachable",
    ),
    "model_pmedian": ("p-中位：总出行时间最少", "p-median: least total travel time"),
    "model_cmclp": ("容量约束最大覆盖", "Capacitated MCLP"),
    "suggest_by": ("数量或预算", "Count or budget"),
    "by_count": ("新增站点数", "Number of new sites"),
    "by_budget": ("预算（候选点成本之和上限）", "Budget (total candidate cost)"),
    "candidate_sources": ("候选点来源", "Candidate sources"),
    "cand_township_seat": ("无该级站点的乡镇驻地", "Township seats without such a site"),
    "cand_gap_node": ("缺口内的路网节点（需真实路网）", "Road nodes inside gaps (real roads only)"),
    "cand_grid": ("规则网格", "Regular grid"),
    "cand_upload": (
        "上传候选点（CSV/XLSX，列：编号、名称、经度、纬度，可选 成本、容量）",
        "Upload candidates (CSV: candidate_id, name, lon, lat[, cost, capacity])",
    ),
    "time_limit": ("求解时限（秒）", "Solver time limit (s)"),
    "run_suggest": ("求解", "Solve"),
    "solving": ("正在求解……", "Solving…"),
    "no_candidates": (
        "没有候选点：请选择候选点来源。",
        "No candidates: choose a candidate source.",
    ),
    "status_optimal": ("最优", "optimal"),
    "status_feasible": ("可行", "feasible"),
    "status_heuristic": ("启发式", "heuristic"),
    "status_infeasible": ("无解", "infeasible"),
    "status_help": (
        "最优：HiGHS 已证明最优（差距 ≤ 0.01%）；可行：时限内找到的解，差距为与最优界的距离；"
        "启发式：贪心加交换，未证明最优。",
        "Optimal: proven by HiGHS (gap <= 0.01%); feasible: found within the time limit, the "
        "gap is its distance to the proven bound; heuristic: greedy plus swaps, not proven.",
    ),
    "metric_status": ("求解状态", "Status"),
    "metric_gap": ("最优性差距", "Optimality gap"),
    "metric_before": ("现状覆盖率", "Covered now"),
    "metric_after": ("建成后覆盖率", "Covered after"),
    "metric_new_sites": ("新增站点", "New sites"),
    "suggested_layer": (
        "建议新增站点（按建设顺序编号）",
        "Suggested sites (numbered by build order)",
    ),
    "curve_title": ("覆盖率—站点数量曲线", "Coverage against number of new sites"),
    "curve_p": ("新增站点数", "New sites"),
    "curve_share": ("覆盖率", "Covered share"),
    "curve_served": ("容量内服务比例", "Served within capacities"),
    "curve_value": ("比例", "Share"),
    "curve_measure": ("指标", "Measure"),
    "metric_served_before": ("现状容量内服务", "Served now (capacity)"),
    "metric_served_after": ("建成后容量内服务", "Served after (capacity)"),
    "cmclp_terms": (
        "覆盖率按标准时间内可达计（与覆盖分析页相同），建成后为 {covered}。容量约束模型"
        "的目标不同：在各站点容量之内实际服务的人数，建成后为 {people} 人（{served}）。"
        "两者之差是可达但超出站点容量、未能服务的需求；要服务更多，需增加容量或站点。",
        "Coverage counts demand reached within the standard (as on the coverage page): "
        "{covered} after building. The capacitated model's objective differs: the people "
        "served within each site's capacity, {people} ({served}) after building. The "
        "difference is demand that is reached but beyond the sites' capacities; serving it "
        "needs more capacity or more sites.",
    ),
    "col_served_weight": ("容量内服务人数", "Served (capacity)"),
    "explain_title": ("建议说明", "Why these sites"),
    "col_order": ("建设顺序", "Order"),
    "col_candidate": ("候选点", "Candidate"),
    "col_source": ("来源", "Source"),
    "col_new_weight": ("新增覆盖人数", "Newly covered"),
    "col_new_share": ("新增覆盖比例", "Newly covered share"),
    "col_gaps_closed": ("消除的缺口", "Gaps closed"),
    "col_farthest": ("最远覆盖点时间（分钟）", "Farthest covered (min)"),
    "col_nearest_existing": ("最近现有同级站点", "Nearest existing site"),
    "col_nearest_existing_min": ("到该站点时间（分钟）", "Minutes to it"),
    "accept": ("采纳为规划站点", "Accept as planned sites"),
    "accepted_what": ("采纳 {n} 个规划站点", "accepted {n} planned sites"),
    "accepted_mark": ("已采纳", "accepted"),
    "accepted_before": (
        "已采纳的建议在表中标为“已采纳”；以上结果按采纳前的网络求解。再次点击“求解”将在已采纳站点的基础上继续建议。",
        "Accepted suggestions are marked “accepted”; the result above was solved on the network "
        "before they were accepted. Solve again to suggest more on top of them.",
    ),
    "accept_pick": ("采纳哪些建议", "Which suggestions to accept"),
    "accept_clash": (
        "这些编号已存在，未添加：{ids}",
        "These ids exist already, nothing added: {ids}",
    ),
    "reductions": ("模型约简", "Model reductions"),
    "red_item": ("约简", "Reduction"),
    "red_value": ("数量", "Count"),
    "red_demand_covered_by_existing": (
        "已被现有站点覆盖的需求点（不进入模型）",
        "demand points covered by existing sites already (left out of the model)",
    ),
    "red_demand_not_coverable": (
        "任何候选点都覆盖不到的需求点",
        "demand points no candidate can cover",
    ),
    "red_demand_rows_after_merge": (
        "合并可由同一组候选点覆盖的需求点后的行数",
        "demand rows after merging points covered by the same candidates",
    ),
    "red_candidates_dominated": (
        "被其他候选点完全包含而剔除的候选点",
        "candidates dropped as dominated by another",
    ),
    "red_candidates_kept": ("保留的候选点", "candidates kept"),
    "red_candidates_dominance_skipped": (
        "候选点过多，未做包含关系剔除（1 = 是）",
        "dominance check skipped for many candidates (1 = yes)",
    ),
    "red_target_share": ("目标覆盖率", "target share"),
    "red_pairs_in_matrix": ("候选点—需求点配对数", "candidate–demand pairs"),
    "red_pairs_faster_than_existing": (
        "比现有站点更近的配对数",
        "pairs nearer than any existing site",
    ),
    "red_demand_beyond_cutoff_of_existing": (
        "离现有站点超过上限时间的需求点",
        "demand points beyond the limit from existing sites",
    ),
    "red_objective_before": ("求解前的目标值", "objective before solving"),
    "red_pairs": ("覆盖配对数", "covering pairs"),
    "download_suggestions": ("下载建议表（CSV）", "Download suggestions (CSV)"),
    "download_solution": ("下载求解结果（JSON）", "Download solution (JSON)"),
    # report page
    "page_report": ("报告与导出", "Reports and exports"),
    "report_intro": (
        "生成可打印、可归档的覆盖分析报告：HTML（单文件、离线可用）、PDF（A4）与 XLSX 工作簿。",
        "Coverage reports to print and file: HTML (one file, works offline), PDF (A4) and an XLSX workbook.",
    ),
    "report_title": ("报告标题", "Report title"),
    "report_title_default": (
        "三明市职工服务阵地覆盖分析报告",
        "Sanming worker service network coverage report",
    ),
    "report_lang": ("报告语言", "Report language"),
    "report_plan": ("报告描述的方案", "Plan the report describes"),
    "report_plan_scenario": (
        "方案“{name}”（与现状对比）",
        "scenario “{name}” (compared with the base)",
    ),
    "report_plan_session": (
        "报告描述当前页面上的数据（未打开项目）。",
        "The report describes the data on screen (no project open).",
    ),
    "report_fresh": (
        "另外求解新的选址建议（按“选址建议”页的设置；报告中注明不属于方案）",
        "Also solve fresh suggestions (settings of the Suggestions page; marked as not part "
        "of the plan)",
    ),
    "report_standards_project": ("项目文件 {file} 中的服务标准", "the standards kept in {file}"),
    "report_standards_session": ("本次会话中编辑的服务标准", "standards edited in this session"),
    "report_build": ("生成 {fmt}", "Build {fmt}"),
    "report_download": ("下载 {fmt}", "Download {fmt}"),
    "report_building": ("正在生成报告……", "Building the report…"),
    "report_failed": ("无法生成：{message}", "Could not build: {message}"),
    # project page
    "page_project": ("项目与方案", "Projects and scenarios"),
    "project_intro": (
        "把工作保存为项目文件（GeoPackage，可在 QGIS 中打开）；在地图上点击放置规划站点，"
        "每次修改自动保存；方案之间可以对比。",
        "Keep the work in a project file (GeoPackage, opens in QGIS); click the map to place "
        "planned sites, every change is saved; compare scenarios.",
    ),
    "project_demo_readonly": (
        "当前为三明示例（只读）。请先“另存为”一个项目文件，再编辑。",
        "This is the Sanming demo (read-only). Save it as a project file before editing.",
    ),
    "project_open": ("打开项目", "Open a project"),
    "project_save_as": ("另存为项目", "Save as a project"),
    "project_opened": (
        "已打开项目：{name}（第 {version} 版）",
        "Project open: {name} (version {version})",
    ),
    "project_saved": ("已保存（第 {version} 版）", "Saved (version {version})"),
    "kept_unsaved": (
        "已{what}——仅保存在本次浏览器会话中，尚未写入项目文件；关闭页面即丢失。请在“项目与方案”页“另存为项目”。",
        "Done: {what} — kept in this browser session only, not in a project file; it is lost "
        "when the page is closed. Use “Save as a project” on the Projects page.",
    ),
    "kept_scenario": (
        "已{what}，并保存到方案“{name}”（第 {version} 版）。",
        "Done: {what}; saved in scenario “{name}” (version {version}).",
    ),
    "kept_base": (
        "已{what}，并保存到项目现状（第 {version} 版）。",
        "Done: {what}; saved in the project's base (version {version}).",
    ),
    "unsaved_banner": (
        "有 {n} 项更改尚未保存（只在本次会话中）：{items}",
        "{n} changes are not saved (this session only): {items}",
    ),
    "unsaved_go": ("去保存", "Save them"),
    "project_stale": (
        "保存被拒绝：{message}（点击下方“重新载入”）",
        "Save refused: {message} (press Reload below)",
    ),
    "project_reload": ("重新载入", "Reload"),
    "project_error": ("项目文件错误：{message}", "Project file error: {message}"),
    "project_name": ("项目名称", "Project name"),
    "project_folder": (
        "项目只保存在服务器的项目文件夹中（由 SERVICENET_PROJECTS 设置）；请填写名称，不要填写路径。",
        "Projects are kept in the server's projects folder only (set by SERVICENET_PROJECTS); "
        "enter a name, not a path.",
    ),
    "unexpected_error": (
        "出现了意外错误，操作没有完成。错误详情已记录在服务器日志中，请告知管理员。",
        "An unexpected error stopped this action. The details are in the server log; "
        "please tell the administrator.",
    ),
    "scenario": ("方案", "Scenario"),
    "scenario_new": ("新方案名称", "New scenario name"),
    "scenario_create": ("新建方案", "Create scenario"),
    "scenario_base": ("现状（不修改）", "Base (no changes)"),
    "edit_hint": (
        "在地图上单击选择位置，然后填写下方表单添加规划站点；或选择已有站点进行移动、停用或修改。",
        "Click the map to choose a position, then add a planned site with the form below; or "
        "pick an existing site to move, close or edit.",
    ),
    "clicked_at": ("已选位置：{lon:.5f}, {lat:.5f}", "Position chosen: {lon:.5f}, {lat:.5f}"),
    "no_click": ("尚未在地图上选择位置。", "No position chosen on the map yet."),
    "new_site_name": ("站点名称", "Site name"),
    "add_planned": ("添加规划站点", "Add planned site"),
    "site_to_edit": ("要修改的站点", "Site to edit"),
    "move_here": ("移到所选位置", "Move to the chosen position"),
    "close_site": ("停用", "Close"),
    "set_capacity": ("设置容量", "Set capacity"),
    "undo": ("撤销", "Undo"),
    "redo": ("重做", "Redo"),
    "changes_title": ("本方案的修改", "Changes in this scenario"),
    "no_changes": ("本方案还没有修改。", "No changes in this scenario yet."),
    "compare_title": ("方案对比", "Compare"),
    "compare_note": (
        "对比时双方均按建成后计算（计入规划与在建站点）。",
        "Both plans are compared as built (planned and under-construction sites counted).",
    ),
    "compare_with": ("与现状对比的方案", "Scenario to compare with the base"),
    "compare_sites_added": ("新增站点", "Sites added"),
    "compare_sites_removed": ("减少站点", "Sites removed"),
    "compare_gaps_closed": ("消除的缺口", "Gaps closed"),
    "compare_gaps_opened": ("新出现的缺口", "Gaps opened"),
    "col_before": ("现状覆盖率", "Covered (base)"),
    "col_after": ("方案覆盖率", "Covered (scenario)"),
    "col_change": ("变化", "Change"),
    "op_add_site": ("新增站点", "add site"),
    "op_move_site": ("移动站点", "move site"),
    "op_close_site": ("停用站点", "close site"),
    "op_set_status": ("修改状态", "set status"),
    "op_set_capacity": ("修改容量", "set capacity"),
    "op_set_standard": ("修改标准", "change standard"),
    "scenario_layer_new": ("方案新增站点", "Sites added in the scenario"),
    # vocabularies
    **{f"kind_{k}": v for k, v in KIND_WORDS.items()},
    **{f"level_{k}": v for k, v in LEVEL_WORDS.items()},
    **{f"status_{k}": v for k, v in STATUS_WORDS.items()},
    **{f"grade_{k}": v for k, v in GRADE_WORDS.items()},
    "field_site_id": ("编号", "ID"),
    "field_name": ("名称", "Name"),
    "field_kind": ("类型", "Kind"),
    "field_level": ("级别", "Level"),
    "field_grade": ("书屋等级", "Grade"),
    "field_status": ("状态", "Status"),
    "field_county": ("县区", "County"),
    "field_township": ("乡镇街道", "Township"),
    "field_capacity": ("容量", "Capacity"),
    "guide_title": ("使用指南：五步完成一次规划", "Guide: a plan in five steps"),
    "guide_line": (
        "第一次使用：导入数据 → 覆盖分析 → 选址建议 → 项目与方案（保存）→ 报告与导出（左侧菜单依次进入）。",
        "First time here: Import → Coverage → Suggestions → Projects (save) → Reports, in the "
        "menu on the left.",
    ),
    "guide_1": (
        "1. **导入数据**：上传站点表和需求点表（CSV/XLSX，GBK 或 UTF-8，中文表头均可），"
        "逐行查看问题；不导入时使用三明示例数据。",
        "1. **Import**: upload the sites and demand tables (CSV/XLSX, GBK or UTF-8, Chinese "
        "headers welcome) and read every row's problems; without them the Sanming demo is used.",
    ),
    "guide_2": (
        "2. **覆盖分析**：上传路网文件（OSM PBF、GeoPackage 等）后按真实道路计算各项标准的覆盖率与缺口；"
        "没有路网时按示意路网估算，并在页面上注明。",
        "2. **Coverage**: with a road file (OSM PBF, GeoPackage …) every standard's coverage and "
        "gaps are measured on real roads; without one a proxy network is used and said so.",
    ),
    "guide_3": (
        "3. **选址建议**：选择一项标准和模型，求得新增站点及理由，采纳为规划站点。",
        "3. **Suggestions**: pick a standard and a model, get new sites with their reasons, "
        "accept them as planned sites.",
    ),
    "guide_4": (
        "4. **项目与方案**：另存为项目后，每次修改都会自动保存；可建立多个方案并与现状对比。",
        "4. **Projects**: once saved as a project every change is saved at once; build scenarios "
        "and compare them with the base.",
    ),
    "guide_5": (
        "5. **报告与导出**：为现状或某一方案生成 HTML、PDF、XLSX 报告，打印归档。",
        "5. **Reports**: HTML, PDF and XLSX reports of the base or one scenario, to print and file.",
    ),
    "field_demand_id": ("需求点编号", "Demand ID"),
    "col_candidate_id": ("候选点编号", "Candidate ID"),
    "col_counties": ("涉及县区", "Counties"),
    "col_demand_ids": ("需求点编号", "Demand points"),
    "field_lon": ("经度", "Longitude"),
    "field_lat": ("纬度", "Latitude"),
    "field_source_row": ("原表行号", "Row in file"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "area_county": ("县区", "county"),
    "area_township": ("乡镇街道", "township"),
    "col_area_type": ("范围", "Area"),
    "col_access_score": ("每千人可达性得分", "Access score per 1,000"),
    "col_change_points": ("变化（百分点）", "Change (points)"),
    "col_covered_weight": ("覆盖人数", "People covered"),
    "col_total_weight": ("总人数", "People"),
    "col_is_covered": ("是否覆盖", "Covered"),
    "col_minutes_found": ("到最近站点（分钟）", "Minutes to nearest site"),
    "col_snapped": ("已接入路网", "On the network"),
    "chg_add": (
        "新增 {name}（{kind} · {level}，{lon:.5f}, {lat:.5f}）",
        "add {name} ({kind} · {level}, {lon:.5f}, {lat:.5f})",
    ),
    "chg_move": ("移动 {site} 到 {lon:.5f}, {lat:.5f}", "move {site} to {lon:.5f}, {lat:.5f}"),
    "chg_close": ("停用 {site}", "close {site}"),
    "chg_status": ("{site} 状态改为{status}", "set the status of {site} to {status}"),
    "chg_capacity": ("{site} 容量设为 {capacity}", "set the capacity of {site} to {capacity}"),
    "chg_minutes": ("时间标准 {minutes:g} 分钟", "time limit {minutes:g} min"),
    "chg_target": ("目标覆盖率 {share:.0f}%", "target share {share:.0f}%"),
    "chg_standard": ("服务标准 {kind} · {level}：{what}", "standard {kind} · {level}: {what}"),
}

LANGUAGES = ("zh", "en")


def text(key: str, lang: str = "zh", **kwargs: object) -> str:
    """The string ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``kwargs``."""
    zh, en = STRINGS[key]
    chosen = en if lang == "en" else zh
    return chosen.format(**kwargs) if kwargs else chosen


def vocabulary_words(prefix: str, lang: str = "zh") -> dict[str, str]:
    """All words of one vocabulary (``kind``, ``level``, ...) keyed by code."""
    start = f"{prefix}_"
    return {k[len(start) :]: text(k, lang) for k in STRINGS if k.startswith(start)}
