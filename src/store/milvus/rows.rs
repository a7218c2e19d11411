//! What Milvus rows and filter expressions look like to simsum, for the reader and the writer
//! alike: fields read out of the JSON rows the REST API answers with (keys arrive as strings, a
//! missing field reads as empty), the quoted literals and lists filter expressions are written
//! with, and the placeholder vector of the collections that only hold facts.

use serde_json::Value;

/// The dimension of the placeholder vector in the documents and meta collections (Milvus
/// collections need a vector field).
pub(super) const AUX_DIM: usize = 2;
/// The placeholder vector of every documents and meta row.
pub(super) const AUX_VECTOR: [f32; AUX_DIM] = [1.0, 0.0];

/// Milvus returns 64-bit keys as strings in JSON (and accepts numbers).
pub(super) fn parse_key(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// A row's key (`pk`).
pub(super) fn key(row: &Value) -> Option<u64> {
    row.get("pk").and_then(parse_key)
}

/// The keys of rows (rows without one are skipped).
pub(super) fn keys(rows: &[Value]) -> Vec<u64> {
    rows.iter().filter_map(key).collect()
}

/// A string field ("" when missing).
pub(super) fn s(row: &Value, field: &str) -> String {
    row.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// An integer field (-1 when missing).
pub(super) fn int(row: &Value, field: &str) -> i64 {
    row.get(field).and_then(Value::as_i64).unwrap_or(-1)
}

/// The vector field `vec` (empty when missing).
pub(super) fn vector(row: &Value) -> Vec<f32> {
    row.get("vec")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(0.0) as f32).collect())
        .unwrap_or_default()
}

/// Quotes a string for a Milvus filter expression.
pub(super) fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A list of numbers for a filter expression (`[1,2]`).
pub(super) fn list<T: std::fmt::Display>(xs: &[T]) -> String {
    let parts: Vec<String> = xs.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// A list of quoted strings for a filter expression (`["a","b"]`).
pub(super) fn str_list(xs: &[String]) -> String {
    let parts: Vec<String> = xs.iter().map(|x| lit(x)).collect();
    format!("[{}]", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_read_as_strings_or_numbers_and_literals_are_escaped() {
        assert_eq!(key(&json!({"pk": "18446744073709551615"})), Some(u64::MAX));
        assert_eq!(key(&json!({"pk": 7})), Some(7));
        assert_eq!(
            keys(&[json!({"pk": "1"}), json!({}), json!({"pk": 2})]),
            [1, 2]
        );
        assert_eq!(lit(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(str_list(&["x".into(), "y".into()]), r#"["x","y"]"#);
        assert_eq!(list(&[1u64, 2]), "[1,2]");
        assert_eq!(
            json!({"vec": AUX_VECTOR}).to_string(),
            r#"{"vec":[1.0,0.0]}"#
        );
    }
}
