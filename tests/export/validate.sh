#!/usr/bin/env bash
# Offline checks of `orchestrator export` and the Dockerfile (no container engine or cluster
# needed): the reviewed goldens in fixtures/export — which orchestrator/tests/it/export.rs proves
# equal to a fresh export of fixtures/hippodrome.example.toml — pass
#   * kubernetes-validate --strict for the Kubernetes version the export targets,
#   * the Compose specification's JSON schema (vendored in check-jsonschema: no network),
#   * a start-order replay (simulate.py) equal to `up`'s layers (fixtures/export/up-order.json);
# and the Dockerfile passes hadolint.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${HIPPODROME_EXPORT_VENV:-.hippodrome/venvs/export}
GOLDEN=fixtures/export
K8S_VERSION=$(sed -n 's/^pub const KUBERNETES_VERSION: &str = "\(.*\)";/\1/p' orchestrator/src/export/k8s.rs)
[ -n "$K8S_VERSION" ] || { echo "cannot read KUBERNETES_VERSION from orchestrator/src/export/k8s.rs" >&2; exit 1; }

echo "--> kubernetes-validate --strict -k $K8S_VERSION"
mapfile -t manifests < <(find "$GOLDEN/k8s/base" -name '*.yaml' ! -name kustomization.yaml | sort)
[ "${#manifests[@]}" -gt 0 ] || { echo "no manifests under $GOLDEN/k8s/base" >&2; exit 1; }
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${manifests[@]}"

# Kustomize overlays: rendered with kubectl's built-in kustomize (offline) where kubectl is installed,
# then held to the same strict schema as the base. Without kubectl they are checked only as goldens.
if command -v kubectl >/dev/null 2>&1; then
  for overlay in "$GOLDEN"/k8s/overlays/*/; do
    echo "--> kustomize $overlay + kubernetes-validate --strict"
    rendered=$(mktemp /tmp/hippodrome-kustomize-XXXXXX.yaml)
    kubectl kustomize "$overlay" > "$rendered"
    "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$rendered"
    rm -f "$rendered"
  done
else
  echo "--> kubectl not installed: overlays not rendered (kubectl kustomize would check them)"
fi

echo "--> Compose specification schema"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$GOLDEN/compose.yaml"

echo "--> hadolint Dockerfile"
"$VENV/bin/hadolint" Dockerfile

echo "--> start order replayed from the manifests equals up's layers"
"$VENV/bin/python" tests/export/simulate.py "$GOLDEN"
echo "export checks: ok"
