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
        "report_outside_district",
        "该位置在{district}，不在您负责的{own}内；请由该区或市局上报",
        "This point lies in {district}, outside your district {own}; that district or the city bureau reports it",
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
        "login_throttled",
        "此地址登录尝试过于频繁，请 {retry_after} 秒后再试",
        "Too many sign-in attempts from this address; try again in {retry_after} seconds",
    ),
    (
        "login_locked",
        "该用户名登录失败次数过多，已暂时锁定，请 {retry_after} 秒后再试",
        "Too many failed sign-ins for this username; it is locked for now, try again in {retry_after} seconds",
    ),
    (
        "login_busy",
        "服务器正忙于处理登录，请 {retry_after} 秒后再试",
        "The server is busy with sign-ins; try again in {retry_after} seconds",
    ),
    (
        "password_too_short",
        "密码至少需要 {min} 个字符",
        "The password must be at least {min} characters long",
    ),
    (
        "password_contains_username",
        "密码不能包含用户名",
        "The password must not contain the username",
    ),
    (
        "password_too_common",
        "密码太常见或太容易猜到（如常用密码、重复字符、键盘顺序），请换一个更长、更少见的密码，例如几个不相关的词",
        "The password is too common or too easy to guess (a common password, repeated characters, a keyboard run); choose a longer, less usual one, such as a few unrelated words",
    ),
    ("user_unknown", "没有用户“{name}”", "No user \"{name}\""),
    ("what_user", "该用户", "user"),
    (
        "current_password_wrong",
        "当前密码不正确",
        "The current password is wrong",
    ),
    (
        "user_disable_self",
        "不能停用自己的账号；请由其他管理员或命令行停用",
        "You cannot disable your own account; another manager or the command line can",
    ),
    (
        "forbidden",
        "您的账号无权进行此操作",
        "Your account may not do this",
    ),
    (
        "cross_origin",
        "此请求来自其他网站，已拒绝；请在清零自己的页面上操作",
        "Refused: this request came from another site; use Qingling's own pages",
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
    // Field times (observed_at): when a report, inspection, violation or check was made.
    (
        "observed_format",
        "“{field}”须为带时区的 RFC 3339 时间（如 2026-05-01T10:00:00+08:00），收到的是 {value}",
        "\"{field}\" must be an RFC 3339 time with its offset (e.g. 2026-05-01T10:00:00+08:00); got {value}",
    ),
    (
        "observed_out_of_range",
        "“{field}”的时间 {value} 不可信：须在 {from} 至 {to} 之间（最多 {days} 天前，最多比服务器时钟快 {skew} 分钟）；请检查设备时钟",
        "\"{field}\" {value} is not plausible: it must lie between {from} and {to} (at most {days} days ago, at most {skew} minutes ahead of the server's clock); check the device's clock",
    ),
    (
        "observed_before_record",
        "“{field}”的时间 {value} 早于{what}（{from}）：须在 {from} 至 {to} 之间",
        "\"{field}\" {value} is before {what} ({from}): it must lie between {from} and {to}",
    ),
    (
        "observed_disagree",
        "“{field}”与“{other}”给出的时间不同；只需发送“{field}”",
        "\"{field}\" and \"{other}\" give different times; send \"{field}\" only",
    ),
    (
        "observed_after_report",
        "上报时间",
        "the time it was reported",
    ),
    (
        "observed_after_last_event",
        "最近一条记录的时间",
        "the time of its latest record",
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
        "photo_invalid",
        "照片无法读取：{detail}",
        "The photo cannot be read: {detail}",
    ),
    (
        "photo_type",
        "照片须为 JPEG、PNG 或 WebP 图片",
        "Photos must be JPEG, PNG or WebP images",
    ),
    (
        "photo_too_large",
        "照片超过 {limit} 的上限",
        "The photo is larger than the {limit} limit",
    ),
    (
        "photo_too_many_pixels",
        "照片为 {width}×{height} 像素，超过 {max} 百万像素的上限；请缩小后再上传",
        "The photo is {width}×{height} pixels, more than the {max} megapixel limit; scale it down and upload again",
    ),
    (
        "photo_busy",
        "正在处理的照片过多，请 {retry_after} 秒后重试",
        "Too many photos are being processed; try again in {retry_after} seconds",
    ),
    (
        "upload_too_large",
        "一次上传的照片合计超过 {limit}，请分几次上传",
        "The photos sent at once exceed {limit} in total; send them in several uploads",
    ),
    (
        "photo_missing",
        "请在表单字段 photo 中附上照片",
        "Attach the photo in the form field \"photo\"",
    ),
    ("what_photo", "该照片", "photo"),
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
    // GIS import and export (issue 4).
    (
        "import_features",
        "{count} 个要素有问题，整个文件未导入：\n{list}",
        "{count} features have problems; nothing from the file was imported:\n{list}",
    ),
    (
        "import_feature_line",
        "第 {n} 个要素（{label}）：{problem}",
        "Feature {n} ({label}): {problem}",
    ),
    (
        "duplicate_in_file",
        "“{field}”为 {value} 的要素在文件中出现了不止一次",
        "\"{field}\" {value} appears more than once in the file",
    ),
    (
        "ambiguous_match",
        "图层中有 {count} 个“{field}”为 {value} 的要素，无法确定更新哪一个",
        "The layer has {count} features with \"{field}\" {value}; cannot tell which one to update",
    ),
    (
        "invalid_geometry_fixable",
        "几何无效：{detail}（加 --fix 可尝试自动修复）",
        "Invalid geometry: {detail} (--fix may repair it)",
    ),
    (
        "invalid_geometry_unfixable",
        "几何无效：{detail}；自动修复未成功：{why}",
        "Invalid geometry: {detail}; it could not be repaired: {why}",
    ),
    (
        "source_open",
        "无法打开 {path}：{detail}",
        "Cannot open {path}: {detail}",
    ),
    (
        "source_layers",
        "{path} 有多个图层（{layers}）；请用 --source-layer 指定一个",
        "{path} has several layers ({layers}); choose one with --source-layer",
    ),
    (
        "source_layer_unknown",
        "{path} 中没有图层“{layer}”；可用图层：{layers}",
        "{path} has no layer \"{layer}\"; its layers are: {layers}",
    ),
    (
        "source_no_crs",
        "{path} 没有坐标系信息（Shapefile 缺少 .prj 文件）；请用 --src-crs 指定，例如 --src-crs EPSG:4545",
        "{path} does not say its coordinate system (a Shapefile without its .prj file); name it with --src-crs, e.g. --src-crs EPSG:4545",
    ),
    (
        "source_crs_unknown",
        "{path} 的坐标系“{name}”没有对应的 EPSG 代码；请用 --src-crs 指定，例如 --src-crs EPSG:4545",
        "The coordinate system of {path} (\"{name}\") matches no EPSG code; name it with --src-crs, e.g. --src-crs EPSG:4545",
    ),
    (
        "source_not_utf8",
        "{path} 的属性表不是 UTF-8 编码，也没有 .cpg 文件说明编码；请用 --encoding 指定（中文数据多为 GBK）",
        "The attribute table of {path} is not UTF-8 and no .cpg file names its encoding; name it with --encoding (Chinese data is usually GBK)",
    ),
    (
        "source_not_utf8_gbk",
        "{path} 的属性表不是 UTF-8 编码，也没有 .cpg 文件说明编码；按 GBK 解读时字段为：{fields}，首个要素为：{sample}。若无误，请加 --encoding GBK",
        "The attribute table of {path} is not UTF-8 and no .cpg file names its encoding; read as GBK its fields are: {fields}, and the first feature: {sample}. If that reads right, add --encoding GBK",
    ),
    (
        "outside_area",
        "坐标不在管理范围内：按 {crs} 解读，数据范围为经度 {lon}、纬度 {lat}（文件中 x {x}、y {y}）；应在经度 {area_lon}、纬度 {area_lat} 之内。请检查坐标系（--src-crs）",
        "The coordinates are not in the managed area: read as {crs} they span longitude {lon}, latitude {lat} (in the file x {x}, y {y}); expected within longitude {area_lon}, latitude {area_lat}. Check the coordinate system (--src-crs)",
    ),
    (
        "outside_area_swapped",
        "坐标不在管理范围内：按 {crs} 解读，数据范围为经度 {lon}、纬度 {lat}（文件中 x {x}、y {y}）；应在经度 {area_lon}、纬度 {area_lat} 之内。坐标似乎是纬度在前、经度在后（轴序颠倒）：请交换经纬度两列",
        "The coordinates are not in the managed area: read as {crs} they span longitude {lon}, latitude {lat} (in the file x {x}, y {y}); expected within longitude {area_lon}, latitude {area_lat}. The axes look swapped (latitude first): swap the longitude and latitude columns",
    ),
    (
        "outside_area_crs",
        "坐标不在管理范围内：按 {crs} 解读，数据范围为经度 {lon}、纬度 {lat}（文件中 x {x}、y {y}）；应在经度 {area_lon}、纬度 {area_lat} 之内。按 {suggest} 解读则正好落在管理范围内：请用 --src-crs 指定正确的坐标系",
        "The coordinates are not in the managed area: read as {crs} they span longitude {lon}, latitude {lat} (in the file x {x}, y {y}); expected within longitude {area_lon}, latitude {area_lat}. Read as {suggest} they fall inside it: name the right one with --src-crs",
    ),
    (
        "map_syntax",
        "--map 应为 图层字段=文件字段，例如 --map licence_no=采矿许可证号；收到的是 {got}",
        "--map takes layer_field=file_field, e.g. --map licence_no=采矿许可证号; got {got}",
    ),
    (
        "map_unknown_field",
        "--map {target}={source}：图层 {layer} 没有字段“{target}”；可导入的字段：{fields}",
        "--map {target}={source}: the layer {layer} has no field \"{target}\"; the fields that can be imported: {fields}",
    ),
    (
        "map_unknown_source",
        "--map {target}={source}：文件中没有字段“{source}”；文件的字段：{fields}",
        "--map {target}={source}: the file has no field \"{source}\"; its fields are: {fields}",
    ),
    (
        "bad_crs",
        "无法识别坐标系 {crs}；请用 EPSG:代码，例如 EPSG:4545",
        "Unknown coordinate system {crs}; use EPSG:CODE, e.g. EPSG:4545",
    ),
    (
        "reroute_reason_import",
        "导入 {file} 更新{layer}后按新边界重新判定责任主体",
        "responsibility re-derived after {file} updated {layer}",
    ),
    (
        "export_format",
        "未知导出格式“{format}”；可选：{allowed}",
        "Unknown export format \"{format}\"; use one of: {allowed}",
    ),
    (
        "export_where",
        "筛选条件应为 字段=值，例如 status=burning；收到的是 {got}",
        "A filter is field=value, e.g. status=burning; got {got}",
    ),
    (
        "export_where_field",
        "图层 {layer} 没有字段“{field}”；可筛选的字段：{fields}",
        "The layer {layer} has no field \"{field}\"; the fields are: {fields}",
    ),
    (
        "export_exists",
        "{path} 已存在；请换一个文件名或先删除它",
        "{path} exists; choose another name or delete it first",
    ),
    (
        "export_kml_crs",
        "KML 只能使用 EPSG:4326（经度、纬度）；请去掉 --crs 或改用其他格式",
        "KML is always EPSG:4326 (longitude, latitude); drop --crs or choose another format",
    ),
    (
        "export_ledger_layer",
        "XLSX 是火点台账，只能导出 fire_points 图层；其他图层请用 GPKG、CSV 等格式",
        "XLSX is the fire-point ledger and exports the fire_points layer only; use GPKG, CSV or another format for other layers",
    ),
    (
        "export_failed",
        "写入 {path} 失败：{detail}",
        "Could not write {path}: {detail}",
    ),
    (
        "cli_import_done",
        "已从 {file} 导入 {count} 个{layer}要素：新增 {inserted}，更新 {updated}，未变 {unchanged}",
        "{count} {layer} imported from {file}: {inserted} inserted, {updated} updated, {unchanged} unchanged",
    ),
    (
        "cli_import_dry_run",
        "试运行，未写入任何内容：将从 {file} 导入 {count} 个{layer}要素：新增 {inserted}，更新 {updated}，未变 {unchanged}",
        "Dry run, nothing was written: {count} {layer} would be imported from {file}: {inserted} inserted, {updated} updated, {unchanged} unchanged",
    ),
    (
        "cli_crs_file",
        "坐标系：EPSG:{epsg}（文件中注明）",
        "Coordinate system: EPSG:{epsg} (from the file)",
    ),
    (
        "cli_crs_option",
        "坐标系：EPSG:{epsg}（来自 --src-crs）",
        "Coordinate system: EPSG:{epsg} (from --src-crs)",
    ),
    (
        "cli_crs_override",
        "坐标系：EPSG:{epsg}（来自 --src-crs；文件中注明的是 {file_crs}）",
        "Coordinate system: EPSG:{epsg} (from --src-crs; the file says {file_crs})",
    ),
    (
        "cli_crs_assumed",
        "坐标系：EPSG:{epsg}（CSV 不含坐标系，按经纬度读取；若不是，请用 --src-crs 指定）",
        "Coordinate system: EPSG:{epsg} (a CSV carries none, so longitude/latitude is assumed; name another with --src-crs)",
    ),
    (
        "cli_encoding",
        "属性编码：{encoding}",
        "Attribute encoding: {encoding}",
    ),
    (
        "cli_mapped",
        "自动匹配的字段：{pairs}",
        "Columns matched automatically: {pairs}",
    ),
    (
        "cli_fixed",
        "已修复第 {n} 个要素（{label}）：{what}",
        "Repaired feature {n} ({label}): {what}",
    ),
    (
        "cli_rerouted",
        "{count} 个未销号火点或未核验的扬尘违规的责任主体随边界改变（各记一条系统改派事件）：",
        "{count} open fires or unverified dust violations changed party with the boundaries (a system reassign event each):",
    ),
    (
        "cli_rerouted_dry",
        "{count} 个未销号火点或未核验的扬尘违规的责任主体将随边界改变：",
        "{count} open fires or unverified dust violations would change party with the boundaries:",
    ),
    (
        "cli_export_done",
        "已将 {count} 个{layer}要素写入 {file}（{format}，EPSG:{epsg}）",
        "{count} {layer} written to {file} ({format}, EPSG:{epsg})",
    ),
    (
        "cli_export_renamed",
        "Shapefile 字段名最多 10 个字符，已改名：{pairs}",
        "Shapefile field names are at most 10 characters; renamed: {pairs}",
    ),
    // Backups (issue 9 item 7).
    (
        "cli_backup_no_db",
        "数据库 {path} 不存在",
        "There is no database at {path}",
    ),
    (
        "cli_backup_exists",
        "{path} 已存在；备份只写入新的文件夹",
        "{path} exists; a backup is written only into a new folder",
    ),
    (
        "cli_backup_failed",
        "备份失败：{detail}",
        "The backup failed: {detail}",
    ),
    (
        "cli_backup_damaged",
        "数据库 {path} 未通过完整性检查，未备份：{detail}",
        "The database {path} fails its integrity check and was not backed up: {detail}",
    ),
    (
        "cli_backup_photo_missing",
        "警告：数据库记录的照片文件 {file} 不存在，未能备份（已记入清单的 missing）",
        "Warning: the photo file {file} that the database records is missing and was not backed up (listed under missing in the manifest)",
    ),
    (
        "cli_backup_photo_damaged",
        "警告：照片文件 {file} 的内容与其名称（SHA-256）不符，已按原样备份",
        "Warning: the photo file {file} does not match its name (its SHA-256); backed up as it is",
    ),
    (
        "cli_backup_done",
        "已备份到 {out}：数据库（架构版本 {schema}，{fires} 个火点，{photos} 条照片记录）及 {files} 个照片文件；manifest.json 的 SHA-256：{manifest}",
        "Backed up to {out}: the database (schema version {schema}, {fires} fire points, {photos} photo records) and {files} photo files; SHA-256 of manifest.json: {manifest}",
    ),
    (
        "cli_restore_no_manifest",
        "{dir} 中没有 manifest.json，不是清零备份",
        "{dir} has no manifest.json: it is not a Qingling backup",
    ),
    (
        "cli_restore_bad_manifest",
        "备份清单 {file} 无法使用：{detail}；未写入任何内容",
        "The backup manifest {file} cannot be used: {detail}; nothing was written",
    ),
    (
        "cli_restore_file_missing",
        "备份不完整：缺少 {file}；未写入任何内容",
        "The backup is incomplete: {file} is missing; nothing was written",
    ),
    (
        "cli_restore_file_mismatch",
        "备份已损坏：{file} 的 SHA-256 与清单不符（清单 {expected}，实际 {actual}）；未写入任何内容",
        "The backup is damaged: the SHA-256 of {file} does not match the manifest (manifest {expected}, file {actual}); nothing was written",
    ),
    (
        "cli_restore_newer",
        "该备份的数据库架构版本 {found} 比本程序支持的 {known} 新；请用更新版本的 qingling 恢复",
        "The backup's schema version {found} is newer than the {known} this build knows; restore it with a newer qingling",
    ),
    (
        "cli_restore_in_use",
        "{path} 正被运行中的 qingling serve 使用；请先停止该服务再恢复",
        "{path} is in use by a running qingling serve; stop the server, then restore",
    ),
    (
        "cli_db_in_use",
        "{path} 已被另一个 qingling serve 使用；同一数据库只能由一个服务使用",
        "{path} is already used by another qingling serve; one server per database",
    ),
    (
        "cli_restore_exists",
        "{path} 已存在；恢复不会覆盖现有数据库，除非加 --force（先停止使用它的服务）",
        "{path} exists; restore does not replace a database unless given --force (stop the server using it first)",
    ),
    (
        "cli_restore_integrity",
        "恢复出的数据库未通过完整性检查：{detail}；未写入数据库",
        "The restored database fails its integrity check: {detail}; no database was written",
    ),
    (
        "cli_restore_failed",
        "恢复失败：{detail}",
        "The restore failed: {detail}",
    ),
    (
        "cli_restore_done",
        "已从 {from} 恢复到 {db}：{fires} 个火点，{photos} 条照片记录；校验和与完整性检查均通过",
        "Restored {from} to {db}: {fires} fire points, {photos} photo records; checksums and integrity check passed",
    ),
    (
        "cli_restore_kept_old",
        "原数据库已改名为 {path}（连同其 -wal、-shm）；确认无误后可删除",
        "The database that was there is kept as {path} (with its -wal and -shm); delete it once satisfied",
    ),
    (
        "cli_restore_checked",
        "{from} 完好：{files} 个文件的校验和一致，完整性检查通过（架构版本 {schema}，{fires} 个火点，{photos} 条照片记录）；未写入任何内容",
        "{from} is sound: {files} files match their checksums and the integrity check passed (schema version {schema}, {fires} fire points, {photos} photo records); nothing was written",
    ),
    // Webhooks (issue 4 item 5).
    ("what_webhook", "该回调地址", "webhook"),
    (
        "webhook_url_invalid",
        "回调地址“{url}”无效：应为完整的 http:// 地址，含主机名，例如 http://relay.local:8080/qingling",
        "The webhook URL \"{url}\" is not valid: give a full http:// address with a host, e.g. http://relay.local:8080/qingling",
    ),
    (
        "webhook_kinds_empty",
        "请至少选择一种事件类型：{allowed}",
        "Choose at least one event kind: {allowed}",
    ),
    (
        "webhook_kind_unknown",
        "未知事件类型“{kind}”；可选：{allowed}",
        "Unknown event kind \"{kind}\"; the kinds are: {allowed}",
    ),
    (
        "webhook_secret_short",
        "签名密钥至少需要 {min} 个字符；不填则由系统生成",
        "The signing secret needs at least {min} characters; leave it out to have one generated",
    ),
    // Dust monitors and readings (issue 5).
    ("what_monitor", "该监测设备", "monitor"),
    (
        "dust_device_unauthorized",
        "设备令牌缺失、无效或已吊销（请求头 Authorization: Bearer <设备令牌>；qingling monitor token 可重新签发）",
        "The device token is missing, unknown or revoked (send Authorization: Bearer <device token>; qingling monitor token issues a new one)",
    ),
    (
        "dust_empty_batch",
        "批次中没有读数：readings 须为非空列表",
        "The batch has no readings: \"readings\" must be a non-empty list",
    ),
    (
        "dust_batch_too_large",
        "一批最多 {max} 条读数，本批 {got} 条；请分批发送",
        "A batch holds at most {max} readings, this one has {got}; send it in parts",
    ),
    (
        "dust_bad_time",
        "“{field}”的时间 {value} 不是 RFC 3339 格式（如 2025-01-10T10:00:00+08:00）",
        "\"{field}\": {value} is not an RFC 3339 time (e.g. 2025-01-10T10:00:00+08:00)",
    ),
    (
        "dust_time_out_of_range",
        "“{field}”的时间 {value} 早于 2000 年或晚于当前时间 1 小时以上；请检查设备时钟",
        "\"{field}\": {value} is before 2000 or more than an hour ahead of now; check the device clock",
    ),
    (
        "dust_value_out_of_range",
        "“{field}”为 {value}，超出 {min} 至 {max} {unit} 的范围；本批未保存",
        "\"{field}\" is {value}, outside {min} to {max} {unit}; nothing from the batch was stored",
    ),
    (
        "dust_no_values",
        "“{field}”没有任何监测值（tsp、pm10、pm25、wind_speed、wind_dir、temperature、humidity）",
        "\"{field}\" has no values (tsp, pm10, pm25, wind_speed, wind_dir, temperature, humidity)",
    ),
    (
        "dust_bad_interval",
        "interval 为 {value}，应为 raw、hour 或 day",
        "interval is {value}; use raw, hour or day",
    ),
    (
        "dust_bad_time_param",
        "查询参数 {param}={value} 不是 RFC 3339 时间（如 2025-01-10T00:00:00+08:00，URL 中 + 写作 %2B）",
        "The query parameter {param}={value} is not an RFC 3339 time (e.g. 2025-01-10T00:00:00+08:00; write + as %2B in a URL)",
    ),
    (
        "dust_range_reversed",
        "from 须早于 to",
        "\"from\" must be before \"to\"",
    ),
    (
        "dust_range_too_long",
        "时间范围不能超过 {days} 天；请缩短范围或改用 interval=day",
        "The range may span at most {days} days; shorten it or use interval=day",
    ),
    (
        "dust_too_many_readings",
        "该范围内原始读数超过 {limit} 条；请缩短范围或改用 interval=hour",
        "More than {limit} raw readings in this range; shorten it or use interval=hour",
    ),
    (
        "dust_unknown_measure",
        "未知监测项目“{value}”；可选：{allowed}",
        "Unknown measure \"{value}\"; use: {allowed}",
    ),
    (
        "dust_bad_mn",
        "设备编号（MN）“{mn}”无效：须为 1 至 24 个字母、数字、- 或 _",
        "The device id (MN) \"{mn}\" is not valid: use 1 to 24 letters, digits, - or _",
    ),
    (
        "dust_bad_password",
        "HJ 212 访问密码（PW）须为 1 至 64 个可见 ASCII 字符，且不含 ; = , &",
        "The HJ 212 password (PW) must be 1 to 64 visible ASCII characters without ; = , &",
    ),
    (
        "dust_password_too_short",
        "HJ 212 访问密码（PW）太短：至少 6 个字符；不给 --password 则自动生成一个强密码",
        "The HJ 212 password (PW) is too short: use at least 6 characters, or leave out --password to have a strong one generated",
    ),
    (
        "dust_password_one_character",
        "HJ 212 访问密码（PW）不能全是同一个字符；不给 --password 则自动生成一个强密码",
        "The HJ 212 password (PW) must not be one character repeated; leave out --password to have a strong one generated",
    ),
    (
        "dust_password_sequence",
        "HJ 212 访问密码（PW）不能是连续序列（如 123456、abcdef）；不给 --password 则自动生成一个强密码",
        "The HJ 212 password (PW) must not be a run such as 123456 or abcdef; leave out --password to have a strong one generated",
    ),
    (
        "dust_password_digits_only",
        "HJ 212 访问密码（PW）只含数字时至少 10 位（6 位数字几秒即可猜出）；可混用字母和数字，或不给 --password 自动生成",
        "An all-digit HJ 212 password (PW) needs at least 10 digits (6 digits are guessed in seconds); mix in letters, or leave out --password to have one generated",
    ),
    (
        "dust_password_too_simple",
        "HJ 212 访问密码（PW）太简单：请加长或混用字母、数字和符号；不给 --password 则自动生成一个强密码",
        "The HJ 212 password (PW) is too simple: make it longer or mix letters, digits and symbols, or leave out --password to have a strong one generated",
    ),
    (
        "dust_password_generated",
        "HJ 212 访问密码（PW），请在设备上设置（仅显示这一次）：",
        "HJ 212 password (PW) to set on the device (shown once):",
    ),
    (
        "dust_mn_taken",
        "设备编号（MN）{mn} 已登记",
        "The device id (MN) {mn} is already registered",
    ),
    (
        "dust_unknown_mn",
        "没有设备编号（MN）为 {mn} 的监测设备",
        "No monitor has the device id (MN) {mn}",
    ),
    (
        "dust_monitor_has_credentials",
        "监测设备 {mn} 已有接入凭据；如需新的设备令牌，请用 monitor token",
        "The monitor {mn} already has credentials; for a new device token use monitor token",
    ),
    (
        "ogc_bad_crs",
        "不支持的坐标系 {crs}；可用：{allowed}",
        "Unsupported coordinate reference system {crs}; use one of: {allowed}",
    ),
    (
        "crs_transform",
        "坐标转换失败：{detail}",
        "The coordinates could not be transformed: {detail}",
    ),
    (
        "bad_filter",
        "过滤条件（CQL2）无效：{detail}",
        "The filter (CQL2 text) is invalid: {detail}",
    ),
    (
        "filter_too_deep",
        "过滤条件嵌套过深：括号、NOT 等最多嵌套 {max} 层，请简化",
        "The filter is nested too deeply: at most {max} levels of parentheses, NOT and functions; simplify it",
    ),
    (
        "filter_too_long",
        "过滤条件过长：最多 {max} 个字符",
        "The filter is too long: at most {max} characters",
    ),
    (
        "filter_too_many_terms",
        "过滤条件过多：最多 {max} 个条件（IN 列表中的每个值各算一个）",
        "The filter has too many conditions: at most {max} (each value in an IN list counts as one)",
    ),
    (
        "unknown_param",
        "未知查询参数“{param}”；可用参数：{known}",
        "Unknown query parameter \"{param}\"; the parameters are: {known}",
    ),
    (
        "no_time",
        "图层 {layer} 没有时间字段，不能按 datetime 过滤（火点按发现时间，复查按复查时间）",
        "The layer {layer} has no time field to filter by datetime (fire points have reported_at, inspections at)",
    ),
    (
        "bad_datetime",
        "datetime “{value}”无效：应为 RFC 3339 时间（2024-05-01T08:00:00Z）、日期（2024-05-01）或区间“开始/结束”（开放端用 ..）",
        "datetime \"{value}\" is invalid: use an RFC 3339 time (2024-05-01T08:00:00Z), a date (2024-05-01) or an interval start/end (.. for an open end)",
    ),
    (
        "method_not_allowed",
        "图层 {layer} 在此只读：火点和复查只通过火点上报和处置（/api/fires）改变",
        "The layer {layer} is read-only here: fires and inspections change only through reports and fire events (/api/fires)",
    ),
    (
        "layer_not_editable",
        "图层 {layer} 的要素由系统维护，不能在此编辑",
        "The features of {layer} are kept by the system and cannot be edited here",
    ),
    (
        "reroute_reason_created",
        "经 OGC API 新增{layer}{label}后按新边界重新判定责任主体",
        "responsibility re-derived after {layer} {label} was created through the OGC API",
    ),
    (
        "reroute_reason_changed",
        "经 OGC API 修改{layer}{label}后按新边界重新判定责任主体",
        "responsibility re-derived after {layer} {label} was changed through the OGC API",
    ),
    (
        "reroute_reason_deleted",
        "经 OGC API 删除{layer}{label}后按新边界重新判定责任主体",
        "responsibility re-derived after {layer} {label} was deleted through the OGC API",
    ),
    (
        "too_many_vertices",
        "几何有 {count} 个顶点，超过每个要素 {max} 个的上限；请简化后再提交",
        "The geometry has {count} vertices, more than the limit of {max} per feature; simplify it and send it again",
    ),
    (
        "geometry_busy",
        "正在检查的几何图形过多，请 {retry_after} 秒后重试",
        "Too many geometries are being checked; try again in {retry_after} seconds",
    ),
    (
        "area_has_open_cases",
        "{label}内仍有 {count} 起未销号的火点或扬尘问题，此修改会使它们不属于任何区县；请先处理或改派这些案件",
        "{count} open fires or dust violations depend on {label}: this change would leave them outside every district; close or reassign them first",
    ),
    (
        "import_strands_open_cases",
        "此次导入的{layer}会使 {count} 起未销号的火点或扬尘问题不在任何区县内；请先处理或改派这些案件，或修正边界后再导入",
        "This import of {layer} would leave {count} open fires or dust violations outside every district; close or reassign them first, or correct the boundaries and import again",
    ),
    (
        "still_referenced",
        "{layer}“{value}”仍被引用（{by}），请先修改或删除这些要素",
        "{layer} \"{value}\" is still referred to ({by}); change or delete those features first",
    ),
    (
        "ogc_title",
        "清零 · 乌海矿区火点 OGC API",
        "Qingling · Wuhai mining-area fires OGC API",
    ),
    (
        "ogc_description",
        "矿区自燃火点、矿山、排土场、煤矸石堆场和行政区图层（OGC API - Features 第 1–4 部分），按账号权限提供",
        "Fire points, mining rights, waste dumps, gangue heaps and districts (OGC API - Features Parts 1–4), as your account may see them",
    ),
    ("ogc_home", "首页", "Home"),
    ("ogc_conformance", "符合的标准类", "Conformance classes"),
    ("ogc_collections", "图层", "Collections"),
    ("ogc_collection", "图层说明", "collection"),
    ("ogc_items", "要素", "Features"),
    ("ogc_item", "单个要素", "one feature"),
    ("ogc_extent", "范围", "Extent"),
    ("ogc_queryables", "可查询属性", "Queryables"),
    ("ogc_schema", "要素结构", "Schema"),
    ("ogc_create", "新增要素", "create a feature"),
    ("ogc_replace", "替换要素", "replace a feature"),
    ("ogc_update", "修改要素", "update a feature"),
    ("ogc_delete", "删除要素", "delete a feature"),
    ("ogc_returned", "第 {from}–{to} 个", "Features {from}–{to}"),
    ("ogc_matched", "共 {n} 个", "{n} in all"),
    ("ogc_prev", "上一页", "Previous page"),
    ("ogc_next", "下一页", "Next page"),
    ("what_dust_alert", "该扬尘告警", "dust alert"),
    ("dust_status_open", "待处理", "open"),
    ("dust_status_rectifying", "整改中", "rectifying"),
    ("dust_status_closed", "已关闭", "closed"),
    (
        "dust_action_start_rectifying",
        "开始整改",
        "start rectifying",
    ),
    ("dust_action_close", "关闭", "close"),
    (
        "dust_action_not_allowed",
        "扬尘告警当前状态为“{status}”，不能执行“{action}”；现在可执行：{allowed}",
        "The dust alert is {status}, so \"{action}\" is not possible; possible now: {allowed}",
    ),
    (
        "what_dust_restriction",
        "该限产措施",
        "production restriction",
    ),
    (
        "dust_bad_warning_level",
        "预警级别“{value}”无效；可用级别：{allowed}",
        "Unknown warning level \"{value}\"; the levels are: {allowed}",
    ),
    (
        "dust_bad_period",
        "预警结束时间 {to} 必须晚于开始时间 {from}",
        "The warning must end ({to}) after it starts ({from})",
    ),
    (
        "dust_already_acknowledged",
        "该限产措施已于 {at} 确认",
        "This restriction was already acknowledged at {at}",
    ),
    (
        "dust_warning_where",
        "请选择预警范围：至少一个行政区，或在地图上绘制区域",
        "Say where the warning applies: at least one district, or an area drawn on the map",
    ),
    (
        "dust_bad_area",
        "预警区域无效：{detail}",
        "The warning area is not valid: {detail}",
    ),
    (
        "dust_area_outside",
        "预警区域不在任何行政区内，请在辖区范围内绘制",
        "The warning area lies outside every district: draw it within them",
    ),
    (
        "dust_bad_position",
        "位置 {value} 无效，应为 [经度, 纬度]",
        "The position {value} is not valid: expected [longitude, latitude]",
    ),
    (
        "dust_check_id_reused",
        "检查记录标识 {id} 已用于另一条记录",
        "The check id {id} was already used for a different check",
    ),
    (
        "dust_warning_not_in_force",
        "该预警不在有效期内（{from} 至 {to}），无法记录落实检查",
        "The warning is not in force ({from} to {to}), so no compliance check can be recorded",
    ),
    ("dust_level_yellow", "黄色预警", "Yellow warning"),
    ("dust_level_orange", "橙色预警", "Orange warning"),
    ("dust_level_red", "红色预警", "Red warning"),
    ("dust_level_gale", "大风预警", "Gale warning"),
    ("dust_level_sandstorm", "沙尘暴预警", "Sandstorm warning"),
    ("dust_level_fog", "大雾预警", "Fog warning"),
    (
        "dust_measure_cover_stockpiles",
        "物料堆场全部苫盖",
        "Cover all stockpiles",
    ),
    (
        "dust_measure_spray_roads",
        "道路洒水降尘",
        "Spray roads against dust",
    ),
    (
        "dust_measure_stop_blasting_stripping",
        "停止爆破和剥离作业",
        "Stop blasting and stripping",
    ),
    (
        "dust_measure_stop_open_air_work",
        "停止露天作业",
        "Stop all open-air work",
    ),
    // Dust violations logged by patrols (issue 5 item 6).
    ("what_dust_issue", "该扬尘违规", "dust violation"),
    (
        "dust_issue_forbidden",
        "{role}账号不能对此扬尘违规执行“{action}”",
        "A {role} account may not \"{action}\" this dust violation",
    ),
    (
        "dust_issue_action_not_allowed",
        "扬尘违规当前状态为“{status}”，不能执行“{action}”；现在可执行：{allowed}",
        "The dust violation is {status}, so \"{action}\" is not possible; possible now: {allowed}",
    ),
    ("dust_issue_status_open", "待整改", "open"),
    ("dust_issue_status_rectifying", "整改中", "rectifying"),
    ("dust_issue_status_rectified", "已整改", "rectified"),
    ("dust_issue_status_verified", "已核验", "verified"),
    ("dust_issue_action_report", "上报", "report"),
    ("dust_issue_action_start", "开始整改", "start rectifying"),
    (
        "dust_issue_action_rectified",
        "整改完成",
        "report rectified",
    ),
    ("dust_issue_action_verify", "核验通过", "verify"),
    ("dust_issue_action_reject", "核验不通过", "reject"),
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

    /// Every message key the code names (`invalid("…")`, `bad_request("…")`, `Kind::…, "…"`,
    /// `not_found("…")` → `what_…`) has a translation.
    #[test]
    fn every_key_the_code_uses_is_translated() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("src").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(&p).expect("read"));
                }
            }
        }
        let mut sources = vec![];
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut sources,
        );
        let mut missing = std::collections::BTreeSet::new();
        for src in &sources {
            for (marker, prefix) in [
                ("invalid(\"", ""),
                ("bad_request(\"", ""),
                ("Error::new(Kind::", ""),
                ("not_found(\"", "what_"),
                ("Error::not_allowed(", ""),
            ] {
                for piece in src.split(marker).skip(1) {
                    let piece = if marker.starts_with("Error::new") {
                        match piece.split_once(", \"") {
                            Some((kind, rest)) if kind.chars().all(char::is_alphanumeric) => rest,
                            _ => continue,
                        }
                    } else if marker == "Error::not_allowed(" {
                        match piece.trim_start().strip_prefix('"') {
                            Some(rest) => rest,
                            None => continue,
                        }
                    } else {
                        piece
                    };
                    let key: String = piece
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    if !key.is_empty() && piece[key.len()..].starts_with('"') {
                        let key = format!("{prefix}{key}");
                        if !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                            missing.insert(key);
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys without a translation: {missing:?}"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let s = format(Lang::En, "field_missing", &[("field", "kind".into())]);
        assert_eq!(s, "The field \"kind\" is missing");
    }
}
