"""fake-cognito's hosted UI end to end with `requests`, as a browser-less OAuth client would drive
it: /oauth2/authorize → the login page → the form POST → the callback with a code → /oauth2/token
with the PKCE verifier → tokens verified with PyJWT against the JWKS → userInfo, refresh, revoke,
logout; and federated sign-in through the local IdP stand-in. Runs against the stack's
fake-cognito (HIPPODROME_COGNITO_URL) or a spawned binary."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

import cognito_support as cs

CALLBACK = "http://localhost:3000/callback"
SIGNED_OUT = "http://localhost:3000/bye"


class Forms(HTMLParser):
    """The forms of a page: action and fields (hidden fields with their values)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def forms(html: str) -> list[dict]:
    p = Forms()
    p.feed(html)
    return p.forms


@pytest.fixture(scope="module")
def url():
    with cs.cognito_server() as u:
        yield u


@pytest.fixture(scope="module")
def setup(url):
    c = cs.idp(url)
    pool = cs.make_pool(c, name=f"hosted-ui-{uuid.uuid4().hex[:8]}")
    prefix = f"e2e-{uuid.uuid4().hex[:10]}"
    c.create_user_pool_domain(UserPoolId=pool["pool_id"], Domain=prefix)
    c.create_identity_provider(
        UserPoolId=pool["pool_id"], ProviderName="Google", ProviderType="Google",
        ProviderDetails={"client_id": "g", "client_secret": "s", "authorize_scopes": "openid email"},
        AttributeMapping={"email": "email"},
    )
    web = c.create_user_pool_client(
        UserPoolId=pool["pool_id"], ClientName="hosted", GenerateSecret=True,
        AllowedOAuthFlows=["code"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email", "profile"],
        CallbackURLs=[CALLBACK], LogoutURLs=[SIGNED_OUT],
        SupportedIdentityProviders=["COGNITO", "Google"],
        EnableTokenRevocation=True,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
    )["UserPoolClient"]
    described = c.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    return {**pool, "c": c, "prefix": prefix, "web": web, "described": described}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(session: requests.Session, base: str, client_id: str, challenge: str, **extra) -> requests.Response:
    params = {
        "client_id": client_id, "redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid email", "state": "st-e2e", "nonce": "nonce-e2e",
        "code_challenge": challenge, "code_challenge_method": "S256", **extra,
    }
    return session.get(f"{base}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)


def submit(session: requests.Session, page_url: str, html: str, **values) -> requests.Response:
    form = forms(html)[0]
    return session.post(urljoin(page_url, form["action"]), data={**form["fields"], **values},
                        allow_redirects=False, timeout=5)


def callback_params(r: requests.Response) -> dict:
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(CALLBACK), loc
    return {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}


def token(url: str, setup: dict, **form) -> requests.Response:
    web = setup["web"]
    return requests.post(f"{url}/domain/{setup['prefix']}/oauth2/token", data=form,
                         auth=(web["ClientId"], web["ClientSecret"]), timeout=5)


def verified(url: str, pool_id: str, tok: str, audience: str | None) -> dict:
    disco = requests.get(f"{url}/{pool_id}/.well-known/openid-configuration", timeout=5).json()
    key = jwt.PyJWKClient(disco["jwks_uri"]).get_signing_key_from_jwt(tok)
    return jwt.decode(tok, key.key, algorithms=["RS256"], issuer=disco["issuer"], audience=audience,
                      options={"verify_aud": audience is not None})


def test_describe_user_pool_domain_says_where_the_hosted_ui_is(url, setup):
    assert setup["described"]["UserPoolId"] == setup["pool_id"]
    # boto3 keeps only AWS's members; the raw answer also names the local hosted-UI URL.
    raw = requests.post(url, json={"Domain": setup["prefix"]}, timeout=5, headers={
        "X-Amz-Target": "AWSCognitoIdentityProviderService.DescribeUserPoolDomain",
        "Content-Type": "application/x-amz-json-1.1",
    }).json()["DomainDescription"]
    assert raw["HostedUIUrl"].endswith(f"/domain/{setup['prefix']}")


def test_code_flow_with_pkce_end_to_end(url, setup):
    base = f"{url}/domain/{setup['prefix']}"
    client_id = setup["web"]["ClientId"]
    browser = requests.Session()
    verifier, challenge = pkce()

    r = authorize(browser, base, client_id, challenge)
    assert r.status_code == 302
    login_url = urljoin(base + "/", r.headers["Location"])
    page = browser.get(login_url, timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Continue with Google" in page.text

    wrong = submit(browser, login_url, page.text, username="alice", password="Wrong-Passw0rd!")
    assert wrong.status_code == 200 and "Incorrect username or password." in wrong.text
    got = callback_params(submit(browser, login_url, page.text, username="alice", password=cs.PASSWORD))
    assert got["state"] == "st-e2e"

    bad = token(url, setup, grant_type="authorization_code", code=got["code"], redirect_uri=CALLBACK,
                code_verifier="A" * 43)
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant"})

    got = callback_params(authorize(browser, base, client_id, challenge, state="again"))
    assert got["state"] == "again", "the session cookie signs in without the form"
    r = token(url, setup, grant_type="authorization_code", code=got["code"], redirect_uri=CALLBACK,
              code_verifier=verifier)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer"
    id_claims = verified(url, setup["pool_id"], tokens["id_token"], audience=client_id)
    assert id_claims["cognito:username"] == "alice"
    assert id_claims["nonce"] == "nonce-e2e"
    access = verified(url, setup["pool_id"], tokens["access_token"], audience=None)
    assert access["scope"] == "openid email" and access["client_id"] == client_id
    again = token(url, setup, grant_type="authorization_code", code=got["code"], redirect_uri=CALLBACK,
                  code_verifier=verifier)
    assert again.json() == {"error": "invalid_grant"}, "codes are single use"

    info = requests.get(f"{base}/oauth2/userInfo", headers={"Authorization": f"Bearer {tokens['access_token']}"},
                        timeout=5)
    assert info.status_code == 200 and info.json()["email"] == "alice@example.com"

    rotated = token(url, setup, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    new_refresh = rotated.json()["refresh_token"]
    assert new_refresh != tokens["refresh_token"]
    stale = token(url, setup, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert stale.json() == {"error": "invalid_grant"}
    web = setup["web"]
    revoked = requests.post(f"{base}/oauth2/revoke", data={"token": new_refresh},
                            auth=(web["ClientId"], web["ClientSecret"]), timeout=5)
    assert revoked.status_code == 200, revoked.text
    assert token(url, setup, grant_type="refresh_token", refresh_token=new_refresh).json() == {"error": "invalid_grant"}

    out = browser.get(f"{base}/logout", params={"client_id": client_id, "logout_uri": SIGNED_OUT},
                      allow_redirects=False, timeout=5)
    assert out.status_code == 302 and out.headers["Location"] == SIGNED_OUT
    r = authorize(browser, base, client_id, challenge)
    assert "/login?" in r.headers["Location"], "signed out: the form again"


def test_authorize_errors_follow_aws(url, setup):
    base = f"{url}/domain/{setup['prefix']}"
    client_id = setup["web"]["ClientId"]
    s = requests.Session()
    page = authorize(s, base, client_id, "x" * 43, redirect_uri="https://evil.example/cb")
    assert page.status_code == 400 and "redirect_mismatch" in page.text
    r = authorize(s, base, client_id, "x" * 43, scope="openid phone")
    params = parse_qs(urlsplit(r.headers["Location"]).query)
    assert params["error"] == ["invalid_scope"] and params["state"] == ["st-e2e"]
    r = s.post(f"{base}/oauth2/token", data={"grant_type": "client_credentials"},
               auth=(client_id, "wrong"), timeout=5)
    assert (r.status_code, r.json()) == (401, {"error": "invalid_client"})


def test_federated_sign_in_through_the_stand_in(url, setup):
    base = f"{url}/domain/{setup['prefix']}"
    client_id = setup["web"]["ClientId"]
    browser = requests.Session()
    verifier, challenge = pkce()
    r = authorize(browser, base, client_id, challenge, identity_provider="Google")
    stand_in = urljoin(base + "/", r.headers["Location"])
    assert "/fake-idp/Google?" in stand_in
    page = browser.get(stand_in, timeout=5)
    new_user = forms(page.text)[-1]
    r = browser.post(urljoin(stand_in, new_user["action"]),
                     data={**new_user["fields"], "user_id": "g-777", "email": "fed@example.com"},
                     allow_redirects=False, timeout=5)
    got = callback_params(r)
    tokens = token(url, setup, grant_type="authorization_code", code=got["code"], redirect_uri=CALLBACK,
                   code_verifier=verifier).json()
    claims = verified(url, setup["pool_id"], tokens["id_token"], audience=client_id)
    assert claims["cognito:username"] == "Google_g-777"
    assert claims["email"] == "fed@example.com"
    assert claims["identities"][0]["providerName"] == "Google"
    assert claims["identities"][0]["userId"] == "g-777"
    user = setup["c"].admin_get_user(UserPoolId=setup["pool_id"], Username="Google_g-777")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
