//! Everything the seed chooses, computed from the seed alone, with no service in sight.
//!
//! [`build`] returns the manifest with every service-assigned value (`endpoint`, `pool_id`,
//! `client_id`, `sub`, queue URLs, ARNs) still `null`; the groups fill those in. Each account,
//! its keys and its users draw from their own streams (`account/<i>`, `account/<i>/keys`,
//! `account/<i>/users`), each index from `index/<k>` and `index/<name>/…`, so changing one size
//! never reshuffles the others.

use std::collections::BTreeSet;

use crate::catalogue;
use crate::fixtures::{Fixtures, TableDef};
use crate::keys;
use crate::manifest::{
    Account, ApiKey, AppClient, Clients, Cognito, Index, Manifest, Moto, Named, Queue, Services,
    Table, User, VERSION,
};
use crate::rng::{ALNUM, DIGITS, LOWER_ALNUM, Stream};

/// How much data to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub accounts: usize,
    pub users_per_account: usize,
    /// Indexes in total, dealt round-robin to the accounts.
    pub indexes: usize,
    pub docs_per_index: usize,
}

impl Default for Sizes {
    /// Small enough to seed in well under a second.
    fn default() -> Self {
        Self {
            accounts: 3,
            users_per_account: 4,
            indexes: 2,
            docs_per_index: 200,
        }
    }
}

impl Sizes {
    /// The benchmark's data set: 50 accounts, 500 users, 5 indexes × 2,000 documents.
    pub fn standard() -> Self {
        Self {
            accounts: 50,
            users_per_account: 10,
            indexes: 5,
            docs_per_index: 2_000,
        }
    }
}

/// Inputs of the plan that are not service URLs.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    pub seed: u64,
    pub sizes: Sizes,
    pub table_prefix: &'a str,
    pub cell: &'a str,
    pub region: &'a str,
    pub encryption_secret: &'a str,
    pub services: Services,
}

/// Model every seeded index uses.
pub const MODEL: &str = "hf/e5-base-v2";
/// Cognito groups, in the order they are created.
pub const GROUPS: [&str; 3] = ["admin", "member", "viewer"];
/// How many sample document ids the manifest lists per index.
pub const SAMPLE_IDS: usize = 5;

/// The manifest before any service answered.
pub fn build(f: &Fixtures, input: &PlanInput<'_>) -> Manifest {
    let mut accounts = Vec::with_capacity(input.sizes.accounts);
    let mut users = Vec::new();
    let mut account_names = BTreeSet::new();
    let mut usernames = BTreeSet::new();
    for i in 0..input.sizes.accounts {
        let account = account(f, input, i, &mut account_names);
        let domain = format!("{}.example.com", slug(&account.name));
        users.extend(account_users(
            f,
            input,
            i,
            &account.account_id,
            &domain,
            &mut usernames,
        ));
        accounts.push(account);
    }
    deal_indexes(f, input, &mut accounts);
    let moto = moto_resources(f, input, &accounts, &users);
    Manifest {
        version: VERSION,
        seed: input.seed,
        table_prefix: input.table_prefix.to_owned(),
        cell: input.cell.to_owned(),
        region: input.region.to_owned(),
        services: input.services.clone(),
        skipped: skipped_targets(&input.services),
        accounts,
        cognito: cognito(input, users),
        moto,
    }
}

/// The targets without a URL, which the run skips and the manifest says so.
fn skipped_targets(services: &Services) -> Vec<String> {
    [
        ("cell", &services.cell_url),
        ("cognito", &services.cognito_url),
        ("moto", &services.moto_url),
    ]
    .into_iter()
    .filter(|(_, url)| url.is_none())
    .map(|(name, _)| name.to_owned())
    .collect()
}

/// Account `i` (stream `account/<i>`) with its API keys (stream `account/<i>/keys`) and no indexes
/// yet. A company name already taken gets the account's number appended.
fn account(
    f: &Fixtures,
    input: &PlanInput<'_>,
    i: usize,
    taken_names: &mut BTreeSet<String>,
) -> Account {
    let mut s = Stream::new(input.seed, &format!("account/{i}"));
    let account_id = s.uuid();
    let system_account_id = s.string(LOWER_ALNUM, 12);
    let plan = s.pick(&f.people.plans).clone();
    let mut name = format!(
        "{} {}",
        title_case(s.pick::<String>(&f.people.company_first)),
        title_case(s.pick::<String>(&f.people.company_second))
    );
    if !taken_names.insert(name.clone()) {
        name = format!("{name} {}", i + 1);
        taken_names.insert(name.clone());
    }
    let api_keys = api_keys(input, i, &system_account_id);
    Account {
        account_id,
        system_account_id,
        name,
        plan,
        api_keys,
        indexes: Vec::new(),
    }
}

/// Account `i`'s two keys: `default` (every scope) and `read-only`.
fn api_keys(input: &PlanInput<'_>, i: usize, system_account_id: &str) -> Vec<ApiKey> {
    let mut ks = Stream::new(input.seed, &format!("account/{i}/keys"));
    [
        ("default", vec!["read", "write", "admin"]),
        ("read-only", vec!["read"]),
    ]
    .into_iter()
    .map(|(key_name, scopes)| {
        let key_id = format!("key_{}", ks.string(LOWER_ALNUM, 16));
        let key = ks.string(ALNUM, 40);
        let encrypted = keys::encode(system_account_id, input.cell, &key, input.encryption_secret);
        ApiKey {
            key_id,
            name: key_name.to_owned(),
            key,
            scopes: scopes.into_iter().map(str::to_owned).collect(),
            encrypted,
        }
    })
    .collect()
}

