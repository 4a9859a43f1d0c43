//! The manifest (`.hippodrome/seed.json`) and the env file (`.hippodrome/.env.e2e`).
//!
//! Field order is the struct order below and is part of the contract: suites, the dashboard
//! (`GET /api/seed`) and `orchestrator smoke` read these files. Values a service assigns (index
//! endpoints, Cognito pool/client ids, client secret, user `sub`s, queue URLs, ARNs) are `null` when
//! the group was skipped; everything else comes from the seed alone.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Manifest format version.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub seed: u64,
    pub table_prefix: String,
    pub cell: String,
    pub region: String,
    pub services: Services,
    /// Groups not seeded because their service URL was not given (`cell`, `cognito`, `moto`).
    pub skipped: Vec<String>,
    pub accounts: Vec<Account>,
    pub cognito: Cognito,
    pub moto: Moto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Services {
    pub cell_url: Option<String>,
    pub cognito_url: Option<String>,
    pub moto_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub system_account_id: String,
    pub name: String,
    pub plan: String,
    pub api_keys: Vec<ApiKey>,
    pub indexes: Vec<Index>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub key_id: String,
    pub name: String,
    /// The plain key, registered with fake-cell and sent as `x-api-key`.
    pub key: String,
    pub scopes: Vec<String>,
    /// `{system_account_id, cell, token = key}` sealed with the encryption secret (see `keys`).
    pub encrypted: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub model: String,
    /// Main catalogue category of the documents.
    pub category: String,
    /// `marqoEndpoint` as fake-cell reports it.
    pub endpoint: Option<String>,
    pub documents: usize,
    pub sample_doc_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cognito {
    pub pool_name: String,
    pub pool_id: Option<String>,
    pub region: String,
    pub clients: Clients,
    pub groups: Vec<String>,
    pub users: Vec<User>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clients {
    pub public: AppClient,
    pub secret: AppClient,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppClient {
    pub name: String,
    pub client_id: Option<String>,
    /// Only for the client made with `GenerateSecret`.
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub password: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// Chosen by the seed; stored as `custom:user_id` and in the memberships table.
    pub user_id: String,
    /// Assigned by Cognito (`AdminGetUser`), so it is stable for one stack, not across stacks.
    pub sub: Option<String>,
    pub groups: Vec<String>,
    pub account_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moto {
    pub tables: Vec<Table>,
    pub buckets: Vec<String>,
    pub queues: Vec<Queue>,
    pub topics: Vec<Named>,
    pub secrets: Vec<String>,
    pub state_machines: Vec<Named>,
    /// The `[[lambdas]]` functions the seed created in moto.
    #[serde(default)]
    pub functions: Vec<Named>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub stream_view_type: Option<String>,
    /// Records the seed keeps in the table.
    pub items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub name: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    pub arn: Option<String>,
}

impl Manifest {
    /// Pretty JSON with a trailing newline: the exact bytes of `seed.json`.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The `.env.e2e` text: `KEY=VALUE` lines, unquoted (no value the seed makes needs quoting).
    /// A value that does not exist because its group was skipped is written as a comment, so
    /// sourcing the file never sets an empty `AWS_ENDPOINT_URL` or the like.
    pub fn env_file(&self, manifest_path: &Path) -> String {
        let mut out =
            String::from("# Written by the Hippodrome seed; regenerated on every seed run.\n");
        for (k, v) in self.env_vars(manifest_path) {
            match v {
                Some(v) => out.push_str(&format!("{k}={v}\n")),
                None => out.push_str(&format!("# {k} is unset: its service was not seeded\n")),
            }
        }
        out
    }

    /// The variables of `.env.e2e`, in order; `None` where the group was skipped. Seed hooks get
    /// the same set in their environment.
    pub fn env_vars(&self, manifest_path: &Path) -> Vec<(&'static str, Option<String>)> {
        let first_account = self.accounts.first();
        let first_key = first_account
            .and_then(|a| a.api_keys.first())
            .map(|k| k.key.clone());
        let first_user = first_account.and_then(|a| {
            self.cognito
                .users
                .iter()
                .find(|u| u.account_id == a.account_id)
        });
        let moto = self.services.moto_url.clone();
        vec![
            ("ENVIRONMENT", Some("hippodrome".into())),
            ("HIPPODROME_RANDOM_SEED", Some(self.seed.to_string())),
            ("HIPPODROME_CELL", Some(self.cell.clone())),
            ("HIPPODROME_CELL_URL", self.services.cell_url.clone()),
            ("HIPPODROME_CELL_API_KEY", first_key),
            ("HIPPODROME_COGNITO_URL", self.services.cognito_url.clone()),
            ("HIPPODROME_COGNITO_POOL_ID", self.cognito.pool_id.clone()),
            (
                "HIPPODROME_COGNITO_CLIENT_ID",
                self.cognito.clients.public.client_id.clone(),
            ),
            (
                "HIPPODROME_E2E_USERNAME",
                first_user.map(|u| u.username.clone()),
            ),
            (
                "HIPPODROME_E2E_PASSWORD",
                first_user.map(|u| u.password.clone()),
            ),
            ("HIPPODROME_MOTO_URL", moto.clone()),
            ("AWS_ENDPOINT_URL", moto),
            ("AWS_ACCESS_KEY_ID", Some("testing".into())),
            ("AWS_SECRET_ACCESS_KEY", Some("testing".into())),
            ("AWS_DEFAULT_REGION", Some(self.region.clone())),
            ("HIPPODROME_TABLE_PREFIX", Some(self.table_prefix.clone())),
            (
                "HIPPODROME_SEED_MANIFEST",
                Some(manifest_path.display().to_string()),
            ),
        ]
    }
}
