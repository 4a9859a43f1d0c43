#!/usr/bin/env python3
"""N requests over one keep-alive connection to an index server: distinct load-point searches
(`bench::cell::search_body_for`, the query plus a word no document has) or `/healthz`.

Usage: load.py PORT METHOD N [FIRST]   (METHOD: LEXICAL, TENSOR, HYBRID or HEALTH)
"""
import http.client
import json
import sys


def main():
    port, method, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(first, first + n):
        if method == "HEALTH":
            conn.request("GET", "/healthz")
        else:
            body = {"q": f"red leather running shoes zq0x{i}", "searchMethod": method, "limit": 10}
            if method != "LEXICAL":
                body["efSearch"] = 48
            conn.request(
                "POST",
                "/indexes/bench/search",
                body=json.dumps(body, separators=(",", ":")),
                headers={"content-type": "application/json"},
            )
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"{method} #{i}: {r.status} {data[:300]!r}")


if __name__ == "__main__":
    main()
