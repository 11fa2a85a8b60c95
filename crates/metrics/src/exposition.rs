//! Reads the Prometheus text exposition back, checking it the way `promtool check metrics`
//! does: every sample line is `name{labels} value`, every family has HELP and TYPE before its
//! samples, and the names follow the conventions (counters end in `_total`, base units, no
//! colons, snake case). Tests use it on what `/metrics` serves, with or without promtool.

use std::collections::BTreeMap;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's own name (for a histogram: `…_bucket`, `…_sum` or `…_count`).
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A metric family: its HELP, TYPE and samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Family {
    pub help: String,
    pub kind: String,
    pub samples: Vec<Sample>,
}

impl Family {
    /// Samples whose labels include every `(name, value)` of `labels`.
    pub fn matching<'a>(&'a self, labels: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = &'a Sample> {
        self.samples
            .iter()
            .filter(move |s| labels.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v)))
    }

    /// The sum of the values of the samples matching `labels`.
    pub fn sum(&self, labels: &[(&str, &str)]) -> f64 {
        self.matching(labels).map(|s| s.value).sum()
    }
}

/// A parsed exposition, by family name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    pub families: BTreeMap<String, Family>,
}

impl Exposition {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.get(name)
    }
}

/// Units promtool asks to replace by their base unit.
const NON_BASE_UNITS: [(&str, &str); 9] = [
    ("milliseconds", "seconds"),
    ("microseconds", "seconds"),
    ("nanoseconds", "seconds"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("kilobytes", "bytes"),
    ("megabytes", "bytes"),
    ("percent", "ratio"),
];

/// Parses `text` and checks it; every problem found, with its line, when it breaks a rule.
pub fn check(text: &str) -> Result<Exposition, Vec<String>> {
    let mut out = Exposition::default();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let family = out.families.entry(name.to_string()).or_default();
            if !family.help.is_empty() {
                problems.push(format!("line {at}: second HELP for {name}"));
            }
            if help.trim().is_empty() {
                problems.push(format!("line {at}: {name} has no help text"));
            }
            family.help = help.to_string();
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                problems.push(format!("line {at}: unknown type '{kind}' for {name}"));
            }
            let family = out.families.entry(name.to_string()).or_default();
            if !family.samples.is_empty() || !family.kind.is_empty() {
                problems.push(format!("line {at}: TYPE of {name} after its samples or repeated"));
            }
            family.kind = kind.to_string();
        } else if line.starts_with('#') {
            continue;
        } else {
            match parse_sample(line) {
                Ok(sample) => {
                    let family = family_of(&out, &sample.name);
                    match out.families.get_mut(&family) {
                        Some(f) if !f.kind.is_empty() && !f.help.is_empty() => f.samples.push(sample),
                        _ => problems
                            .push(format!("line {at}: {} has no HELP and TYPE before it", sample.name)),
                    }
                }
                Err(e) => problems.push(format!("line {at}: {e}: {line}")),
            }
        }
    }
    for (name, family) in &out.families {
        problems.extend(lint(name, family));
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// The family a sample belongs to: a histogram's or summary's parts belong to their base name.
fn family_of(exp: &Exposition, sample: &str) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample.strip_suffix(suffix)
            && exp.families.get(base).is_some_and(|f| f.kind == "histogram" || f.kind == "summary")
        {
            return base.to_string();
        }
    }
    sample.to_string()
}

