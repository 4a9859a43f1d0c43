//! User pool domains: one prefix domain (`<prefix>.auth.<region>.amazoncognito.com`) and one
//! custom domain (`CustomDomainConfig` with an ACM certificate) per pool, each name unique across
//! all pools. Stored in the pool's meta (`domain`, `custom_domain`, `domain_details`), so
//! deleting a pool frees its names and a restart keeps them.

use serde_json::{Value, json};

use crate::app::AppState;
use crate::constraints::{invalid, length};
use crate::error::{CognitoError, Result};
use crate::model::PoolMeta;
use crate::params::Params;
use crate::persist::Record;
use crate::pools::account_of;

const DOMAIN_PATTERN: &str = r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$";

/// AWS refuses prefixes containing its own names.
const RESERVED: &[&str] = &["aws", "amazon", "cognito"];

/// One label of `DomainType`'s pattern: lowercase letters, digits, inner hyphens.
fn label_ok(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

fn pattern_error(domain: &str) -> CognitoError {
    invalid(
        domain,
        "domain",
        &format!("Member must satisfy regular expression pattern: {DOMAIN_PATTERN}"),
    )
}

/// A prefix: one label of the model's pattern, without a reserved word.
fn check_prefix(domain: &str) -> Result<()> {
    length(domain, "domain", 1, 63)?;
    if !label_ok(domain) {
        return Err(pattern_error(domain));
    }
    if let Some(w) = RESERVED.iter().find(|w| domain.contains(*w)) {
        return Err(CognitoError::InvalidParameter(format!(
            "Domain cannot contain reserved word: {w}"
        )));
    }
    Ok(())
}

/// A custom domain: a fully-qualified name (at least two labels, each of the pattern's shape).
fn check_custom(domain: &str) -> Result<()> {
    length(domain, "domain", 1, 253)?;
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err(CognitoError::InvalidParameter(format!(
            "The custom domain {domain} is not a valid fully-qualified domain name."
        )));
    }
    Ok(())
}

/// `CustomDomainConfig`: `CertificateArn` required and shaped like an ARN (`ArnType`, 20–2048).
fn custom_config(v: &Value) -> Result<Value> {
    let arn =
        crate::constraints::string(v.get("CertificateArn"), "customDomainConfig.certificateArn")?;
    length(arn, "customDomainConfig.certificateArn", 20, 2048)?;
    if !arn.starts_with("arn:") || arn.split(':').count() < 6 {
        return Err(invalid(
            arn,
            "customDomainConfig.certificateArn",
            r"Member must satisfy regular expression pattern: arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?",
        ));
    }
    let mut out = json!({ "CertificateArn": arn });
    if let Some(sp) = v.get("SecurityPolicy").and_then(Value::as_str) {
        out["SecurityPolicy"] = json!(sp);
    }
    Ok(out)
}

/// `ManagedLoginVersion`: 1 (classic hosted UI) or 2 (managed login).
fn login_version(p: &Params) -> Result<Option<i64>> {
    match p.i64("ManagedLoginVersion") {
        None => Ok(None),
        Some(v @ (1 | 2)) => Ok(Some(v)),
        Some(v) => Err(CognitoError::InvalidParameter(format!(
            "ManagedLoginVersion must be 1 or 2, not {v}."
        ))),
    }
}

/// A stable CloudFront-like host per domain name (real ones are random; stable keeps tests simple).
fn cloudfront(domain: &str) -> String {
    let h = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        domain.as_bytes(),
    ));
    format!("d{}.cloudfront.net", &h[..13])
}

fn owner<'a>(store: &'a crate::model::Store, domain: &str) -> Option<&'a PoolMeta> {
    store
        .pools
        .values()
        .map(|p| &p.meta)
        .find(|m| m.domain.as_deref() == Some(domain) || m.custom_domain.as_deref() == Some(domain))
}

