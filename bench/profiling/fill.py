#!/usr/bin/env python3
"""Create the index `bench` on a running fake-cell and fill it with the bench corpus.

Usage: fill.py CELL_URL DOCS

The index settings and documents are the bench's own (`bench/src/cell.rs`: `index_settings`,
`doc`, `WORDS`); keep them in step, or instruction counts stop comparing with BENCHMARKS.md.
Prints the index's own endpoint (its `marqoEndpoint`).
"""
import json
import sys
import time
import urllib.request

WORDS = (
    "red blue green black white leather cotton wool silk denim running walking hiking shoes "
    "boots sandals jacket shirt trousers dress hat scarf gloves socks bag wallet belt watch "
    "summer winter classic modern light heavy soft warm waterproof slim wide kids women men "
    "sport office evening travel garden kitchen lamp chair"
).split()
MASK = (1 << 64) - 1


def word(i, k):
    """`bench::cell::doc`'s splitmix64 draw of word `k` of document `i`."""
    z = (i * 16 + k + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return WORDS[(z ^ (z >> 31)) % len(WORDS)]


def doc(i):
    w = lambda k: word(i, k)  # noqa: E731
    return {
        "_id": f"doc-{i}",
        "title": f"{w(1)} {w(2)} {w(3)} {w(4)}",
        "description": f"A {w(5)} {w(6)} {w(7)} for {w(8)} and {w(9)} days, item {i}",
        "category": w(10),
        "price": (i % 500) + 0.99,
    }


def post(url, body):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def main():
    base, n = sys.argv[1].rstrip("/"), int(sys.argv[2])
    settings = {
        "type": "unstructured",
        "model": "hf/e5-base-v2",
        "annParameters": {
            "spaceType": "prenormalized-angular",
            "parameters": {"efConstruction": 128, "m": 16},
        },
    }
    endpoint = post(f"{base}/api/v2/indexes/bench", settings)["marqoEndpoint"].rstrip("/")
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/indexes/bench/health", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    for a in range(0, n, 100):
        batch = [doc(i) for i in range(a, min(a + 100, n))]
        r = post(f"{endpoint}/indexes/bench/documents", {"tensorFields": ["title"], "documents": batch})
        if r.get("errors"):
            sys.exit(f"add documents: {str(r)[:300]}")
    print(endpoint)


if __name__ == "__main__":
    main()
