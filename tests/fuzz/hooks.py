"""Schemathesis hooks for Hippodrome's fuzz run: every error response must be JSON."""

import json

import schemathesis

HTML_PAGES = {"/oauth2/authorize", "/login", "/logout", "/fake-idp/{provider}", "/oauth2/idpresponse"}


@schemathesis.check
def error_is_json(ctx, response, case):
    """A 4xx/5xx answer carries a JSON content type and a body that parses as JSON."""
    if response.status_code < 400:
        return None
    ctype = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
    if isinstance(ctype, list):
        ctype = ctype[0] if ctype else ""
    # The hosted UI's pages are for people: their errors are HTML pages by design (the one
    # exception to "APIs never return HTML"), and fake-cognito's spec marks them "(HTML)".
    if "text/html" in ctype.lower() and case.operation.path in HTML_PAGES:
        return None
    if "json" not in ctype.lower():
        raise AssertionError(
            f"{response.status_code} error with content type {ctype!r}, not JSON"
        )
    try:
        json.loads(response.content or b"")
    except ValueError as e:
        raise AssertionError(f"{response.status_code} error body is not JSON: {e}") from None
    return None