pub async fn create(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let domain = p.str("Domain")?.to_owned();
    let config = p.get("CustomDomainConfig").map(custom_config).transpose()?;
    match config {
        Some(_) => check_custom(&domain)?,
        None => check_prefix(&domain)?,
    }
    let version = login_version(p)?.unwrap_or(1);
    let cf = cloudfront(&domain);
    app.commit(|store, recs| {
        store.pool(&pool_id)?;
        if owner(store, &domain).is_some() {
            return Err(CognitoError::InvalidParameter(
                "Domain already exists.".into(),
            ));
        }
        let m = &mut store.pool_mut(&pool_id)?.meta;
        let slot = if config.is_some() {
            &mut m.custom_domain
        } else {
            &mut m.domain
        };
        if slot.is_some() {
            return Err(CognitoError::InvalidParameter(format!(
                "User pool {pool_id} already has a {} domain configured.",
                if config.is_some() { "custom" } else { "prefix" }
            )));
        }
        *slot = Some(domain.clone());
        let mut details = json!({"ManagedLoginVersion": version, "CloudFrontDistribution": cf});
        if let Some(c) = &config {
            details["CustomDomainConfig"] = c.clone();
        }
        m.domain_details.insert(domain, details);
        recs.push(Record::PutPool { meta: m.clone() });
        let mut out = json!({ "ManagedLoginVersion": version });
        if config.is_some() {
            out["CloudFrontDomain"] = json!(cf);
        }
        Ok(out)
    })
    .await
}

/// `DescribeUserPoolDomain`: an unknown domain answers an empty `DomainDescription`, as AWS does.
pub fn describe(app: &AppState, p: &Params) -> Result<Value> {
    let domain = p.str("Domain")?;
    let store = app.store.read();
    let Some(m) = owner(&store, domain) else {
        return Ok(json!({"DomainDescription": {}}));
    };
    let details = m.domain_details.get(domain).cloned().unwrap_or_default();
    let mut out = json!({
        "UserPoolId": m.id, "AWSAccountId": account_of(m), "Domain": domain,
        "S3Bucket": format!("aws-cognito-prod-{}-assets", m.region),
        "CloudFrontDistribution": details.get("CloudFrontDistribution").cloned().unwrap_or_else(|| json!(cloudfront(domain))),
        "Version": "20130630", "Status": "ACTIVE",
        "ManagedLoginVersion": details.get("ManagedLoginVersion").cloned().unwrap_or(json!(1)),
    });
    if let Some(c) = details.get("CustomDomainConfig") {
        out["CustomDomainConfig"] = c.clone();
    }
    // Not an AWS member (SDKs skip unknown members): where fake-cognito serves this domain's
    // hosted UI, since `https://<domain>.auth.<region>.amazoncognito.com` is not reachable.
    out["HostedUIUrl"] = json!(format!("{}/domain/{domain}", app.public_url()));
    Ok(json!({ "DomainDescription": out }))
}

/// The error AWS gives when the domain is not this pool's.
fn no_such() -> CognitoError {
    CognitoError::InvalidParameter("No such domain or user pool exists.".into())
}

/// `UpdateUserPoolDomain`: a new certificate (custom domains only) and/or `ManagedLoginVersion`.
pub async fn update(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let domain = p.str("Domain")?.to_owned();
    let config = p.get("CustomDomainConfig").map(custom_config).transpose()?;
    let version = login_version(p)?;
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&pool_id)?.meta;
        let custom = m.custom_domain.as_deref() == Some(domain.as_str());
        if !custom && m.domain.as_deref() != Some(domain.as_str()) {
            return Err(no_such());
        }
        if config.is_some() && !custom {
            return Err(CognitoError::InvalidParameter(
                "CustomDomainConfig can only be updated for a custom domain.".into(),
            ));
        }
        let details = m.domain_details.entry(domain.clone()).or_insert_with(
            || json!({"ManagedLoginVersion": 1, "CloudFrontDistribution": cloudfront(&domain)}),
        );
        if let Some(c) = config {
            details["CustomDomainConfig"] = c;
        }
        if let Some(v) = version {
            details["ManagedLoginVersion"] = json!(v);
        }
        let mut out = json!({ "ManagedLoginVersion": details["ManagedLoginVersion"].clone() });
        if custom {
            out["CloudFrontDomain"] = details["CloudFrontDistribution"].clone();
        }
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(out)
    })
    .await
}

pub async fn delete(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let domain = p.str("Domain")?.to_owned();
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&pool_id)?.meta;
        if m.domain.as_deref() == Some(domain.as_str()) {
            m.domain = None;
        } else if m.custom_domain.as_deref() == Some(domain.as_str()) {
            m.custom_domain = None;
        } else {
            return Err(no_such());
        }
        m.domain_details.remove(&domain);
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(json!({}))
    })
    .await
}
