//! fake-cognito (or any Cognito endpoint), through the official SDK: one user pool with custom
//! attributes linking users to accounts, an app client without and one with a secret, the groups,
//! and the users with permanent passwords.
//!
//! Pools and clients are found by name before anything is created, so reruns reuse them. Cognito
//! assigns pool ids, client ids, the client secret and every user's `sub`; the manifest records
//! what the service reports (`AdminGetUser` for existing users), which is stable for one stack.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, ExplicitAuthFlowsType, MessageActionType,
    SchemaAttributeType, StringAttributeConstraintsType, UserStatusType,
};

use crate::manifest::{Manifest, User};
use crate::moto::{describe, sdk_config};
use crate::{GroupReport, Progress, SeedConfig, SeedError, Tally, bounded, timed};

const GROUP: &str = "cognito";
const CONCURRENCY: usize = 16;
/// Custom attributes declared in the pool schema (`custom:<name>` on users).
pub const CUSTOM_ATTRIBUTES: [&str; 3] = ["account_id", "system_account_id", "user_id"];

/// What the service assigned.
pub struct Assigned {
    pub pool_id: String,
    pub public_client_id: String,
    pub secret_client_id: String,
    pub client_secret: Option<String>,
    /// One per user, in plan order.
    pub subs: Vec<String>,
}

fn err(resource: &str, e: String) -> SeedError {
    SeedError::new(GROUP, resource, e)
}

pub async fn seed(
    cfg: &SeedConfig,
    url: &str,
    plan: &Manifest,
    progress: &Progress<'_>,
) -> (Vec<GroupReport>, Option<Assigned>) {
    let client = Client::new(&sdk_config(url, &cfg.region));
    let (report, assigned) = timed(GROUP, progress, seed_all(&client, plan)).await;
    (vec![report], assigned)
}

async fn seed_all(client: &Client, plan: &Manifest) -> Result<(Tally, Assigned), SeedError> {
    let c = &plan.cognito;
    let mut tally = Tally::default();
    let (pool_id, created) = pool(client, &c.pool_name).await?;
    tally.count(created);
    let (public_client_id, _, created) =
        app_client(client, &pool_id, &c.clients.public.name, false).await?;
    tally.count(created);
    let (secret_client_id, client_secret, created) =
        app_client(client, &pool_id, &c.clients.secret.name, true).await?;
    tally.count(created);
    for g in &c.groups {
        let created = match client
            .create_group()
            .user_pool_id(&pool_id)
            .group_name(g)
            .description(format!("Hippodrome seed group `{g}`"))
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.code() == Some("GroupExistsException") => false,
            Err(e) => return Err(err(&format!("group {g}"), describe(&e))),
        };
        tally.count(created);
    }
    let system_ids: std::collections::BTreeMap<&str, &str> = plan
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.system_account_id.as_str()))
        .collect();
    let users: Vec<(bool, String)> = bounded(
        c.users
            .iter()
            .map(|u| {
                let system = system_ids.get(u.account_id.as_str()).copied().unwrap_or("");
                let pool_id = pool_id.as_str();
                async move {
                    user(client, pool_id, u, system)
                        .await
                        .map_err(|e| err(&format!("user {}", u.username), e))
                }
            })
            .collect(),
        CONCURRENCY,
    )
    .await?;
    for (created, _) in &users {
        tally.count(*created);
    }
    Ok((
        tally,
        Assigned {
            pool_id,
            public_client_id,
            secret_client_id,
            client_secret,
            subs: users.into_iter().map(|(_, sub)| sub).collect(),
        },
    ))
}

async fn pool(client: &Client, name: &str) -> Result<(String, bool), SeedError> {
    let mut pools = client
        .list_user_pools()
        .max_results(60)
        .into_paginator()
        .items()
        .send();
    while let Some(p) = pools
        .try_next()
        .await
        .map_err(|e| err("ListUserPools", describe(&e)))?
    {
        if p.name.as_deref() == Some(name)
            && let Some(id) = p.id
        {
            return Ok((id, false));
        }
    }
    let schema = CUSTOM_ATTRIBUTES
        .iter()
        .map(|a| {
            SchemaAttributeType::builder()
                .name(*a)
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .developer_only_attribute(false)
                .required(false)
                .string_attribute_constraints(
                    StringAttributeConstraintsType::builder()
                        .min_length("0")
                        .max_length("256")
                        .build(),
                )
                .build()
        })
        .collect();
    let resp = client
        .create_user_pool()
        .pool_name(name)
        .set_schema(Some(schema))
        .auto_verified_attributes(
            aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::Email,
        )
        .send()
        .await
        .map_err(|e| err(&format!("user pool {name}"), describe(&e)))?;
    let id = resp.user_pool.and_then(|p| p.id).ok_or_else(|| {
        err(
            &format!("user pool {name}"),
            "CreateUserPool returned no Id".into(),
        )
    })?;
    Ok((id, true))
}

