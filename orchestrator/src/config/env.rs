//! The environment every service gets, and the `{template}` expansion used in `hippodrome.toml`.
//!
//! Services find each other only through these variables, so a team's code runs unchanged against
//! the local stack: dummy AWS credentials and `AWS_ENDPOINT_URL` point the AWS SDKs at moto, the
//! cell and Cognito URLs point at our fakes, and one variable per DynamoDB table carries the prefix.

use std::collections::BTreeMap;

use serde_json::json;

/// Values templates and injected variables are built from.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub port: Option<u16>,
    pub cell: String,
    pub cell_url: String,
    pub staging_cell_url: Option<String>,
    pub moto_url: String,
    pub cognito_url: String,
    pub router_url: String,
    pub dashboard_url: String,
    pub search_proxy_url: String,
    pub table_prefix: String,
    pub project_root: String,
    pub seed: u64,
    pub encryption_secret: String,
    pub region: String,
    pub cognito_pool_id: Option<String>,
    pub cognito_client_id: Option<String>,
    /// DynamoDB table suffixes (e.g. `EcomIndexSettingsTable`), each injected with the prefix.
    pub tables: Vec<String>,
}

/// Expand `{name}` placeholders; an unknown placeholder is an error naming it.
pub fn expand(template: &str, ctx: &Context) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let key = &after[..end];
        let value = match key {
            "port" => ctx
                .port
                .map(|p| p.to_string())
                .ok_or("{port} used by a service without a port")?,
            "cell_url" => ctx.cell_url.clone(),
            "moto_url" => ctx.moto_url.clone(),
            "cognito_url" => ctx.cognito_url.clone(),
            "router_url" => ctx.router_url.clone(),
            "dashboard_url" => ctx.dashboard_url.clone(),
            "search_proxy_url" => ctx.search_proxy_url.clone(),
            "table_prefix" => ctx.table_prefix.clone(),
            "project_root" => ctx.project_root.clone(),
            "seed" => ctx.seed.to_string(),
            "region" => ctx.region.clone(),
            "cognito_pool_id" => ctx.cognito_pool_id.clone().unwrap_or_default(),
            "cognito_client_id" => ctx.cognito_client_id.clone().unwrap_or_default(),
            other => return Err(format!("unknown template {{{other}}}")),
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The variables injected into every service (a service's own `env` entries override them).
pub fn injected(ctx: &Context) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    set("AWS_ACCESS_KEY_ID", "testing".into());
    set("AWS_SECRET_ACCESS_KEY", "testing".into());
    set("AWS_SESSION_TOKEN", "testing".into());
    set("AWS_DEFAULT_REGION", ctx.region.clone());
    set("AWS_REGION", ctx.region.clone());
    set("AWS_ENDPOINT_URL", ctx.moto_url.clone());
    set("CONTROL_PLANE_URL_OVERRIDE", ctx.cell_url.clone());
    set("CONTROLLER_CELL", ctx.cell.clone());
    set("DEBUG", "true".into());
    set("SECRET_KEY", "hippodrome-local-only-not-a-secret".into());
    let mut cells = serde_json::Map::new();
    cells.insert(ctx.cell.clone(), json!({ "url": ctx.cell_url }));
    if ctx.cell == "local"
        && let Some(staging) = &ctx.staging_cell_url
    {
        cells.insert("staging".into(), json!({ "url": staging }));
    }
    set(
        "DATA_PLANE_CELLS",
        serde_json::Value::Object(cells).to_string(),
    );
    set("MARQO_BASE_URL", ctx.cell_url.clone());
    set("MARQO_URL", ctx.cell_url.clone());
    set("SEARCH_PROXY_URL", ctx.search_proxy_url.clone());
    set("COGNITO_ENDPOINT", ctx.cognito_url.clone());
    set("COGNITO_URL", ctx.cognito_url.clone());
    if let Some(pool) = &ctx.cognito_pool_id {
        set("COGNITO_USER_POOL_ID", pool.clone());
    }
    if let Some(client) = &ctx.cognito_client_id {
        set("COGNITO_CLIENT_ID", client.clone());
    }
    set("WEBHOOK_ROUTER_URL", ctx.router_url.clone());
    set("HIPPODROME_RANDOM_SEED", ctx.seed.to_string());
    set(
        "HIPPODROME_ENCRYPTION_SECRET",
        ctx.encryption_secret.clone(),
    );
    set("MARQO_API_KEY_SECRET", ctx.encryption_secret.clone());
    set("TABLE_PREFIX", ctx.table_prefix.clone());
    set("ENVIRONMENT", "hippodrome".into());
    for table in &ctx.tables {
        set(
            &table_env_name(table),
            format!("{}{}", ctx.table_prefix, table),
        );
    }
    env
}

/// `EcomIndexSettingsTable` → `ECOM_INDEX_SETTINGS_TABLE`.
pub fn table_env_name(suffix: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in suffix.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    if !out.ends_with("_TABLE") && !out.ends_with("TABLE") {
        out.push_str("_TABLE");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            port: Some(9002),
            cell: "local".into(),
            cell_url: "http://127.0.0.1:9001".into(),
            staging_cell_url: Some("https://staging".into()),
            table_prefix: "dev-main-".into(),
            tables: vec!["EcomIndexSettingsTable".into()],
            region: "us-east-1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn templates_expand_and_unknown_ones_fail() {
        assert_eq!(
            expand("127.0.0.1:{port} {cell_url}", &ctx()).unwrap(),
            "127.0.0.1:9002 http://127.0.0.1:9001"
        );
        assert!(expand("{nope}", &ctx()).unwrap_err().contains("nope"));
        assert_eq!(expand("a{b", &ctx()).unwrap(), "a{b");
    }

    #[test]
    fn injected_env_has_credentials_cells_and_tables() {
        let env = injected(&ctx());
        assert_eq!(env["AWS_ACCESS_KEY_ID"], "testing");
        assert_eq!(
            env["ECOM_INDEX_SETTINGS_TABLE"],
            "dev-main-EcomIndexSettingsTable"
        );
        let cells: serde_json::Value = serde_json::from_str(&env["DATA_PLANE_CELLS"]).unwrap();
        assert_eq!(cells["local"]["url"], "http://127.0.0.1:9001");
        assert_eq!(cells["staging"]["url"], "https://staging");
    }
}
