//! Server messages in Chinese (default) and English, chosen by `Accept-Language`.
//!
//! Every message a person may read comes from [`MESSAGES`]; `{name}` placeholders are filled
//! from the error's arguments.

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the first supported language in an `Accept-Language` header; Chinese by default.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::Zh };
        let mut tags: Vec<(f32, &str)> = h
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        // Stable sort keeps the header's order among equal weights.
        tags.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, tag) in tags {
            let primary = tag
                .split(['-', '_', '.'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match primary.as_str() {
                "zh" => return Lang::Zh,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::Zh
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// (key, Chinese, English).
pub const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "bad_json",
        "请求体不是有效的 JSON：{detail}",
        "The request body is not valid JSON: {detail}",
    ),
    (
        "bad_body",
        "请求内容不符合要求：{detail}",
        "The request body does not have the expected fields: {detail}",
    ),
    (
        "bad_content_type",
        "请求须为 JSON（Content-Type: application/json）",
        "Send JSON (Content-Type: application/json)",
    ),
    (
        "body_too_large",
        "请求体超过 {limit} 的上限",
        "The request body is larger than the {limit} limit",
    ),
    (
        "not_a_feature",
        "应为一个 GeoJSON Feature：{detail}",
        "Expected one GeoJSON Feature: {detail}",
    ),
    (
        "not_a_feature_collection",
        "应为一个 GeoJSON FeatureCollection：{detail}",
        "Expected a GeoJSON FeatureCollection: {detail}",
    ),
    (
        "missing_geometry",
        "缺少几何（geometry）",
        "The feature has no geometry",
    ),
    (
        "wrong_geometry",
        "几何类型应为 {expected}，收到的是 {got}",
        "The geometry must be a {expected}, not a {got}",
    ),
    (
        "coords_out_of_range",
        "坐标超出范围（{x}, {y}）：GeoJSON 为经度在前、纬度在后，经度 -180 至 180，纬度 -90 至 90",
        "Coordinates out of range ({x}, {y}): GeoJSON puts longitude first (-180 to 180), then latitude (-90 to 90)",
    ),
    (
        "invalid_geometry",
        "几何无效：{detail}",
        "Invalid geometry: {detail}",
    ),
    (
        "outside_managed_area",
        "该位置不在管理范围内（不在任何行政区内）",
        "Outside the managed area: the point lies in no district",
    ),
    (
        "field_missing",
        "缺少字段“{field}”",
        "The field \"{field}\" is missing",
    ),
    (
        "field_not_allowed",
        "字段“{field}”的值不在允许范围内，可选：{allowed}",
        "The field \"{field}\" has a value that is not allowed; use one of: {allowed}",
    ),
    (
        "field_wrong_type",
        "字段“{field}”应为{expected}",
        "The field \"{field}\" must be {expected}",
    ),
    (
        "field_out_of_range",
        "字段“{field}”超出范围（{min} 至 {max}）",
        "The field \"{field}\" is out of range ({min} to {max})",
    ),
    (
        "field_too_long",
        "字段“{field}”过长（最多 {max} 个字符）",
        "The field \"{field}\" is too long (at most {max} characters)",
    ),
    (
        "field_unknown",
        "未知字段“{field}”；可用字段：{known}",
        "Unknown field \"{field}\"; the fields are: {known}",
    ),
    ("type_text", "文本", "text"),
    ("type_integer", "整数", "a whole number"),
    ("type_real", "数字", "a number"),
    ("type_json", "列表", "a list"),
    ("unauthorized", "请先登录", "Sign in first"),
    (
        "bad_credentials",
        "用户名或密码错误",
        "Wrong username or password",
    ),
    (
        "forbidden",
        "您的账号无权进行此操作",
        "Your account may not do this",
    ),
    (
        "forbidden_action",
        "{role}账号不能对此火点执行“{action}”",
        "A {role} account may not \"{action}\" this fire",
    ),
    ("not_found", "未找到{what}", "No such {what}"),
    ("what_fire", "该火点", "fire"),
    ("what_layer", "该图层", "layer"),
    ("what_feature", "该要素", "feature"),
    ("what_page", "该页面", "page"),
    (
        "action_not_allowed",
        "火点当前状态为“{status}”，不能执行“{action}”；现在可执行：{allowed}",
        "The fire is {status}, so \"{action}\" is not possible; possible now: {allowed}",
    ),
    ("none", "无", "none"),
    (
        "unknown_action",
        "未知操作“{action}”；可用操作：{allowed}",
        "Unknown action \"{action}\"; the actions are: {allowed}",
    ),
    (
        "idempotency_conflict",
        "标识 {id} 已用于另一份内容不同的上报；新上报请使用新的标识",
        "The id {id} was already used for a different report; use a new id for a new report",
    ),
    (
        "invalid_uuid",
        "“{field}”须为 UUID",
        "\"{field}\" must be a UUID",
    ),
    (
        "temp_range",
        "温度须在 -60 至 1500 °C 之间",
        "The temperature must be between -60 and 1500 °C",
    ),
    (
        "co_range",
        "CO 浓度须在 0 至 1000000 ppm 之间",
        "CO must be between 0 and 1,000,000 ppm",
    ),
    (
        "unknown_method",
        "未知治理方式，可选：{allowed}",
        "Unknown treatment method; use one of: {allowed}",
    ),
    (
        "plan_due_past",
        "方案完成日期不能早于今天",
        "The plan's completion date cannot be in the past",
    ),
    (
        "plan_due_format",
        "方案完成日期格式应为 YYYY-MM-DD",
        "The plan's completion date must be YYYY-MM-DD",
    ),
    (
        "not_below_threshold",
        "“已控制”须有低于 {threshold} °C 的测温读数",
        "\"Controlled\" needs a temperature reading below {threshold} °C",
    ),
    (
        "inspection_empty",
        "复查须至少填写温度、CO 或现场情况之一",
        "An inspection needs a temperature, a CO reading or a note",
    ),
    ("required", "缺少“{field}”", "\"{field}\" is required"),
    (
        "duplicate_self",
        "火点不能是其自身的重复",
        "A fire cannot be a duplicate of itself",
    ),
    (
        "duplicate_unknown",
        "被重复的火点 {id} 不存在或已撤销",
        "The original fire {id} does not exist or was dismissed",
    ),
    (
        "responsible_unknown",
        "未知的责任主体：{name}",
        "Unknown responsible party: {name}",
    ),
    (
        "accuracy_too_poor",
        "GPS 精度为 {accuracy} m，超过 {limit} m 的要求；请等待更好的定位，或在地图上手动选点",
        "GPS accuracy is {accuracy} m, worse than the {limit} m allowed; wait for a better fix or place the point on the map",
    ),
    (
        "bad_query",
        "查询参数“{param}”无效：{detail}",
        "The query parameter \"{param}\" is invalid: {detail}",
    ),
    (
        "bad_date",
        "日期格式应为 YYYY-MM-DD",
        "Dates must be YYYY-MM-DD",
    ),
    (
        "bad_bbox",
        "bbox 应为 最小经度,最小纬度,最大经度,最大纬度",
        "bbox must be minlon,minlat,maxlon,maxlat",
    ),
    (
        "username_taken",
        "用户名 {username} 已存在",
        "The username {username} is taken",
    ),
    (
        "import_feature",
        "第 {n} 个要素（{label}）：{problem}；整个文件未导入",
        "Feature {n} ({label}): {problem}; nothing from the file was imported",
    ),
    (
        "import_not_supported",
        "图层 {layer} 不能从文件导入（火点和复查只通过上报产生）",
        "The layer {layer} cannot be imported from a file (fires and inspections come from reports)",
    ),
    (
        "unknown_layer",
        "未知图层“{layer}”；可用图层：{allowed}",
        "Unknown layer \"{layer}\"; the layers are: {allowed}",
    ),
    (
        "duplicate_key",
        "“{field}”为 {value} 的要素已存在",
        "A feature with \"{field}\" {value} already exists",
    ),
    (
        "unknown_reference",
        "“{field}”引用的 {value} 不存在于图层 {layer}",
        "\"{field}\" refers to {value}, which is not in the layer {layer}",
    ),
    ("empty_geometry", "几何为空", "The geometry is empty"),
    (
        "internal",
        "服务器内部错误，已记录，请稍后再试",
        "Something went wrong on the server; it was logged, please try again",
    ),
    ("role_manager", "管理员", "manager"),
    ("role_district", "区政府", "district"),
    ("role_owner", "矿山企业", "owner"),
    ("role_patrol", "巡查员", "patrol"),
    ("status_reported", "新发现", "reported"),
    ("status_confirmed", "已核实", "confirmed"),
    ("status_treating", "治理中", "treating"),
    ("status_controlled", "已控制", "controlled"),
    ("status_extinguished", "已熄灭", "extinguished"),
    ("status_cleared", "已销号", "cleared"),
    ("status_reignited", "复燃", "reignited"),
    ("status_dismissed", "已撤销", "dismissed"),
    ("action_confirm", "核实", "confirm"),
    ("action_start_treatment", "开始治理", "start treatment"),
    ("action_progress", "治理进展", "report progress"),
    ("action_control", "已控制", "report controlled"),
    ("action_inspect", "复查", "inspect"),
    ("action_extinguish", "确认熄灭", "extinguish"),
    ("action_clear", "销号", "clear"),
    ("action_dismiss", "撤销", "dismiss"),
    ("action_reassign", "改派", "reassign"),
];

/// The message for a key, or the key itself when a translation is missing (a test checks none is).
pub fn text(lang: Lang, key: &str) -> &str {
    MESSAGES
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| match lang {
            Lang::Zh => *zh,
            Lang::En => *en,
        })
        .unwrap_or(key)
}

/// The message with `{name}` placeholders filled.
pub fn format(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let mut s = text(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_is_chosen_by_header() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("fr, en;q=0.5, zh;q=0.8")),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::Zh);
    }

    #[test]
    fn every_message_has_both_languages_and_the_same_placeholders() {
        let mut keys = std::collections::HashSet::new();
        for (key, zh, en) in MESSAGES {
            assert!(keys.insert(key), "duplicate key {key}");
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split('}').next())
                    .map(String::from)
                    .collect();
                v.sort();
                v
            };
            assert_eq!(holes(zh), holes(en), "{key}");
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let s = format(Lang::En, "field_missing", &[("field", "kind".into())]);
        assert_eq!(s, "The field \"kind\" is missing");
    }
}
