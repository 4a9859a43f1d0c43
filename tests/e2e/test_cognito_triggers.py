"""fake-cognito's Lambda triggers with boto3 as the client and a real trigger process
(fixtures/lambdas/cognito_triggers.py) behind `--lambda`: the events a boto3 caller produces,
botocore's view of the trigger errors, a three-round CUSTOM_AUTH and PreTokenGeneration V2_0
claims. Always spawns its own fake-cognito binary (a stack's has no such function)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import botocore.exceptions
import pytest
import requests

import cognito_support as cs

SCRIPT = cs.REPO / "fixtures" / "lambdas" / "cognito_triggers.py"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:triggers"


@pytest.fixture()
def lambda_url():
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "0"], stdout=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture()
def stack(lambda_url):
    with cs.spawned_server("--lambda", f"triggers={lambda_url},10") as url:
        yield url, lambda_url, cs.idp(url)


def control(lambda_url: str, trigger: str, **rule) -> None:
    requests.post(f"{lambda_url}/_control", json={"trigger": trigger, **rule}, timeout=5).raise_for_status()


def events(lambda_url: str, prefix: str) -> list[dict]:
    got = requests.get(f"{lambda_url}/_received", timeout=5).json()
    return [e for e in got if e.get("triggerSource", "").startswith(prefix)]


def claims(jwt: str) -> dict:
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def pool(c, config: dict) -> tuple[str, str]:
    pool_id = c.create_user_pool(PoolName="triggers", AutoVerifiedAttributes=["email"], LambdaConfig=config)[
        "UserPool"
    ]["Id"]
    client_id = c.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def test_sign_up_triggers_with_boto3(stack):
    url, lam, c = stack
    pool_id, client_id = pool(c, {"PreSignUp": ARN, "PostConfirmation": ARN})
    assert c.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"]["PreSignUp"] == ARN
    control(lam, "PreSignUp", respond={"autoConfirmUser": True})
    r = c.sign_up(
        ClientId=client_id,
        Username="bob",
        Password=cs.PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        ClientMetadata={"campaign": "e2e"},
    )
    assert r["UserConfirmed"] is True
    (pre,) = events(lam, "PreSignUp")
    assert pre["triggerSource"] == "PreSignUp_SignUp"
    assert pre["callerContext"] == {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id}
    assert pre["request"] == {
        "userAttributes": {"email": "bob@example.com"},
        "validationData": None,
        "clientMetadata": {"campaign": "e2e"},
    }
    (post,) = events(lam, "PostConfirmation")
    assert post["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"

    control(lam, "PreSignUp", fail="only invited users")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.sign_up(ClientId=client_id, Username="eve", Password=cs.PASSWORD)
    err = e.value.response["Error"]
    assert err["Code"] == "UserLambdaValidationException"
    assert err["Message"] == "PreSignUp failed with error only invited users."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(c.exceptions.UserNotFoundException):
        c.admin_get_user(UserPoolId=pool_id, Username="eve")


def test_custom_auth_and_token_generation_v2_with_boto3(stack):
    url, lam, c = stack
    pool_id, client_id = pool(
        c,
        {
            "DefineAuthChallenge": ARN,
            "CreateAuthChallenge": ARN,
            "VerifyAuthChallengeResponse": ARN,
            "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": ARN},
        },
    )
    c.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    control(
        lam,
        "TokenGeneration",
        respond={
            "claimsAndScopeOverrideDetails": {
                "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": {"id": 7}}, "scopesToAdd": ["api/read"]}
            }
        },
    )
    r = c.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"})
    for n in (1, 2, 3):
        assert r["ChallengeName"] == "CUSTOM_CHALLENGE"
        assert r["ChallengeParameters"]["question"] == f"question {n}"
        r = c.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=r["Session"],
            ChallengeResponses={"USERNAME": "alice", "ANSWER": f"answer-{n}"},
        )
    access = claims(r["AuthenticationResult"]["AccessToken"])
    assert access["tenant"] == {"id": 7}
    assert access["scope"].split() == ["aws.cognito.signin.user.admin", "api/read"]
    assert [len(e["request"]["session"]) for e in events(lam, "DefineAuthChallenge")] == [0, 1, 2, 3]
    (token_event,) = events(lam, "TokenGeneration")
    assert token_event["version"] == "2"
    assert token_event["request"]["scopes"] == ["aws.cognito.signin.user.admin"]

    # A wrong answer ends the sequence the way Cognito does.
    r = c.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"})
    with pytest.raises(c.exceptions.NotAuthorizedException):
        c.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=r["Session"],
            ChallengeResponses={"USERNAME": "alice", "ANSWER": "nope"},
        )
