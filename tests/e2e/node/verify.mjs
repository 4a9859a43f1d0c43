// Verify one Cognito token with aws-jwt-verify, as an application would, against fake-cognito.
//
//   node verify.mjs <token> <poolId> <clientId> <id|access> <serverUrl>
//
// Prints {"ok":true,"payload":{...}} (exit 0) or {"ok":false,"error":"..."} (exit 1).
//
// aws-jwt-verify fetches JWKS with Node's `https` module only, so an http:// JWKS URI fails out of
// the box. Its documented extension point is the JWKS cache's fetcher: we pass one that uses
// Node's global fetch (http works) and, for AWS-style issuers, maps the AWS JWKS URL onto the
// emulator. Everything else (signature, alg, kid, exp, iss, token_use, client) is the library's own.
//  - AWS issuer (`--issuer aws`): CognitoJwtVerifier, exactly as production code uses it.
//  - Local issuer (`{server}/{poolId}`): CognitoJwtVerifier cannot be pointed at another issuer,
//    so JwtVerifier (a.k.a. JwtRsaVerifier) with issuer + jwksUri = `{iss}/.well-known/jwks.json`,
//    plus the Cognito token_use / client_id checks via customJwtCheck.
import { CognitoJwtVerifier, JwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";

const [token, poolId, clientId, tokenUse, serverUrl] = process.argv.slice(2);
if (!token || !poolId || !clientId || !tokenUse || !serverUrl) {
  console.log(JSON.stringify({ ok: false, error: "usage: verify.mjs <token> <poolId> <clientId> <id|access> <serverUrl>" }));
  process.exit(2);
}
const base = serverUrl.replace(/\/+$/, "");

const fetcher = {
  async fetch(uri) {
    const aws = uri.match(/^https:\/\/(?:issuer-)?cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)\/\.well-known\/jwks\.json$/);
    const target = aws ? `${base}/${aws[1]}/.well-known/jwks.json` : uri;
    const res = await fetch(target, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`JWKS fetch ${target}: HTTP ${res.status}`);
    return res.arrayBuffer();
  },
};
const jwksCache = new SimpleJwksCache({ fetcher });

function issuerOf(jwt) {
  const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
  return payload.iss;
}

try {
  const iss = issuerOf(token);
  let verifier;
  if (typeof iss === "string" && /^https:\/\/(issuer-)?cognito-idp\./.test(iss)) {
    verifier = CognitoJwtVerifier.create({ userPoolId: poolId, tokenUse, clientId }, { jwksCache });
  } else {
    verifier = JwtVerifier.create(
      {
        issuer: `${base}/${poolId}`,
        audience: tokenUse === "id" ? clientId : null,
        jwksUri: `${base}/${poolId}/.well-known/jwks.json`,
        customJwtCheck: ({ payload }) => {
          if (payload.token_use !== tokenUse) throw new Error(`token_use is ${payload.token_use}, expected ${tokenUse}`);
          if (tokenUse === "access" && payload.client_id !== clientId) throw new Error("client_id mismatch");
        },
      },
      { jwksCache },
    );
  }
  const payload = await verifier.verify(token);
  console.log(JSON.stringify({ ok: true, payload }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: `${e?.name ?? "Error"}: ${e?.message ?? e}` }));
  process.exit(1);
}