/// Account `i`'s users (stream `account/<i>/users`): the first is an admin, every fourth a
/// viewer, the rest members. Usernames are unique over the whole plan.
fn account_users(
    f: &Fixtures,
    input: &PlanInput<'_>,
    i: usize,
    account_id: &str,
    domain: &str,
    usernames: &mut BTreeSet<String>,
) -> Vec<User> {
    let mut us = Stream::new(input.seed, &format!("account/{i}/users"));
    let mut users = Vec::with_capacity(input.sizes.users_per_account);
    for j in 0..input.sizes.users_per_account {
        let given = us.pick(&f.people.first_names).clone();
        let family = us.pick(&f.people.last_names).clone();
        let username = loop {
            let candidate = format!("{given}.{family}.{}", us.string(LOWER_ALNUM, 4));
            if usernames.insert(candidate.clone()) {
                break candidate;
            }
        };
        let password = format!(
            "{}-{}-{}",
            title_case(us.pick::<String>(&f.people.password_words)),
            us.pick(&f.people.password_words),
            us.string(DIGITS, 4)
        );
        let group = match j {
            0 => "admin",
            j if j % 4 == 3 => "viewer",
            _ => "member",
        };
        users.push(User {
            email: format!("{username}@{domain}"),
            username,
            password,
            given_name: title_case(&given),
            family_name: title_case(&family),
            user_id: us.uuid(),
            sub: None,
            groups: vec![group.to_owned()],
            account_id: account_id.to_owned(),
        });
    }
    users
}

/// Index `k` (stream `index/<k>`) goes to account `k mod n`, named after the owner and a catalogue
/// category.
fn deal_indexes(f: &Fixtures, input: &PlanInput<'_>, accounts: &mut [Account]) {
    let n = accounts.len();
    if n == 0 {
        return;
    }
    for k in 0..input.sizes.indexes {
        let mut s = Stream::new(input.seed, &format!("index/{k}"));
        let owner = &mut accounts[k % n];
        let category_no = s.below(f.catalogue.categories.len() as u64) as usize;
        let category = f.catalogue.categories[category_no].name.clone();
        let company = owner
            .name
            .split(' ')
            .next()
            .unwrap_or("shop")
            .to_lowercase();
        let name = format!("{}-{}-{k}", slug(&company), slug(&category));
        let sample_doc_ids = catalogue::doc_ids(
            input.seed,
            &name,
            input.sizes.docs_per_index.min(SAMPLE_IDS),
        );
        owner.indexes.push(Index {
            name,
            model: MODEL.to_owned(),
            category,
            endpoint: None,
            documents: input.sizes.docs_per_index,
            sample_doc_ids,
        });
    }
}

/// The AWS resources from the fixtures, names filled in with the table and bucket prefixes.
fn moto_resources(
    f: &Fixtures,
    input: &PlanInput<'_>,
    accounts: &[Account],
    users: &[User],
) -> Moto {
    let prefix = input.table_prefix;
    let bucket_prefix = bucket_prefix(prefix);
    let fill = |s: &str| {
        s.replace("{prefix}", prefix)
            .replace("{bucket_prefix}", &bucket_prefix)
    };
    let named = |name: &str| Named {
        name: fill(name),
        arn: None,
    };
    let items = crate::moto::records::items(f, accounts, users, input.cell, input.seed);
    let tables = f
        .tables
        .iter()
        .map(|t: &TableDef| Table {
            name: t.name_with(prefix),
            stream_view_type: t.stream_view_type().map(str::to_owned),
            items: items
                .iter()
                .find(|(base, _)| base == t.base_name())
                .map_or(0, |(_, v)| v.len()),
        })
        .collect();
    Moto {
        tables,
        buckets: f.moto.buckets.iter().map(|b| fill(b)).collect(),
        queues: f
            .moto
            .queues
            .iter()
            .map(|q| Queue {
                name: fill(&q.name),
                url: None,
            })
            .collect(),
        topics: f.moto.topics.iter().map(|t| named(t)).collect(),
        secrets: f.moto.secrets.iter().map(|s| fill(&s.name)).collect(),
        state_machines: f
            .moto
            .state_machines
            .iter()
            .map(|m| named(&m.name))
            .collect(),
        functions: Vec::new(),
    }
}

/// One user pool with a public and a confidential client, the groups, and every user.
fn cognito(input: &PlanInput<'_>, users: Vec<User>) -> Cognito {
    let pool_base = format!("{}hippodrome", input.table_prefix);
    let client = |suffix: &str| AppClient {
        name: format!("{pool_base}-{suffix}"),
        client_id: None,
        client_secret: None,
    };
    Cognito {
        pool_name: format!("{pool_base}-users"),
        pool_id: None,
        region: input.region.to_owned(),
        clients: Clients {
            public: client("public"),
            secret: client("confidential"),
        },
        groups: GROUPS.iter().map(|g| (*g).to_owned()).collect(),
        users,
    }
}

/// `Northwind` from `northwind`.
pub fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Lower-case, `[a-z0-9-]` only, no leading/trailing/double dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// S3 bucket names allow only `[a-z0-9.-]`: the table prefix, lower-cased and sanitised.
pub fn bucket_prefix(prefix: &str) -> String {
    prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
