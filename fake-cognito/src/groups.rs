//! Groups and membership. Membership lives on the user record (so one journal record per change)
//! and appears in new tokens as `cognito:groups`.

use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::Group;
use crate::paging::page;
use crate::params::Params;
use crate::persist::Record;
use crate::users::{user_json, user_record};

fn group_not_found() -> CognitoError {
    CognitoError::ResourceNotFound("Group not found.".into())
}

fn group_json(pool_id: &str, g: &Group) -> Value {
    let mut out = json!({
        "GroupName": g.name,
        "UserPoolId": pool_id,
        "CreationDate": g.created,
        "LastModifiedDate": g.modified,
    });
    if let Some(d) = &g.description {
        out["Description"] = json!(d);
    }
    if let Some(r) = &g.role_arn {
        out["RoleArn"] = json!(r);
    }
    if let Some(p) = g.precedence {
        out["Precedence"] = json!(p);
    }
    out
}

pub async fn create(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let now = app.clock.now_f64();
    let group = Group {
        name: p.str("GroupName")?.to_owned(),
        description: p.opt_str("Description").map(str::to_owned),
        role_arn: p.opt_str("RoleArn").map(str::to_owned),
        precedence: p.i64("Precedence"),
        created: now,
        modified: now,
    };
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        if pool.groups.contains_key(&group.name) {
            return Err(CognitoError::GroupExists(
                "A group with the name already exists.".into(),
            ));
        }
        pool.groups.insert(group.name.clone(), group.clone());
        recs.push(Record::PutGroup {
            pool_id: pool_id.clone(),
            group: group.clone(),
        });
        Ok(json!({ "Group": group_json(&pool_id, &group) }))
    })
    .await
}

pub fn get(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    let pool_id = p.str("UserPoolId")?;
    let pool = store.pool(pool_id)?;
    let g = pool
        .groups
        .get(p.str("GroupName")?)
        .ok_or_else(group_not_found)?;
    Ok(json!({ "Group": group_json(pool_id, g) }))
}

pub fn list(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    let pool_id = p.str("UserPoolId")?;
    let pool = store.pool(pool_id)?;
    let limit = p.i64("Limit").unwrap_or(60).clamp(1, 60) as usize;
    let (groups, next) = page(
        pool.groups.iter().map(|(k, g)| (k, group_json(pool_id, g))),
        p.opt_str("NextToken"),
        limit,
    );
    Ok(crate::paging::answer("Groups", groups, next, "NextToken"))
}

pub async fn update(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let name = p.str("GroupName")?.to_owned();
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        let g = pool.groups.get_mut(&name).ok_or_else(group_not_found)?;
        if let Some(d) = p.opt_str("Description") {
            g.description = Some(d.to_owned());
        }
        if let Some(r) = p.opt_str("RoleArn") {
            g.role_arn = Some(r.to_owned());
        }
        if let Some(n) = p.i64("Precedence") {
            g.precedence = Some(n);
        }
        g.modified = app.clock.now_f64();
        recs.push(Record::PutGroup {
            pool_id: pool_id.clone(),
            group: g.clone(),
        });
        Ok(json!({ "Group": group_json(&pool_id, g) }))
    })
    .await
}

pub async fn delete(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let name = p.str("GroupName")?.to_owned();
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        pool.groups.remove(&name).ok_or_else(group_not_found)?;
        for u in pool.users.values_mut() {
            u.groups.remove(&name);
        }
        recs.push(Record::DeleteGroup { pool_id, name });
        Ok(json!({}))
    })
    .await
}

async fn membership(app: &AppState, p: &Params, add: bool) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let name = p.str("Username")?.to_owned();
    let group = p.str("GroupName")?.to_owned();
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        if !pool.groups.contains_key(&group) {
            return Err(group_not_found());
        }
        let (key, user) = pool.user_mut(&name)?;
        let changed = if add {
            user.groups.insert(group)
        } else {
            user.groups.remove(&group)
        };
        if changed {
            recs.push(user_record(&pool_id, &key, user));
        }
        Ok(json!({}))
    })
    .await
}

pub async fn add_user(app: &AppState, p: &Params) -> Result<Value> {
    membership(app, p, true).await
}

pub async fn remove_user(app: &AppState, p: &Params) -> Result<Value> {
    membership(app, p, false).await
}

pub fn groups_for_user(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    let pool_id = p.str("UserPoolId")?;
    let pool = store.pool(pool_id)?;
    let user = pool.user(p.str("Username")?)?;
    let limit = p.i64("Limit").unwrap_or(60).clamp(1, 60) as usize;
    let (groups, next) = page(
        pool.groups
            .iter()
            .filter(|(k, _)| user.groups.contains(*k))
            .map(|(k, g)| (k, group_json(pool_id, g))),
        p.opt_str("NextToken"),
        limit,
    );
    Ok(crate::paging::answer("Groups", groups, next, "NextToken"))
}

pub fn users_in_group(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    let pool = store.pool(p.str("UserPoolId")?)?;
    let group = p.str("GroupName")?;
    if !pool.groups.contains_key(group) {
        return Err(group_not_found());
    }
    let limit = p.i64("Limit").unwrap_or(60).clamp(1, 60) as usize;
    let (users, next) = page(
        pool.users
            .iter()
            .filter(|(_, u)| u.groups.contains(group))
            .map(|(k, u)| (k, user_json(u, "Attributes", None))),
        p.opt_str("NextToken"),
        limit,
    );
    Ok(crate::paging::answer("Users", users, next, "NextToken"))
}