/// The naming rules of `promtool check metrics`.
fn lint(name: &str, family: &Family) -> Vec<String> {
    let mut problems = Vec::new();
    if family.kind.is_empty() {
        problems.push(format!("{name} has HELP but no TYPE"));
    }
    if family.help.trim().is_empty() {
        problems.push(format!("{name} has no help text"));
    }
    if name.contains(':') {
        problems.push(format!("{name}: metric names should not contain ':' (kept for recording rules)"));
    }
    if !is_snake_case(name) {
        problems.push(format!("{name}: metric names should be snake_case"));
    }
    match (family.kind.as_str(), name.ends_with("_total")) {
        ("counter", false) => problems.push(format!("{name}: counter names should end in _total")),
        (kind, true) if kind != "counter" => {
            problems.push(format!("{name}: only counter names should end in _total"))
        }
        _ => {}
    }
    for (unit, base) in NON_BASE_UNITS {
        if name.split('_').any(|part| part == unit) {
            problems.push(format!("{name}: use the base unit {base} instead of {unit}"));
        }
    }
    for part in ["counter", "gauge", "histogram", "summary"] {
        if name.split('_').any(|p| p == part) {
            problems.push(format!("{name}: metric names should not name their type ({part})"));
        }
    }
    let labels: std::collections::BTreeSet<&str> =
        family.samples.iter().flat_map(|s| s.labels.keys().map(String::as_str)).collect();
    for label in labels {
        if !is_snake_case(label) {
            problems.push(format!("{name}: label name '{label}' should be snake_case"));
        }
    }
    problems
}

fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
}

/// `name{label="value",...} value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        return Err(format!("bad metric name '{name}'"));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        rest = parse_labels(after_brace, &mut labels)?;
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse::<f64>().map_err(|e| format!("bad value '{v}': {e}"))?,
    };
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().map_err(|e| format!("bad timestamp '{ts}': {e}"))?;
    }
    if fields.next().is_some() {
        return Err("more than a value and a timestamp after the labels".into());
    }
    Ok(Sample { name: name.to_string(), labels, value })
}

/// Reads `label="value"` pairs up to the closing brace; returns what follows it.
fn parse_labels<'a>(mut s: &'a str, labels: &mut BTreeMap<String, String>) -> Result<&'a str, String> {
    loop {
        if let Some(after) = s.strip_prefix('}') {
            return Ok(after);
        }
        let eq = s.find('=').ok_or("a label without '='")?;
        let key = &s[..eq];
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad label name '{key}'"));
        }
        let mut chars = s[eq + 1..].char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err(format!("label {key}: value not quoted"));
        }
        let mut value = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => value.push('\n'),
                    Some(c @ ('\\' | '"')) => value.push(c),
                    other => return Err(format!("label {key}: bad escape {other:?}")),
                },
                '"' => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = end.ok_or_else(|| format!("label {key}: value not closed"))?;
        if labels.insert(key.to_string(), value).is_some() {
            return Err(format!("label {key} given twice"));
        }
        s = &s[end..];
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_with_labels_escapes_and_histograms_are_read() {
        let text = "# HELP a_total Things\n# TYPE a_total counter\na_total{k=\"x \\\"y\\\"\",l=\"2\"} 3\n\
                    # HELP d_seconds Time\n# TYPE d_seconds histogram\nd_seconds_bucket{le=\"+Inf\"} 1\n\
                    d_seconds_sum 0.5\nd_seconds_count 1\n";
        let exp = check(text).unwrap_or_else(|p| panic!("{p:?}"));
        let a = exp.family("a_total").unwrap_or_else(|| panic!("a_total"));
        assert_eq!(a.samples[0].labels["k"], "x \"y\"");
        assert_eq!(a.sum(&[("l", "2")]), 3.0);
        assert_eq!(exp.family("d_seconds").map(|f| f.samples.len()), Some(3));
    }

    #[test]
    fn what_promtool_would_complain_about_is_reported() {
        for (text, expected) in [
            ("# HELP x Y\n# TYPE x counter\nx 1\n", "should end in _total"),
            ("# HELP x_total Y\n# TYPE x_total gauge\nx_total 1\n", "only counter names"),
            ("# HELP x_milliseconds Y\n# TYPE x_milliseconds gauge\nx_milliseconds 1\n", "base unit"),
            ("# HELP a:b Y\n# TYPE a:b gauge\na:b 1\n", "':'"),
            ("x 1\n", "no HELP and TYPE"),
            ("# HELP x \n# TYPE x gauge\nx 1\n", "no help text"),
            ("# HELP x Y\n# TYPE x gauge\nx{a=\"1\" 1\n", "line 3"),
            ("# HELP x Y\n# TYPE x gauge\nx one\n", "bad value"),
        ] {
            let problems = check(text).expect_err(text);
            assert!(problems.iter().any(|p| p.contains(expected)), "{text}: {problems:?}");
        }
    }
}
