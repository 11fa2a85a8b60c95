//! Tests of the parent module.
#![allow(clippy::unwrap_used)]
use super::*;
use crate::schema::MAILBOXES;
use serde_json::json;

const A: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const B: &str = "bbbbbbbb-0000-0000-0000-000000000002";
const C: &str = "cccccccc-0000-0000-0000-000000000003";

fn f(text: &str) -> Filter {
    parse(text, &MAILBOXES).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str) -> FilterError {
    parse(text, &MAILBOXES).unwrap_err()
}

fn row(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn m(text: &str, r: Value) -> bool {
    f(text).matches(&row(r))
}

fn keys(text: &str) -> Option<Vec<String>> {
    f(text).key_candidates("mailboxid")
}

#[test]
fn and_binds_tighter_than_or() {
    let r = json!({"name": "a", "versionnumber": 2});
    assert!(m("name eq 'a' or name eq 'b' and versionnumber eq 1", r.clone()));
    assert!(!m("(name eq 'a' or name eq 'b') and versionnumber eq 1", r.clone()));
    assert!(m("versionnumber eq 1 and name eq 'b' or name eq 'a'", r));
}

#[test]
fn not_binds_tighter_than_and() {
    let r = json!({"name": "b", "versionnumber": 2});
    assert!(!m("not name eq 'a' and versionnumber eq 1", r.clone()));
    assert!(m("not (name eq 'a' and versionnumber eq 1)", r.clone()));
    assert!(m("not(name eq 'a')", r.clone()));
    assert!(!m("not not name eq 'a'", r));
}

#[test]
fn whitespace_is_free() {
    let r = json!({"name": "a", "versionnumber": 1});
    assert!(m("  (  name   eq\t'a'  )and(versionnumber eq 1)  ", r));
}

#[test]
fn string_literal_with_escaped_quote() {
    assert!(m("name eq 'O''Brien'", json!({"name": "o'brien"})));
    assert!(!m("name eq 'O''Brien'", json!({"name": "OBrien"})));
    assert!(m("name eq ''", json!({"name": ""})));
}

#[test]
fn integer_literals_including_negative() {
    let r = json!({"versionnumber": -5});
    assert!(m("versionnumber eq -5", r.clone()));
    assert!(m("versionnumber lt 0", r.clone()));
    assert!(m("versionnumber ge -5", r.clone()));
    assert!(!m("versionnumber gt -5", r.clone()));
    assert!(m("versionnumber le -5", r.clone()));
    assert!(m("versionnumber ne 5", r));
    assert!(m("versionnumber gt 9999999999", json!({"versionnumber": 10_000_000_000_i64})));
}

#[test]
fn boolean_literals_and_bare_boolean_property() {
    let r = json!({"enabledforact": true, "enabledforincomingemail": false});
    assert!(m("enabledforact eq true", r.clone()));
    assert!(m("enabledforincomingemail eq false", r.clone()));
    assert!(m("enabledforact", r.clone()));
    assert!(!m("not enabledforact", r.clone()));
    assert!(m("enabledforact gt enabledforincomingemail", r.clone()));
    assert!(m("true", r.clone()));
    assert!(!m("false", r));
}

#[test]
fn null_literal_semantics() {
    let null = json!({"name": null});
    let missing = json!({});
    let set = json!({"name": "x"});
    assert!(m("name eq null", null.clone()));
    assert!(m("name eq null", missing.clone()));
    assert!(!m("name eq null", set.clone()));
    assert!(m("name ne null", set.clone()));
    assert!(!m("name ne null", missing.clone()));
    assert!(!m("name eq 'x'", missing.clone()));
    assert!(m("name ne 'x'", missing.clone()));
    assert!(!m("name gt 'a'", missing.clone()));
    assert!(!m("name lt 'z'", null));
    assert!(!m("name gt null", set));
    assert!(m("null eq _ownerid_value", missing));
}

#[test]
fn bare_guid_literal_any_case() {
    let r = json!({"mailboxid": A});
    assert!(m(&format!("mailboxid eq {}", A.to_uppercase()), r.clone()));
    assert!(m(&format!("{A} eq mailboxid"), r.clone()));
    assert!(m(&format!("mailboxid ne {B}"), r.clone()));
    assert!(m(&format!("mailboxid eq {A}"), json!({"mailboxid": A.to_uppercase()})));
}

#[test]
fn guid_ordering_follows_sql_server() {
    // SQL Server weighs the last group most, so the first-group difference loses.
    let low_last = "ffffffff-ffff-ffff-ffff-000000000000";
    let high_last = "00000000-0000-0000-0000-000000000001";
    assert!(m(&format!("mailboxid lt {high_last}"), json!({"mailboxid": low_last})));
    assert!(m(&format!("mailboxid gt {low_last}"), json!({"mailboxid": high_last})));
}

#[test]
fn datetime_literals_compare_instants() {
    let r = json!({"modifiedon": "2024-01-31T10:00:00Z"});
    assert!(m("modifiedon eq 2024-01-31T10:00:00Z", r.clone()));
    assert!(m("modifiedon eq 2024-01-31T10:00:00.000Z", r.clone()));
    assert!(m("modifiedon eq 2024-01-31T11:00:00+01:00", r.clone()));
    assert!(m("modifiedon eq 2024-01-31T10:00Z", r.clone()));
    assert!(m("modifiedon gt 2024-01-31T10:59:59+01:00", r.clone()));
    assert!(!m("modifiedon gt 2024-01-31T11:00:00.5+01:00", r.clone()));
    assert!(m("modifiedon lt 2024-01-31T10:00:00.001Z", r.clone()));
    assert!(m("modifiedon ge 2024-01-31", r.clone()));
    assert!(m("modifiedon lt 2024-02-01", r.clone()));
    assert!(!m("modifiedon eq 2024-01-31", r));
    assert!(m("modifiedon eq 2024-01-31", json!({"modifiedon": "2024-01-31T00:00:00Z"})));
    assert!(!m("modifiedon gt 2024-01-31", json!({"modifiedon": null})));
}

#[test]
fn bad_datetime_is_a_syntax_error() {
    assert!(matches!(err("modifiedon eq 2024-13-01"), FilterError::Syntax(_)));
    assert!(matches!(err("modifiedon eq 2024-01-31T25:00:00Z"), FilterError::Syntax(_)));
}

#[test]
fn in_on_key() {
    let text = format!(
        "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{}'])",
        B.to_uppercase()
    );
    assert!(m(&text, json!({"mailboxid": A})));
    assert!(m(&text, json!({"mailboxid": B})));
    assert!(!m(&text, json!({"mailboxid": C})));
    assert!(!m(&text, json!({})));
}

#[test]
fn not_in_on_key() {
    let text = format!(
        "Microsoft.Dynamics.CRM.NotIn( PropertyName = 'mailboxid' , PropertyValues = [ '{A}' , '{B}' ] )"
    );
    assert!(!m(&text, json!({"mailboxid": A})));
    assert!(m(&text, json!({"mailboxid": C})));
}

#[test]
fn in_and_not_in_on_int_column() {
    let quoted = "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['0','2'])";
    let bare = "Microsoft.Dynamics.CRM.In(PropertyValues=[0,2],PropertyName='statecode')";
    let not_in = "Microsoft.Dynamics.CRM.NotIn(PropertyName='statecode',PropertyValues=['0','2'])";
    for (v, inside) in [(0, true), (1, false), (2, true)] {
        let r = json!({"statecode": v});
        assert_eq!(m(quoted, r.clone()), inside);
        assert_eq!(m(bare, r.clone()), inside);
        assert_eq!(m(not_in, r), !inside);
    }
    assert_eq!(
        err("Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['x'])"),
        FilterError::BadLiteral("The value 'x' is not a valid Edm.Int32.".into())
    );
}

#[test]
fn in_on_string_column_ignores_case() {
    let text = "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['Alpha','beta'])";
    assert!(m(text, json!({"name": "ALPHA"})));
    assert!(!m(text, json!({"name": "gamma"})));
    assert!(!m("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[])", json!({})));
}

#[test]
fn in_with_bad_guid_is_bad_literal() {
    let e = err("Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['nope'])");
    assert_eq!(e, FilterError::BadLiteral(GUID_FORMAT.into()));
}

#[test]
fn in_accepts_lookup_attribute_name() {
    let text = format!("Microsoft.Dynamics.CRM.In(PropertyName='regardingobjectid',PropertyValues=['{A}'])");
    assert!(m(&text, json!({"_regardingobjectid_value": A})));
}

#[test]
fn in_errors() {
    assert_eq!(
        err("Microsoft.Dynamics.CRM.In(PropertyName='foo',PropertyValues=['1'])").to_string(),
        "Could not find a property named 'foo' on type 'Microsoft.Dynamics.CRM.mailbox'."
    );
    assert!(matches!(
        err("Microsoft.Dynamics.CRM.In(PropertyName='name')"),
        FilterError::Syntax(s) if s.contains("requires the parameters")
    ));
    assert!(matches!(
        err("Microsoft.Dynamics.CRM.In(Foo='name')"),
        FilterError::Syntax(s) if s.contains("no parameter named 'Foo'")
    ));
    assert!(matches!(
        err("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['a'"),
        FilterError::Syntax(_)
    ));
}

#[test]
fn quoted_guid_is_incompatible() {
    let e = err(&format!("mailboxid eq '{A}'"));
    assert_eq!(
        e.to_string(),
        "A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'."
    );
    let ops = [
        ("ne", "NotEqual"),
        ("gt", "GreaterThan"),
        ("ge", "GreaterThanOrEqual"),
        ("lt", "LessThan"),
        ("le", "LessThanOrEqual"),
    ];
    for (op, kind) in ops {
        assert_eq!(
            err(&format!("_ownerid_value {op} '{A}'")),
            FilterError::IncompatibleTypes {
                left: "Edm.Guid".into(),
                right: "Edm.String".into(),
                operator: kind.into()
            }
        );
    }
}

#[test]
fn other_type_mismatches() {
    let mismatch = |text: &str, l: &str, r: &str| {
        assert_eq!(
            err(text),
            FilterError::IncompatibleTypes { left: l.into(), right: r.into(), operator: "Equal".into() },
            "{text}"
        );
    };
    mismatch("statecode eq '0'", "Edm.Int32", "Edm.String");
    mismatch("name eq 1", "Edm.String", "Edm.Int32");
    mismatch("enabledforact eq 1", "Edm.Boolean", "Edm.Int32");
    mismatch("modifiedon eq 'yesterday'", "Edm.DateTimeOffset", "Edm.String");
    mismatch(&format!("name eq {A}"), "Edm.String", "Edm.Guid");
    mismatch("name eq enabledforact", "Edm.String", "Edm.Boolean");
    mismatch("'x' eq versionnumber", "Edm.String", "Edm.Int32");
    for ok in ["statecode eq null", "modifiedon ne null", "enabledforact eq null", "mailboxid eq null"] {
        f(ok);
    }
}

#[test]
fn unknown_column_message() {
    assert_eq!(
        err("foo eq 1").to_string(),
        "Could not find a property named 'foo' on type 'Microsoft.Dynamics.CRM.mailbox'."
    );
    assert_eq!(
        err("contains(foo,'x')"),
        FilterError::UnknownProperty { property: "foo".into(), entity: "mailbox".into() }
    );
    // Property names are case-sensitive, as in Dataverse.
    assert!(matches!(err("Name eq 'x'"), FilterError::UnknownProperty { .. }));
}

#[test]
fn syntax_error_messages() {
    assert_eq!(err("name eq").to_string(), "Expression expected at position 7 in 'name eq'.");
    assert_eq!(
        err("name eq 'x' and").to_string(),
        "Expression expected at position 15 in 'name eq 'x' and'."
    );
    assert_eq!(err("name eq 'x").to_string(), "Unterminated string literal at position 10 in 'name eq 'x'.");
    assert_eq!(err("(name eq 'x'").to_string(), "')' or operator expected at position 12 in '(name eq 'x''.");
    assert_eq!(err("name eq 'x' foo").to_string(), "Syntax error at position 12 in 'name eq 'x' foo'.");
    assert_eq!(err("name eq 'x')").to_string(), "Syntax error at position 11 in 'name eq 'x')'.");
    assert_eq!(
        err("name eq 'x' & 1").to_string(),
        "Syntax error: character '&' is not valid at position 12 in 'name eq 'x' & 1'."
    );
    assert_eq!(err("").to_string(), "Expression expected at position 0 in ''.");
    assert!(matches!(err("name EQ 'x'"), FilterError::Syntax(s) if s.contains("position 5")));
    assert!(matches!(err("name"), FilterError::Syntax(s) if s.contains("single boolean value")));
    assert!(matches!(err("versionnumber eq 1.5"), FilterError::Syntax(_)));
    assert!(matches!(err("versionnumber eq 99999999999999999999"), FilterError::Syntax(_)));
}

#[test]
fn unknown_function_is_named() {
    let e = err("tolower(name) eq 'x'").to_string();
    assert!(e.starts_with("An unknown function with name 'tolower' was found."), "{e}");
    let e = err("Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=3)");
    assert!(e.to_string().contains("'Microsoft.Dynamics.CRM.LastXDays'"));
}

#[test]
fn string_functions_ignore_case() {
    let r = json!({"name": "Shared Mailbox", "emailaddress": "Ops@Contoso.com"});
    assert!(m("contains(name,'MAILBOX')", r.clone()));
    assert!(m("startswith(name, 'shared')", r.clone()));
    assert!(m("endswith(emailaddress,'@contoso.COM')", r.clone()));
    assert!(!m("startswith(name,'mailbox')", r.clone()));
    assert!(!m("contains(officeappsdeploymenterror,'x')", r.clone()));
    assert!(m("name eq 'shared MAILBOX'", r.clone()));
    assert!(!m("name ne 'SHARED mailbox'", r.clone()));
    assert!(m("name gt 'SHARED'", r));
}

#[test]
fn string_functions_need_string_column_and_literal() {
    for text in ["contains(versionnumber,'1')", "contains(name,1)", "endswith('x',name)"] {
        assert!(
            matches!(err(text), FilterError::Syntax(s) if s.starts_with("No function signature")),
            "{text}"
        );
    }
}

#[test]
fn column_to_column_comparison() {
    assert!(m("name eq emailaddress", json!({"name": "X", "emailaddress": "x"})));
    assert!(!m("name eq emailaddress", json!({"name": "X", "emailaddress": "y"})));
}

#[test]
fn regarding_lookup() {
    let f = f(&format!("_regardingobjectid_value eq {}", A.to_uppercase()));
    assert!(f.matches(&row(json!({"_regardingobjectid_value": A}))));
    assert!(!f.matches(&row(json!({"_regardingobjectid_value": B}))));
    assert!(!f.matches(&row(json!({"_regardingobjectid_value": null}))));
    assert_eq!(f.key_candidates("mailboxid"), None);
    assert_eq!(f.key_candidates("_regardingobjectid_value"), Some(vec![A.to_string()]));
}

#[test]
fn key_candidates_for_eq_and_in() {
    assert_eq!(keys(&format!("mailboxid eq {}", A.to_uppercase())), Some(vec![A.into()]));
    assert_eq!(keys(&format!("{A} eq mailboxid")), Some(vec![A.into()]));
    let text = format!(
        "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{B}','{}'])",
        A.to_uppercase()
    );
    assert_eq!(keys(&text), Some(vec![A.into(), B.into()]));
    assert_eq!(keys("false"), Some(vec![]));
}

#[test]
fn key_candidates_for_or_and_and() {
    assert_eq!(
        keys(&format!("mailboxid eq {A} or mailboxid eq {B} or mailboxid eq {A}")),
        Some(vec![A.into(), B.into()])
    );
    assert_eq!(
        keys(&format!("(mailboxid eq {A} or mailboxid eq {B}) and statecode eq 0")),
        Some(vec![A.into(), B.into()])
    );
    assert_eq!(keys(&format!("name eq 'x' and mailboxid eq {B}")), Some(vec![B.into()]));
    assert_eq!(
        keys(&format!(
            "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{B}']) and mailboxid eq {B}"
        )),
        Some(vec![B.into()])
    );
    assert_eq!(keys(&format!("mailboxid eq {A} and mailboxid eq {B}")), Some(vec![]));
}

#[test]
fn key_candidates_none_when_unbounded() {
    for text in [
        "name eq 'x'".to_string(),
        format!("mailboxid ne {A}"),
        format!("mailboxid gt {A}"),
        format!("not mailboxid eq {A}"),
        format!("mailboxid eq {A} or name eq 'x'"),
        format!("_ownerid_value eq {A}"),
        "mailboxid eq null".to_string(),
        format!("Microsoft.Dynamics.CRM.NotIn(PropertyName='mailboxid',PropertyValues=['{A}'])"),
        "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['0'])".to_string(),
    ] {
        assert_eq!(keys(&text), None, "{text}");
    }
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let deep = format!("{}name eq 'x'{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(err(&deep), FilterError::Syntax(_)));
    let nots = format!("{}enabledforact", "not ".repeat(10_000));
    assert!(matches!(err(&nots), FilterError::Syntax(_)));
    let shallow = format!("{}name eq 'x'{}", "(".repeat(50), ")".repeat(50));
    assert!(m(&shallow, json!({"name": "X"})));
}

#[test]
fn prefixes_of_valid_filters_never_panic() {
    let valid = [
        format!(
            "(name eq 'a''b' or not startswith(emailaddress,'x')) and mailboxid ne {A} and modifiedon ge 2024-01-31T10:00:00.5+01:00"
        ),
        format!(
            "Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=['{A}','{B}']) or Microsoft.Dynamics.CRM.NotIn(PropertyName='statecode',PropertyValues=['0',1])"
        ),
    ];
    let r = row(json!({"name": "a'b", "mailboxid": B, "statecode": 1}));
    for text in &valid {
        assert!(parse(text, &MAILBOXES).is_ok(), "{text}");
        for (cut, _) in text.char_indices() {
            if let Ok(f) = parse(&text[..cut], &MAILBOXES) {
                f.matches(&r);
                f.key_candidates("mailboxid");
            }
        }
    }
}

/// A deterministic pseudo-random stream (an LCG), so the property tests need no extra crates.
fn lcg(mut seed: u64) -> impl FnMut() -> usize {
    move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    }
}

#[test]
fn random_input_never_panics() {
    const PIECES: [&str; 32] = [
        "name",
        "mailboxid",
        "statecode",
        "modifiedon",
        "enabledforact",
        " eq ",
        " ne ",
        " gt ",
        " and ",
        " or ",
        "not ",
        "(",
        ")",
        "'",
        "''",
        ",",
        "=",
        "[",
        "]",
        "null",
        "true",
        "-",
        "7",
        "2024-01-31",
        "T10:00:00Z",
        A,
        "contains(",
        "Microsoft.Dynamics.CRM.In(",
        "PropertyName=",
        "PropertyValues=",
        "é",
        " ",
    ];
    let mut next = lcg(0x2545_f491_4f6c_dd1d);
    let r = row(json!({"name": "x", "statecode": 0, "mailboxid": A, "enabledforact": true}));
    for _ in 0..600 {
        let mut text = String::new();
        for _ in 0..next() % 12 {
            if next().is_multiple_of(5) {
                text.push(char::from(b' ' + (next() % 95) as u8));
            } else {
                text.push_str(PIECES[next() % PIECES.len()]);
            }
        }
        match parse(&text, &MAILBOXES) {
            Ok(f) => {
                f.matches(&r);
                f.key_candidates("mailboxid");
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

fn random_filter(next: &mut impl FnMut() -> usize, depth: usize) -> String {
    const ATOMS: [&str; 8] = [
        "name eq 'x'",
        "statecode ne 1",
        "contains(name,'X')",
        "modifiedon lt 2024-01-31T10:00:00+01:00",
        "enabledforact",
        "_ownerid_value eq null",
        "mailboxid eq aaaaaaaa-0000-0000-0000-000000000001",
        "Microsoft.Dynamics.CRM.In(PropertyName='statecode',PropertyValues=['0',2])",
    ];
    match if depth == 0 { 0 } else { next() % 4 } {
        0 => ATOMS[next() % ATOMS.len()].to_string(),
        1 => format!("not ({})", random_filter(next, depth - 1)),
        2 => format!("({}) and {}", random_filter(next, depth - 1), random_filter(next, depth - 1)),
        _ => format!("{} or ({})", random_filter(next, depth - 1), random_filter(next, depth - 1)),
    }
}

#[test]
fn generated_filters_parse_and_their_mutants_never_panic() {
    let mut next = lcg(42);
    let r = row(json!({"name": "x", "statecode": 2, "mailboxid": A, "enabledforact": false}));
    for _ in 0..300 {
        let text = random_filter(&mut next, 4);
        let f = parse(&text, &MAILBOXES).unwrap_or_else(|e| panic!("{text}: {e}"));
        f.matches(&r);
        f.key_candidates("mailboxid");
        let mut chars: Vec<char> = text.chars().collect();
        let at = next() % chars.len();
        match next() % 3 {
            0 => drop(chars.remove(at)),
            1 => chars.insert(at, char::from(b' ' + (next() % 95) as u8)),
            _ => chars.truncate(at),
        }
        let mutant: String = chars.into_iter().collect();
        if let Ok(f) = parse(&mutant, &MAILBOXES) {
            f.matches(&r);
        }
    }
}
