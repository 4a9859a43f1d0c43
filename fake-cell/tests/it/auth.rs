//! API keys: 401 for missing/unknown/revoked keys, 403 for another account's index or a missing
//! scope; the admin API (accounts, keys, validate) itself.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn keys_accounts_and_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &[]).await;
    let url = &cell.url;

    // accounts
    let (s, a) = post(
        &format!("{url}/_fake/accounts"),
        None,
        json!({"account_id": "acme", "system_account_id": "sys-1", "name": "Acme"}),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(a["system_account_id"], "sys-1");
    let (s, e) = post(
        &format!("{url}/_fake/accounts"),
        None,
        json!({"account_id": "acme"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("account_already_exists"))
    );
    let (s, generated) = post(&format!("{url}/_fake/accounts"), None, json!({})).await;
    assert_eq!(s, 201);
    assert!(generated["account_id"].as_str().unwrap().len() > 4);
    let (_, list) = get(&format!("{url}/_fake/accounts"), None).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    let (s, one) = get(&format!("{url}/_fake/accounts/acme"), None).await;
    assert_eq!((s, one["name"].as_str()), (200, Some("Acme")));
    let (s, _) = get(&format!("{url}/_fake/accounts/nobody"), None).await;
    assert_eq!(s, 404);

    // keys
    let (s, key) = post(
        &format!("{url}/_fake/accounts/acme/keys"),
        None,
        json!({"key": "secret-1", "key_id": "k1"}),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(key["scopes"], json!(["read", "write", "admin"]));
    assert_eq!(key["revoked"], false);
    let (s, e) = post(
        &format!("{url}/_fake/accounts/acme/keys"),
        None,
        json!({"key": "secret-1"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("api_key_already_exists"))
    );
    let (s, _) = post(
        &format!("{url}/_fake/accounts/nobody/keys"),
        None,
        json!({}),
    )
    .await;
    assert_eq!(s, 404);
    let (_, ro) = post(
        &format!("{url}/_fake/accounts/acme/keys"),
        None,
        json!({"scopes": ["read"]}),
    )
    .await;
    let ro = ro["key"].as_str().unwrap().to_string();
    let (_, keys) = get(&format!("{url}/_fake/accounts/acme/keys"), None).await;
    assert_eq!(keys["results"].as_array().unwrap().len(), 2);
    let (s, v) = post(
        &format!("{url}/_fake/keys/validate"),
        None,
        json!({"key": "secret-1"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"valid": true, "account_id": "acme", "system_account_id": "sys-1", "scopes": ["read", "write", "admin"], "key_id": "k1"})
    );
    let (s, v) = post(
        &format!("{url}/_fake/keys/validate"),
        None,
        json!({"key": "nope"}),
    )
    .await;
    assert_eq!((s, v), (401, json!({"valid": false, "reason": "unknown"})));
    let (_, other_key) = account_with_key(url, "other", &["read", "write", "admin"]).await;

    // data and control routes need a key
    let (s, e) = get(&format!("{url}/api/v2/indexes"), None).await;
    assert_eq!((s, e["type"].as_str()), (401, Some("invalid_request")));
    let (s, _) = get(&format!("{url}/indexes"), Some("unknown")).await;
    assert_eq!(s, 401);
    let (s, _) = post(&format!("{url}/api/v2/indexes/ix"), Some(&ro), json!({})).await;
    assert_eq!(s, 403, "read-only key cannot create");
    let created = create_index(url, "secret-1", "ix", json!({})).await;
    let endpoint = created["marqoEndpoint"].as_str().unwrap();
    let (s, _) = add_docs(endpoint, &ro, "ix", &docs("d", 1)).await;
    assert_eq!(s, 403, "read-only key cannot write");
    let (s, _) = add_docs(endpoint, "secret-1", "ix", &docs("d", 1)).await;
    assert_eq!(s, 200);
    let (s, _) = post(
        &format!("{endpoint}/indexes/ix/search"),
        Some(&ro),
        json!({"q": "document"}),
    )
    .await;
    assert_eq!(s, 200, "read scope can search");
    // another account: 403 on the index, and its list does not show it
    let (s, _) = post(
        &format!("{endpoint}/indexes/ix/search"),
        Some(&other_key),
        json!({"q": "x"}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(
        Method::DELETE,
        &format!("{url}/api/v2/indexes/ix"),
        Some(&other_key),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (_, l) = get(&format!("{url}/api/v2/indexes"), Some(&other_key)).await;
    assert_eq!(l["results"], json!([]));
    let (_, l) = get(&format!("{url}/api/v2/indexes"), Some("secret-1")).await;
    assert_eq!(l["results"].as_array().unwrap().len(), 1);

    // revoke
    let (s, k) = post(&format!("{url}/_fake/keys/k1/revoke"), None, json!({})).await;
    assert_eq!((s, k["revoked"].as_bool()), (200, Some(true)));
    let (s, _) = get(&format!("{url}/indexes"), Some("secret-1")).await;
    assert_eq!(s, 401);
    let (s, v) = post(
        &format!("{url}/_fake/keys/validate"),
        None,
        json!({"key": "secret-1"}),
    )
    .await;
    assert_eq!((s, v["reason"].as_str()), (401, Some("revoked")));
    // public routes need no key
    for p in ["/", "/healthz", "/openapi.json"] {
        let (s, _) = get(&format!("{url}{p}"), None).await;
        assert_eq!(s, 200, "{p}");
    }
}