/// Find or create an app client; returns (client id, secret, created).
async fn app_client(
    client: &Client,
    pool_id: &str,
    name: &str,
    with_secret: bool,
) -> Result<(String, Option<String>, bool), SeedError> {
    let e = |m: String| err(&format!("app client {name}"), m);
    let mut clients = client
        .list_user_pool_clients()
        .user_pool_id(pool_id)
        .max_results(60)
        .into_paginator()
        .items()
        .send();
    let mut found = None;
    while let Some(c) = clients.try_next().await.map_err(|x| e(describe(&x)))? {
        if c.client_name.as_deref() == Some(name) {
            found = c.client_id;
            break;
        }
    }
    if let Some(id) = found {
        let secret = if with_secret {
            client
                .describe_user_pool_client()
                .user_pool_id(pool_id)
                .client_id(&id)
                .send()
                .await
                .map_err(|x| e(describe(&x)))?
                .user_pool_client
                .and_then(|c| c.client_secret)
        } else {
            None
        };
        return Ok((id, secret, false));
    }
    let resp = client
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(name)
        .generate_secret(with_secret)
        .set_explicit_auth_flows(Some(vec![
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowUserSrpAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
            ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
        ]))
        .send()
        .await
        .map_err(|x| e(describe(&x)))?;
    let c = resp
        .user_pool_client
        .ok_or_else(|| e("CreateUserPoolClient returned no client".into()))?;
    let id = c
        .client_id
        .ok_or_else(|| e("CreateUserPoolClient returned no ClientId".into()))?;
    Ok((id, c.client_secret, true))
}

fn attr(name: &str, value: &str) -> Result<AttributeType, String> {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .map_err(|e| e.to_string())
}

fn sub_of(attrs: &[AttributeType]) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.name == "sub")
        .and_then(|a| a.value.clone())
}

/// Ensure one user; returns (created, sub).
async fn user(
    client: &Client,
    pool_id: &str,
    u: &User,
    system_account_id: &str,
) -> Result<(bool, String), String> {
    let attributes = [
        ("email", u.email.as_str()),
        ("email_verified", "true"),
        ("given_name", &u.given_name),
        ("family_name", &u.family_name),
        ("custom:account_id", &u.account_id),
        ("custom:system_account_id", system_account_id),
        ("custom:user_id", &u.user_id),
    ]
    .into_iter()
    .map(|(k, v)| attr(k, v))
    .collect::<Result<Vec<_>, _>>()?;
    let create = client
        .admin_create_user()
        .user_pool_id(pool_id)
        .username(&u.username)
        .message_action(MessageActionType::Suppress)
        .set_user_attributes(Some(attributes))
        .send()
        .await;
    let (created, sub, confirmed, groups_have) = match create {
        Ok(r) => {
            let sub = r.user.as_ref().and_then(|x| sub_of(x.attributes()));
            (true, sub, false, Vec::new())
        }
        Err(e) if e.code() == Some("UsernameExistsException") => {
            let got = client
                .admin_get_user()
                .user_pool_id(pool_id)
                .username(&u.username)
                .send()
                .await
                .map_err(|e| describe(&e))?;
            let confirmed = got.user_status == Some(UserStatusType::Confirmed);
            let groups = client
                .admin_list_groups_for_user()
                .user_pool_id(pool_id)
                .username(&u.username)
                .limit(60)
                .send()
                .await
                .map_err(|e| describe(&e))?
                .groups
                .unwrap_or_default()
                .into_iter()
                .filter_map(|g| g.group_name)
                .collect::<Vec<_>>();
            (false, sub_of(got.user_attributes()), confirmed, groups)
        }
        Err(e) => return Err(describe(&e)),
    };
    if !confirmed {
        client
            .admin_set_user_password()
            .user_pool_id(pool_id)
            .username(&u.username)
            .password(&u.password)
            .permanent(true)
            .send()
            .await
            .map_err(|e| format!("setting the password: {}", describe(&e)))?;
    }
    for g in u.groups.iter().filter(|g| !groups_have.contains(g)) {
        client
            .admin_add_user_to_group()
            .user_pool_id(pool_id)
            .username(&u.username)
            .group_name(g)
            .send()
            .await
            .map_err(|e| format!("adding to group {g}: {}", describe(&e)))?;
    }
    let sub = match sub {
        Some(s) => s,
        None => client
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(&u.username)
            .send()
            .await
            .map_err(|e| describe(&e))
            .map(|g| sub_of(g.user_attributes()))?
            .ok_or("the service reported no sub")?,
    };
    Ok((created, sub))
}
