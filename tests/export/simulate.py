"""Replays the start order an export implies and compares it with `up`'s layers.

Reads the exported YAML (compose.yaml; k8s/base/*.yaml) — not the Rust structures they came
from — and starts services in waves: a service starts once everything it waits for has started
in an earlier wave (Compose: `depends_on`; Kubernetes: init containers named `wait-<name>`,
which hold back every container of their pod — moto is a container of the gateway's pod).
Compose's `network_mode: service:X` also implies X is started first, but that is a start, not
a health gate, within one layer, so it is not a layer boundary and is not replayed.
The waves must equal up-order.json, which orchestrator/tests/it/export.rs writes from the plan
`up` runs (each layer in turn, the seed after layer 0). Exit 1 with the difference otherwise.
"""

import json
import pathlib
import sys

import yaml


def replay(deps):
    done, waves = set(), []
    while len(done) < len(deps):
        wave = sorted(n for n, d in deps.items() if n not in done and d <= done)
        if not wave:
            stuck = sorted(n for n in deps if n not in done)
            raise SystemExit(f"never start (cycle or missing dependency): {stuck}")
        done.update(wave)
        waves.append(wave)
    return waves


def compose_waves(path):
    doc = yaml.safe_load(path.read_text())
    return replay({n: set((s.get("depends_on") or {}).keys()) for n, s in doc["services"].items()})


def k8s_waves(base):
    deps = {}
    for f in sorted(base.glob("*.yaml")):
        if f.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(f.read_text()):
            if not doc or doc.get("kind") not in ("Deployment", "StatefulSet", "Job"):
                continue
            pod = doc["spec"]["template"]["spec"]
            init = pod.get("initContainers") or []
            waits = {c["name"][len("wait-"):] for c in init if c["name"].startswith("wait-")}
            for c in pod["containers"]:
                deps[c["name"]] = waits
    return replay(deps)


def main():
    root = pathlib.Path(sys.argv[1])
    want = json.loads((root / "up-order.json").read_text())
    failed = False
    for what, got in (
        ("compose", compose_waves(root / "compose.yaml")),
        ("k8s", k8s_waves(root / "k8s" / "base")),
    ):
        if got != want:
            print(f"{what}: start order {got}\n  differs from up's {want}", file=sys.stderr)
            failed = True
        else:
            print(f"{what}: {len(got)} waves, as up: {' -> '.join('+'.join(w) for w in got)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
