//! `NextToken`/`PaginationToken` paging shared by every List operation.

/// Cursor pagination over sorted keys: the token is the last key of the previous page.
pub fn page<'a, T>(
    items: impl Iterator<Item = (&'a String, T)>,
    after: Option<&str>,
    limit: usize,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (k, v) in items {
        if after.is_some_and(|a| k.as_str() <= a) {
            continue;
        }
        if out.len() == limit {
            more = true;
            break;
        }
        last = Some(k.clone());
        out.push(v);
    }
    (out, if more { last } else { None })
}

/// A List answer: the page under `key`, and `token` (`NextToken` or `PaginationToken`) when more follow.
pub fn answer<T: serde::Serialize>(
    key: &str,
    items: Vec<T>,
    next: Option<String>,
    token: &str,
) -> serde_json::Value {
    let mut out = serde_json::json!({ key: items });
    if let Some(n) = next {
        out[token] = serde_json::json!(n);
    }
    out
}
