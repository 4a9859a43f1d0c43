"""fake-cognito end to end with real clients: boto3, PyJWT, pycognito (SRP) and aws-jwt-verify.

Uses HIPPODROME_COGNITO_URL when set, otherwise starts the fake-cognito binary
(FAKE_COGNITO_BIN, default <repo>/target/debug/fake-cognito) on a free port with a temp state file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import jwt
import pytest
import requests
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import SoftwareTokenMFAChallengeException

import cognito_support as cs


@pytest.fixture(scope="module")
def url():
    with cs.cognito_server() as u:
        yield u


@pytest.fixture(scope="module")
def c(url):
    return cs.idp(url)


@pytest.fixture(scope="module")
def pool(c):
    return cs.make_pool(c)


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def secret_hash(secret: str, username: str, client_id: str) -> str:
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def test_boto3_admin_and_user_operations(c, url, pool):
    pid = pool["pool_id"]
    found = [p for p in c.list_user_pools(MaxResults=60)["UserPools"] if p["Id"] == pid]
    assert found and found[0]["Name"] == "e2e-pool"
    assert c.describe_user_pool_client(UserPoolId=pid, ClientId=pool["secret_client_id"])[
        "UserPoolClient"
    ]["ClientSecret"] == pool["client_secret"]

    user = c.admin_get_user(UserPoolId=pid, Username="alice")
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "CONFIRMED"
    assert attrs["custom:account_id"] == "acc-42"
    assert "sub" in attrs
    assert user["ResponseMetadata"]["RequestId"]

    with pytest.raises(ClientError) as e:
        c.admin_create_user(UserPoolId=pid, Username="alice", MessageAction="SUPPRESS")
    assert error_code(e) == "UsernameExistsException"
    with pytest.raises(ClientError) as e:
        c.admin_get_user(UserPoolId=pid, Username="nobody")
    assert error_code(e) == "UserNotFoundException"
    with pytest.raises(ClientError) as e:
        c.describe_user_pool(UserPoolId="us-east-1_doesnotex")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        cs.login(c, pool["client_id"], password="Wrong-Horse-9!")
    assert error_code(e) == "NotAuthorizedException"
    with pytest.raises(ClientError) as e:
        c.create_group(UserPoolId=pid, GroupName="admins")
    assert error_code(e) == "GroupExistsException"

    users = c.list_users(UserPoolId=pid, Filter='email ^= "alice"')["Users"]
    assert [u["Username"] for u in users] == ["alice"]
    groups = c.admin_list_groups_for_user(UserPoolId=pid, Username="alice")["Groups"]
    assert [g["GroupName"] for g in groups] == ["admins"]

    # Self-service sign-up with the code from the admin route (no mail is sent).
    with pytest.raises(ClientError) as e:
        c.sign_up(ClientId=pool["client_id"], Username="bob", Password="short")
    assert error_code(e) == "InvalidPasswordException"
    c.sign_up(
        ClientId=pool["client_id"],
        Username="bob",
        Password=cs.PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
    )
    with pytest.raises(ClientError) as e:
        cs.login(c, pool["client_id"], "bob")
    assert error_code(e) == "UserNotConfirmedException"
    codes = requests.get(
        f"{url}/_fake/codes", params={"pool_id": pid, "username": "bob"}, timeout=5
    ).json()["results"]
    code = next(r["code"] for r in codes if r["kind"] == "signup")
    c.confirm_sign_up(ClientId=pool["client_id"], Username="bob", ConfirmationCode=code)
    tokens = cs.login(c, pool["client_id"], "bob")
    me = c.get_user(AccessToken=tokens["AccessToken"])
    assert me["Username"] == "bob"

    # Forgot password round trip.
    c.forgot_password(ClientId=pool["client_id"], Username="bob")
    codes = requests.get(
        f"{url}/_fake/codes", params={"pool_id": pid, "username": "bob"}, timeout=5
    ).json()["results"]
    reset = next(r["code"] for r in codes if r["kind"] == "forgot_password")
    with pytest.raises(ClientError) as e:
        c.confirm_forgot_password(
            ClientId=pool["client_id"], Username="bob",
            ConfirmationCode="000000" if reset != "000000" else "111111", Password="New-Pass-77!",
        )
    assert error_code(e) == "CodeMismatchException"
    c.confirm_forgot_password(
        ClientId=pool["client_id"], Username="bob", ConfirmationCode=reset, Password="New-Pass-77!"
    )
    cs.login(c, pool["client_id"], "bob", "New-Pass-77!")

    # Secret clients need SECRET_HASH; with it the login works.
    with pytest.raises(ClientError) as e:
        cs.login(c, pool["secret_client_id"])
    assert error_code(e) == "NotAuthorizedException"
    r = c.initiate_auth(
        ClientId=pool["secret_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": "alice",
            "PASSWORD": cs.PASSWORD,
            "SECRET_HASH": secret_hash(pool["client_secret"], "alice", pool["secret_client_id"]),
        },
    )
    assert r["AuthenticationResult"]["TokenType"] == "Bearer"

    # Revocation: GlobalSignOut makes the access token and refresh token useless.
    t = cs.login(c, pool["client_id"])
    c.global_sign_out(AccessToken=t["AccessToken"])
    with pytest.raises(ClientError) as e:
        c.get_user(AccessToken=t["AccessToken"])
    assert error_code(e) == "NotAuthorizedException"
    with pytest.raises(ClientError) as e:
        c.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": t["RefreshToken"]},
        )
    assert error_code(e) == "NotAuthorizedException"


def test_pyjwt_verifies_id_and_access_tokens_via_discovery(c, url, pool):
    tokens = cs.login(c, pool["client_id"])
    disco = requests.get(
        f"{url}/{pool['pool_id']}/.well-known/openid-configuration", timeout=5
    ).json()
    unverified = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert disco["issuer"] == unverified["iss"]
    jwks = jwt.PyJWKClient(disco["jwks_uri"])

    id_key = jwks.get_signing_key_from_jwt(tokens["IdToken"])
    claims = jwt.decode(
        tokens["IdToken"], id_key.key, algorithms=["RS256"],
        audience=pool["client_id"], issuer=disco["issuer"],
    )
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == "alice"
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["custom:account_id"] == "acc-42"
    assert set(claims["cognito:groups"]) == {"admins"}
    for k in ("sub", "auth_time", "iat", "exp", "jti", "origin_jti", "event_id"):
        assert k in claims

    access_key = jwks.get_signing_key_from_jwt(tokens["AccessToken"])
    access = jwt.decode(
        tokens["AccessToken"], access_key.key, algorithms=["RS256"],
        issuer=disco["issuer"], options={"verify_aud": False},
    )
    assert access["token_use"] == "access"
    assert access["client_id"] == pool["client_id"]
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["username"] == "alice"
    assert access["origin_jti"] == claims["origin_jti"]

    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(tokens["IdToken"], id_key.key, algorithms=["RS256"], audience="someone-else")


def test_pycognito_srp_login(c, url, pool):
    # Low level: AWSSRP with our boto3 client, public and secret clients.
    srp = AWSSRP(
        username="alice", password=cs.PASSWORD, pool_id=pool["pool_id"],
        client_id=pool["client_id"], client=c,
    )
    tokens = srp.authenticate_user()["AuthenticationResult"]
    assert c.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    srp_secret = AWSSRP(
        username="alice", password=cs.PASSWORD, pool_id=pool["pool_id"],
        client_id=pool["secret_client_id"], client_secret=pool["client_secret"], client=c,
    )
    assert "IdToken" in srp_secret.authenticate_user()["AuthenticationResult"]
    wrong = AWSSRP(
        username="alice", password="Wrong-Horse-9!", pool_id=pool["pool_id"],
        client_id=pool["client_id"], client=c,
    )
    with pytest.raises(ClientError) as e:
        wrong.authenticate_user()
    assert error_code(e) == "NotAuthorizedException"

    # High level, unchanged: Cognito(..., boto3_client_kwargs={"endpoint_url": ...}) logs in with
    # SRP and verifies the tokens itself against <endpoint_url>/<poolId>/.well-known/jwks.json.
    disco = requests.get(
        f"{url}/{pool['pool_id']}/.well-known/openid-configuration", timeout=5
    ).json()
    u = Cognito(
        pool["pool_id"], pool["client_id"], username="alice",
        boto3_client_kwargs={
            "endpoint_url": url, "region_name": "us-east-1",
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
        },
    )
    if not disco["issuer"].startswith(url):
        # AWS-style issuer: pycognito's documented escape hatch.
        u.pool_domain_url = None
        u.pool_jwk = requests.get(disco["jwks_uri"], timeout=5).json()
    u.authenticate(password=cs.PASSWORD)
    assert u.id_claims["cognito:username"] == "alice"
    assert set(u.id_claims["cognito:groups"]) == {"admins"}
    assert u.access_claims["token_use"] == "access"
    user = u.get_user()
    assert user.email == "alice@example.com"


def _node_or_skip():
    missing = cs.node_tools_missing()
    if missing:
        pytest.skip(f"aws-jwt-verify check needs node and npm: {missing}")
    cs.ensure_node_modules()


def test_aws_jwt_verify_accepts_id_and_access_tokens(c, url, pool):
    _node_or_skip()
    tokens = cs.login(c, pool["client_id"])
    res = cs.node_verify(tokens["IdToken"], pool["pool_id"], pool["client_id"], "id", url)
    assert res["ok"], res
    assert res["payload"]["cognito:username"] == "alice"
    res = cs.node_verify(tokens["AccessToken"], pool["pool_id"], pool["client_id"], "access", url)
    assert res["ok"], res
    assert res["payload"]["client_id"] == pool["client_id"]
    # The library's own checks still apply.
    res = cs.node_verify(tokens["AccessToken"], pool["pool_id"], pool["client_id"], "id", url)
    assert not res["ok"]
    res = cs.node_verify(tokens["IdToken"], pool["pool_id"], pool["secret_client_id"], "id", url)
    assert not res["ok"]


def test_aws_jwt_verify_cognito_verifier_with_aws_issuer():
    """`--issuer aws`: CognitoJwtVerifier, exactly as production code builds it."""
    _node_or_skip()
    with cs.spawned_server("--issuer", "aws") as aws_url:
        c = cs.idp(aws_url)
        pool = cs.make_pool(c, "aws-issuer-pool")
        tokens = cs.login(c, pool["client_id"])
        iss = jwt.decode(tokens["IdToken"], options={"verify_signature": False})["iss"]
        assert iss == f"https://cognito-idp.us-east-1.amazonaws.com/{pool['pool_id']}"
        for token, use in ((tokens["IdToken"], "id"), (tokens["AccessToken"], "access")):
            res = cs.node_verify(token, pool["pool_id"], pool["client_id"], use, aws_url)
            assert res["ok"], res
            assert res["payload"]["token_use"] == use
        res = cs.node_verify(tokens["IdToken"], pool["pool_id"], pool["client_id"], "access", aws_url)
        assert not res["ok"]


def _claims(jwt_token: str) -> dict:
    return jwt.decode(jwt_token, options={"verify_signature": False})


def test_clock_moves_token_and_code_expiry_without_sleeping():
    # Its own server: moving the clock of a shared one would expire other tests' tokens.
    with cs.spawned_server() as url:
        c = cs.idp(url)
        pool = cs.make_pool(c, "clock-pool")
        jwks_before = requests.get(f"{url}/{pool['pool_id']}/.well-known/jwks.json", timeout=5).json()
        access = cs.login(c, pool["client_id"])["AccessToken"]
        c.sign_up(
            ClientId=pool["client_id"], Username="zed", Password=cs.PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "zed@example.com"}],
        )
        code = next(r["code"] for r in cs.codes(url, pool["pool_id"], "zed") if r["kind"] == "signup")

        r = cs.move_clock(url, {"advance_seconds": 24 * 3600 + 1})
        assert r.status_code == 200 and r.json()["offset_seconds"] >= 86401
        with pytest.raises(ClientError) as e:
            c.get_user(AccessToken=access)
        assert error_code(e) == "NotAuthorizedException"
        with pytest.raises(ClientError) as e:
            c.confirm_sign_up(ClientId=pool["client_id"], Username="zed", ConfirmationCode=code)
        assert error_code(e) == "ExpiredCodeException"
        health = requests.get(f"{url}/healthz", timeout=5).json()
        assert health["clock"]["offset_seconds"] >= 86401
        # Keys are untouched and new tokens verify.
        jwks_after = requests.get(f"{url}/{pool['pool_id']}/.well-known/jwks.json", timeout=5).json()
        assert jwks_after == jwks_before
        fresh = cs.login(c, pool["client_id"])["AccessToken"]
        assert c.get_user(AccessToken=fresh)["Username"] == "alice"

        bad = cs.move_clock(url, {"set": "someday"})
        assert bad.status_code == 400 and bad.json()["code"] == "bad_request"
        assert cs.move_clock(url, {"set": "2030-01-01T00:00:00Z"}).json()["now"].startswith("2030-01-01")
        assert cs.move_clock(url, {"reset": True}).json()["offset_seconds"] == 0
        assert "clock" not in requests.get(f"{url}/healthz", timeout=5).json()
        assert c.get_user(AccessToken=access)["Username"] == "alice"


def test_sign_up_codes_go_to_auto_verified_attributes_and_confirming_verifies(c, url, pool):
    r = c.sign_up(
        ClientId=pool["client_id"], Username="vera", Password=cs.PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "vera@example.com"}],
    )
    assert r["CodeDeliveryDetails"] == {
        "Destination": "v***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    code = next(x["code"] for x in cs.codes(url, pool["pool_id"], "vera") if x["kind"] == "signup")
    c.confirm_sign_up(ClientId=pool["client_id"], Username="vera", ConfirmationCode=code)
    attrs = {a["Name"]: a["Value"] for a in
             c.admin_get_user(UserPoolId=pool["pool_id"], Username="vera")["UserAttributes"]}
    assert attrs["email_verified"] == "true"
    assert _claims(cs.login(c, pool["client_id"], "vera")["IdToken"])["email_verified"] is True

    plain = c.create_user_pool(PoolName="no-auto-verify")["UserPool"]["Id"]
    client = c.create_user_pool_client(UserPoolId=plain, ClientName="web")["UserPoolClient"]
    r = c.sign_up(
        ClientId=client["ClientId"], Username="walt", Password=cs.PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "walt@example.com"}],
    )
    assert "CodeDeliveryDetails" not in r
    with pytest.raises(ClientError) as e:
        c.resend_confirmation_code(ClientId=client["ClientId"], Username="walt")
    assert error_code(e) == "InvalidParameterException"


def test_attribute_names_and_aliases_are_checked(c, pool):
    pid = pool["pool_id"]
    with pytest.raises(ClientError) as e:
        c.admin_delete_user_attributes(UserPoolId=pid, Username="alice", UserAttributeNames=["custom:nope"])
    assert error_code(e) == "InvalidParameterException"
    assert "Attribute does not exist in the schema" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        c.create_user_pool_client(UserPoolId=pid, ClientName="bad", ReadAttributes=["custom:nope"])
    assert error_code(e) == "InvalidParameterException"
    ok = c.create_user_pool_client(
        UserPoolId=pid, ClientName="reader", ReadAttributes=["email", "custom:account_id"])
    assert ok["UserPoolClient"]["ReadAttributes"] == ["email", "custom:account_id"]

    alias = c.create_user_pool(PoolName="alias-pool", AliasAttributes=["email"])["UserPool"]["Id"]
    for name in ("ann", "ben"):
        c.admin_create_user(
            UserPoolId=alias, Username=name, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
        )
    with pytest.raises(ClientError) as e:
        c.admin_update_user_attributes(
            UserPoolId=alias, Username="ben",
            UserAttributes=[{"Name": "email", "Value": "ann@example.com"}])
    assert error_code(e) == "AliasExistsException"


def test_forgot_password_follows_account_recovery_setting(c):
    def pool_with(setting: dict | None) -> tuple[str, str]:
        kwargs = {"AccountRecoverySetting": setting} if setting else {}
        pid = c.create_user_pool(PoolName="recovery", **kwargs)["UserPool"]["Id"]
        cid = c.create_user_pool_client(UserPoolId=pid, ClientName="web")["UserPoolClient"]["ClientId"]
        c.admin_create_user(
            UserPoolId=pid, Username="rita", MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": "rita@example.com"},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "phone_number", "Value": "+15555550100"},
                {"Name": "phone_number_verified", "Value": "true"},
            ],
        )
        c.admin_set_user_password(UserPoolId=pid, Username="rita", Password=cs.PASSWORD, Permanent=True)
        return pid, cid

    _, cid = pool_with(None)
    legacy = c.forgot_password(ClientId=cid, Username="rita")["CodeDeliveryDetails"]
    assert legacy["AttributeName"] == "phone_number" and legacy["DeliveryMedium"] == "SMS"
    _, cid = pool_with({"RecoveryMechanisms": [
        {"Name": "verified_email", "Priority": 1}, {"Name": "verified_phone_number", "Priority": 2}]})
    assert c.forgot_password(ClientId=cid, Username="rita")["CodeDeliveryDetails"]["AttributeName"] == "email"
    pid, cid = pool_with({"RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]})
    with pytest.raises(ClientError) as e:
        c.forgot_password(ClientId=cid, Username="rita")
    assert error_code(e) == "NotAuthorizedException"
    c.admin_reset_user_password(UserPoolId=pid, Username="rita")
    assert c.admin_get_user(UserPoolId=pid, Username="rita")["UserStatus"] == "RESET_REQUIRED"


def test_account_id_comes_from_a_twelve_digit_access_key(url):
    arn = cs.idp(url, "123456789012").create_user_pool(PoolName="acct")["UserPool"]["Arn"]
    assert arn.startswith("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_")
    default = cs.idp(url).create_user_pool(PoolName="acct-default")["UserPool"]["Arn"]
    account = default.split(":")[4]
    assert account.isdigit() and len(account) == 12 and account != "123456789012"


def test_create_user_pool_schema_is_validated_and_normalised(c):
    with pytest.raises(ClientError) as e:
        c.create_user_pool(PoolName="bad", Schema=[{"Name": "tier", "Required": True, "AttributeDataType": "String"}])
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        c.create_user_pool(PoolName="bad", Schema=[{"Name": "email", "AttributeDataType": "Number"}])
    assert "standard schema attribute email" in e.value.response["Error"]["Message"]
    pool = c.create_user_pool(
        PoolName="typed",
        Schema=[{"Name": "secret", "AttributeDataType": "String", "DeveloperOnlyAttribute": True}],
        VerificationMessageTemplate={"EmailMessage": "Code {####}", "EmailSubject": "Hi"},
    )["UserPool"]
    names = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert names["dev:custom:secret"]["DeveloperOnlyAttribute"] is True
    assert names["birthdate"]["StringAttributeConstraints"] == {"MinLength": "10", "MaxLength": "10"}
    assert pool["EmailVerificationMessage"] == "Code {####}"
    assert pool["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}


def test_mfa_totp_with_pycognito_srp_and_pyotp():
    # Its own server: the test moves the clock to get a fresh TOTP step.
    with cs.spawned_server() as url:
        c = cs.idp(url)
        pool = cs.make_pool(c, "mfa-totp-pool")
        pid = pool["pool_id"]
        c.set_user_pool_mfa_config(
            UserPoolId=pid, MfaConfiguration="OPTIONAL",
            SoftwareTokenMfaConfiguration={"Enabled": True},
        )
        got = c.get_user_pool_mfa_config(UserPoolId=pid)
        assert got["MfaConfiguration"] == "OPTIONAL"
        assert got["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
        kwargs = {
            "endpoint_url": url, "region_name": "us-east-1",
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
        }
        u = Cognito(pid, pool["client_id"], username="alice", boto3_client_kwargs=kwargs)
        u.authenticate(password=cs.PASSWORD)
        secret = u.associate_software_token()
        with pytest.raises(ClientError) as e:
            wrong = "111111" if cs.totp_code(url, secret) == "000000" else "000000"
            c.verify_software_token(AccessToken=u.access_token, UserCode=wrong)
        assert error_code(e) == "EnableSoftwareTokenMFAException"
        assert u.verify_software_token(cs.totp_code(url, secret), "phone")
        u.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
        me = c.get_user(AccessToken=u.access_token)
        assert me["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
        assert me["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

        # SRP (PASSWORD_VERIFIER) then SOFTWARE_TOKEN_MFA, through pycognito unchanged.
        cs.move_clock(url, {"advance_seconds": 30})
        u2 = Cognito(pid, pool["client_id"], username="alice", boto3_client_kwargs=kwargs)
        with pytest.raises(SoftwareTokenMFAChallengeException) as ch:
            u2.authenticate(password=cs.PASSWORD)
        tokens = ch.value.get_tokens()
        assert tokens["ChallengeParameters"] == {"USER_ID_FOR_SRP": "alice"}
        code = cs.totp_code(url, secret)
        u2.respond_to_software_token_mfa_challenge(code, tokens)
        assert c.get_user(AccessToken=u2.access_token)["Username"] == "alice"

        # The same code a second time is refused; USER_PASSWORD_AUTH gets the same challenge.
        again = c.initiate_auth(
            ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": cs.PASSWORD},
        )
        assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        answer = dict(
            ClientId=pool["client_id"], ChallengeName="SOFTWARE_TOKEN_MFA", Session=again["Session"],
        )
        with pytest.raises(ClientError) as e:
            c.respond_to_auth_challenge(
                **answer, ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code}
            )
        assert error_code(e) == "CodeMismatchException"
        cs.move_clock(url, {"advance_seconds": 30})
        done = c.respond_to_auth_challenge(
            **answer,
            ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": cs.totp_code(url, secret)},
        )
        assert "AccessToken" in done["AuthenticationResult"]


def test_mfa_setup_sms_email_and_select_with_boto3():
    with cs.spawned_server() as url:
        c = cs.idp(url)
        pid = c.create_user_pool(
            PoolName="mfa-on",
            EmailConfiguration={
                "EmailSendingAccount": "DEVELOPER",
                "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/x@example.com",
            },
        )["UserPool"]["Id"]
        client_id = c.create_user_pool_client(
            UserPoolId=pid, ClientName="app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                               "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        with pytest.raises(ClientError) as e:
            c.set_user_pool_mfa_config(UserPoolId=pid, MfaConfiguration="ON")
        assert error_code(e) == "InvalidParameterException"
        c.set_user_pool_mfa_config(
            UserPoolId=pid, MfaConfiguration="ON",
            SoftwareTokenMfaConfiguration={"Enabled": True},
            EmailMfaConfiguration={"Message": "Your code is {####}", "Subject": "Code"},
        )
        for name, attrs in [("nina", []), ("omar", [{"Name": "email", "Value": "omar@example.com"}])]:
            c.admin_create_user(UserPoolId=pid, Username=name, UserAttributes=attrs,
                                MessageAction="SUPPRESS")
            c.admin_set_user_password(UserPoolId=pid, Username=name, Password=cs.PASSWORD,
                                      Permanent=True)

        # MFA_SETUP: associate and verify with the session, then answer MFA_SETUP.
        ch = c.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "nina", "PASSWORD": cs.PASSWORD},
        )
        assert ch["ChallengeName"] == "MFA_SETUP"
        assert ch["ChallengeParameters"]["MFAS_CAN_SETUP"] == '["SOFTWARE_TOKEN_MFA","EMAIL_OTP"]'
        assoc = c.associate_software_token(Session=ch["Session"])
        ver = c.verify_software_token(
            Session=assoc["Session"], UserCode=cs.totp_code(url, assoc["SecretCode"])
        )
        assert ver["Status"] == "SUCCESS"
        done = c.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="MFA_SETUP", Session=ver["Session"],
            ChallengeResponses={"USERNAME": "nina"},
        )
        assert "IdToken" in done["AuthenticationResult"]
        assert c.admin_get_user(UserPoolId=pid, Username="nina")["UserMFASettingList"] == [
            "SOFTWARE_TOKEN_MFA"
        ]

        # EMAIL_OTP: the address the pool can use; the code is at /_fake/codes.
        auth = dict(UserPoolId=pid, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": "omar", "PASSWORD": cs.PASSWORD})
        ch = c.admin_initiate_auth(**auth)
        assert ch["ChallengeName"] == "EMAIL_OTP"
        assert ch["ChallengeParameters"] == {
            "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
            "CODE_DELIVERY_DESTINATION": "o***@e***",
            "USER_ID_FOR_SRP": "omar",
        }
        with pytest.raises(ClientError) as e:
            c.admin_respond_to_auth_challenge(
                UserPoolId=pid, ClientId=client_id, ChallengeName="EMAIL_OTP", Session=ch["Session"],
                ChallengeResponses={"USERNAME": "omar", "EMAIL_OTP_CODE": "not-it"},
            )
        assert error_code(e) == "CodeMismatchException"
        code = cs.latest_code(url, pid, "omar", "email_otp")
        done = c.admin_respond_to_auth_challenge(
            UserPoolId=pid, ClientId=client_id, ChallengeName="EMAIL_OTP", Session=ch["Session"],
            ChallengeResponses={"USERNAME": "omar", "EMAIL_OTP_CODE": code},
        )
        access = done["AuthenticationResult"]["AccessToken"]

        # Two factors on, none preferred: SELECT_MFA_TYPE.
        secret = c.associate_software_token(AccessToken=access)["SecretCode"]
        c.verify_software_token(AccessToken=access, UserCode=cs.totp_code(url, secret))
        c.admin_set_user_mfa_preference(
            UserPoolId=pid, Username="omar",
            SoftwareTokenMfaSettings={"Enabled": True}, EmailMfaSettings={"Enabled": True},
        )
        ch = c.admin_initiate_auth(**auth)
        assert ch["ChallengeName"] == "SELECT_MFA_TYPE"
        assert ch["ChallengeParameters"]["MFAS_CAN_CHOOSE"] == '["SOFTWARE_TOKEN_MFA","EMAIL_OTP"]'
        nxt = c.admin_respond_to_auth_challenge(
            UserPoolId=pid, ClientId=client_id, ChallengeName="SELECT_MFA_TYPE", Session=ch["Session"],
            ChallengeResponses={"USERNAME": "omar", "ANSWER": "SOFTWARE_TOKEN_MFA"},
        )
        assert nxt["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        cs.move_clock(url, {"advance_seconds": 30})
        done = c.admin_respond_to_auth_challenge(
            UserPoolId=pid, ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=nxt["Session"],
            ChallengeResponses={"USERNAME": "omar", "SOFTWARE_TOKEN_MFA_CODE": cs.totp_code(url, secret)},
        )
        assert "AccessToken" in done["AuthenticationResult"]


def test_mfa_sms_code_from_fake_codes_with_boto3(c, url):
    pid = c.create_user_pool(PoolName="mfa-sms")["UserPool"]["Id"]
    client_id = c.create_user_pool_client(
        UserPoolId=pid, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    c.set_user_pool_mfa_config(
        UserPoolId=pid, MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={
            "SmsAuthenticationMessage": "Your code is {####}",
            "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/sns"},
        },
    )
    c.admin_create_user(
        UserPoolId=pid, Username="pia", MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "phone_number", "Value": "+15555550142"}],
    )
    c.admin_set_user_password(UserPoolId=pid, Username="pia", Password=cs.PASSWORD, Permanent=True)
    c.admin_set_user_mfa_preference(
        UserPoolId=pid, Username="pia", SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    user = c.admin_get_user(UserPoolId=pid, Username="pia")
    assert user["MFAOptions"] == [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    assert user["PreferredMfaSetting"] == "SMS_MFA"
    ch = c.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "pia", "PASSWORD": cs.PASSWORD},
    )
    assert ch["ChallengeName"] == "SMS_MFA"
    assert ch["ChallengeParameters"] == {
        "CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
        "CODE_DELIVERY_DESTINATION": "+*******0142",
        "USER_ID_FOR_SRP": "pia",
    }
    code = cs.latest_code(url, pid, "pia", "sms_mfa")
    done = c.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SMS_MFA", Session=ch["Session"],
        ChallengeResponses={"USERNAME": "pia", "SMS_MFA_CODE": code},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_resource_servers_paging_and_client_credentials_scopes_with_boto3(c, url):
    pid = c.create_user_pool(PoolName="e2e-resource-servers")["UserPool"]["Id"]
    scopes = [{"ScopeName": n, "ScopeDescription": f"{n} orders"} for n in ("read", "write", "admin")]
    rs = c.create_resource_server(UserPoolId=pid, Identifier="orders", Name="Orders", Scopes=scopes)
    assert rs["ResourceServer"]["Scopes"][0] == {"ScopeName": "read", "ScopeDescription": "read orders"}
    with pytest.raises(ClientError) as e:
        c.create_resource_server(UserPoolId=pid, Identifier="orders", Name="Again")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        c.create_resource_server(
            UserPoolId=pid, Identifier="bad", Name="Bad",
            Scopes=[{"ScopeName": "has space", "ScopeDescription": "x"}],
        )
    assert error_code(e) == "InvalidParameterException"
    for i in range(4):
        c.create_resource_server(UserPoolId=pid, Identifier=f"svc{i}", Name="Svc")
    pages = list(c.get_paginator("list_resource_servers").paginate(
        UserPoolId=pid, PaginationConfig={"PageSize": 2},
    ))
    assert [len(p["ResourceServers"]) for p in pages] == [2, 2, 1]
    ids = [s["Identifier"] for p in pages for s in p["ResourceServers"]]
    assert ids == ["orders", "svc0", "svc1", "svc2", "svc3"]
    c.update_resource_server(UserPoolId=pid, Identifier="svc0", Name="Renamed")
    assert c.describe_resource_server(UserPoolId=pid, Identifier="svc0")["ResourceServer"]["Name"] == "Renamed"
    c.delete_resource_server(UserPoolId=pid, Identifier="svc0")
    with pytest.raises(ClientError) as e:
        c.describe_resource_server(UserPoolId=pid, Identifier="svc0")
    assert error_code(e) == "ResourceNotFoundException"

    client = c.create_user_pool_client(
        UserPoolId=pid, ClientName="m2m", GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["orders/read", "orders/write"],
    )["UserPoolClient"]
    auth = (client["ClientId"], client["ClientSecret"])
    r = requests.post(f"{url}/oauth2/token", auth=auth, data={"grant_type": "client_credentials"}, timeout=5)
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "orders/read orders/write"
    r = requests.post(f"{url}/oauth2/token", auth=auth, timeout=5,
                      data={"grant_type": "client_credentials", "scope": "orders/admin"})
    assert (r.status_code, r.json()) == (400, {"error": "invalid_scope"})


def test_identity_providers_with_boto3(c):
    pid = c.create_user_pool(PoolName="e2e-idps")["UserPool"]["Id"]
    google = {"client_id": "g", "client_secret": "s", "authorize_scopes": "openid email"}
    p = c.create_identity_provider(
        UserPoolId=pid, ProviderName="Google", ProviderType="Google", ProviderDetails=google,
    )["IdentityProvider"]
    assert p["AttributeMapping"] == {"username": "sub"}
    c.create_identity_provider(
        UserPoolId=pid, ProviderName="Okta", ProviderType="SAML",
        ProviderDetails={"MetadataURL": "https://okta.example.com/md"}, IdpIdentifiers=["okta"],
    )
    with pytest.raises(ClientError) as e:
        c.create_identity_provider(
            UserPoolId=pid, ProviderName="Okta", ProviderType="SAML",
            ProviderDetails={"MetadataFile": "<xml/>"},
        )
    assert error_code(e) == "DuplicateProviderException"
    with pytest.raises(ClientError) as e:
        c.create_identity_provider(
            UserPoolId=pid, ProviderName="Corp", ProviderType="OIDC",
            ProviderDetails={"client_id": "x", "authorize_scopes": "openid"},
        )
    assert error_code(e) == "InvalidParameterException"
    assert "attributes_request_method" in e.value.response["Error"]["Message"]
    found = c.get_identity_provider_by_identifier(UserPoolId=pid, IdpIdentifier="okta")
    assert found["IdentityProvider"]["ProviderName"] == "Okta"
    names = [p["ProviderName"] for page in c.get_paginator("list_identity_providers").paginate(
        UserPoolId=pid, PaginationConfig={"PageSize": 1}) for p in page["Providers"]]
    assert names == ["Google", "Okta"]
    c.update_identity_provider(UserPoolId=pid, ProviderName="Okta", IdpIdentifiers=["okta", "okta-eu"])
    d = c.describe_identity_provider(UserPoolId=pid, ProviderName="Okta")["IdentityProvider"]
    assert d["IdpIdentifiers"] == ["okta", "okta-eu"]
    c.delete_identity_provider(UserPoolId=pid, ProviderName="Okta")
    with pytest.raises(ClientError) as e:
        c.get_identity_provider_by_identifier(UserPoolId=pid, IdpIdentifier="okta")
    assert error_code(e) == "ResourceNotFoundException"


def test_user_pool_domains_with_boto3(c):
    pid = c.create_user_pool(PoolName="e2e-domains")["UserPool"]["Id"]
    other = c.create_user_pool(PoolName="e2e-domains-2")["UserPool"]["Id"]
    c.create_user_pool_domain(UserPoolId=pid, Domain="e2e-prefix")
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/e2e"
    r = c.create_user_pool_domain(
        UserPoolId=pid, Domain="auth.e2e.example", CustomDomainConfig={"CertificateArn": cert},
    )
    assert r["CloudFrontDomain"].endswith(".cloudfront.net")
    pool = c.describe_user_pool(UserPoolId=pid)["UserPool"]
    assert (pool["Domain"], pool["CustomDomain"]) == ("e2e-prefix", "auth.e2e.example")
    with pytest.raises(ClientError) as e:
        c.create_user_pool_domain(UserPoolId=other, Domain="e2e-prefix")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        c.create_user_pool_domain(UserPoolId=other, Domain="my-aws-login")
    assert error_code(e) == "InvalidParameterException"
    d = c.describe_user_pool_domain(Domain="auth.e2e.example")["DomainDescription"]
    assert d["UserPoolId"] == pid and d["Status"] == "ACTIVE"
    assert d["CustomDomainConfig"]["CertificateArn"] == cert
    u = c.update_user_pool_domain(UserPoolId=pid, Domain="e2e-prefix", ManagedLoginVersion=2)
    assert u["ManagedLoginVersion"] == 2
    c.delete_user_pool_domain(UserPoolId=pid, Domain="e2e-prefix")
    assert c.describe_user_pool_domain(Domain="e2e-prefix")["DomainDescription"] == {}
    c.create_user_pool_domain(UserPoolId=other, Domain="e2e-prefix")


def test_add_custom_attributes_with_boto3(c):
    pid = c.create_user_pool(PoolName="custom-attrs")["UserPool"]["Id"]
    c.add_custom_attributes(
        UserPoolId=pid,
        CustomAttributes=[
            {"Name": "plan", "AttributeDataType": "String", "Mutable": True},
            {"Name": "seats", "AttributeDataType": "Number"},
        ],
    )
    names = [
        a["Name"] for a in c.describe_user_pool(UserPoolId=pid)["UserPool"]["SchemaAttributes"]
    ]
    assert "custom:plan" in names and "custom:seats" in names
    with pytest.raises(ClientError) as e:
        c.add_custom_attributes(
            UserPoolId=pid, CustomAttributes=[{"Name": "plan", "AttributeDataType": "String"}]
        )
    assert error_code(e) == "InvalidParameterException"
    assert "Existing attribute already has name custom:plan" in str(e.value)
    with pytest.raises(ClientError) as e:
        c.add_custom_attributes(
            UserPoolId=pid,
            CustomAttributes=[{"Name": "x", "AttributeDataType": "String", "Required": True}],
        )
    assert error_code(e) == "InvalidParameterException"
    c.admin_create_user(
        UserPoolId=pid,
        Username="carol",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "custom:plan", "Value": "pro"}],
    )
    attrs = c.admin_get_user(UserPoolId=pid, Username="carol")["UserAttributes"]
    assert {"Name": "custom:plan", "Value": "pro"} in attrs


def test_admin_user_global_sign_out_with_boto3(c, pool):
    t = cs.login(c, pool["client_id"])
    c.admin_user_global_sign_out(UserPoolId=pool["pool_id"], Username="alice")
    with pytest.raises(ClientError) as e:
        c.get_user(AccessToken=t["AccessToken"])
    assert error_code(e) == "NotAuthorizedException"
    assert e.value.response["Error"]["Message"] == "Access Token has been revoked"
    with pytest.raises(ClientError) as e:
        c.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": t["RefreshToken"]},
        )
    assert error_code(e) == "NotAuthorizedException"
    fresh = cs.login(c, pool["client_id"])
    assert c.get_user(AccessToken=fresh["AccessToken"])["Username"] == "alice"


def test_refresh_token_rotation_with_boto3():
    # Its own server: the clock moves.
    with cs.spawned_server() as url:
        c = cs.idp(url)
        pool = cs.make_pool(c, "rotation-pool")
        pid = pool["pool_id"]
        cid = c.create_user_pool_client(
            UserPoolId=pid,
            ClientName="rotating",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 5},
        )["UserPoolClient"]["ClientId"]
        described = c.describe_user_pool_client(UserPoolId=pid, ClientId=cid)["UserPoolClient"]
        assert described["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 5}
        old = cs.login(c, cid)["RefreshToken"]
        with pytest.raises(ClientError) as e:
            c.initiate_auth(
                ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": old}
            )
        assert error_code(e) == "NotAuthorizedException"

        res = c.get_tokens_from_refresh_token(ClientId=cid, RefreshToken=old)["AuthenticationResult"]
        new = res["RefreshToken"]
        assert new != old and c.get_user(AccessToken=res["AccessToken"])["Username"] == "alice"
        c.get_tokens_from_refresh_token(ClientId=cid, RefreshToken=old)  # a retry inside the grace
        assert cs.move_clock(url, {"advance_seconds": 6}).status_code == 200
        with pytest.raises(ClientError) as e:
            c.get_tokens_from_refresh_token(ClientId=cid, RefreshToken=old)
        assert error_code(e) == "NotAuthorizedException"

        newer = c.get_tokens_from_refresh_token(ClientId=cid, RefreshToken=new)["AuthenticationResult"]
        c.revoke_token(ClientId=cid, Token=newer["RefreshToken"])
        with pytest.raises(ClientError) as e:
            c.get_tokens_from_refresh_token(ClientId=cid, RefreshToken=newer["RefreshToken"])
        assert error_code(e) == "NotAuthorizedException"
