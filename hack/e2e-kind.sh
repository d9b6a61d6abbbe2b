#!/usr/bin/env bash
# End-to-end check on a throwaway kind cluster: build the image, install the chart with the
# CertCentral simulator, request a duplicate from the examples and wait until it is Ready.
#
# Needs docker, kind, kubectl and helm on PATH. The cluster is deleted on exit, also on
# failure, unless KEEP_CLUSTER=1.
#   CLUSTER_NAME   kind cluster name (default: dupcert-e2e)
#   TIMEOUT        how long each wait may take (default: 180s)
set -euo pipefail

cd "$(dirname "$0")/.."

CLUSTER_NAME="${CLUSTER_NAME:-dupcert-e2e}"
TIMEOUT="${TIMEOUT:-180s}"
IMAGE="dupcert:e2e"
RELEASE_NAMESPACE="dupcert-system"
TEST_NAMESPACE="dupcert-e2e"

log() { printf '==> %s\n' "$*" >&2; }

for tool in docker kind kubectl helm; do
    command -v "$tool" >/dev/null || { log "$tool is not on PATH"; exit 1; }
done

cleanup() {
    local status=$?
    if [[ $status -ne 0 ]]; then
        log "failed; operator log follows"
        kubectl --namespace "$RELEASE_NAMESPACE" logs deployment/dupcert --tail=100 || true
        kubectl --namespace "$TEST_NAMESPACE" describe duplicatecertificates || true
    fi
    if [[ "${KEEP_CLUSTER:-}" == 1 ]]; then
        log "keeping cluster $CLUSTER_NAME"
    else
        kind delete cluster --name "$CLUSTER_NAME"
    fi
    exit "$status"
}

trap cleanup EXIT
log "creating kind cluster $CLUSTER_NAME"
kind create cluster --name "$CLUSTER_NAME" --wait "$TIMEOUT"

log "building $IMAGE"
docker build --tag "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER_NAME"

log "installing the chart with the simulator"
helm install dupcert charts/dupcert \
    --namespace "$RELEASE_NAMESPACE" --create-namespace \
    --set image.repository=dupcert --set image.tag=e2e --set image.pullPolicy=Never \
    --set simulator.enabled=true \
    --wait --timeout "$TIMEOUT"

# The examples point at a simulator on 127.0.0.1 with TLS. In the cluster it serves plain
# HTTP behind its Service, so the issuer gets that URL and no CA bundle.
log "applying the examples"
kubectl create namespace "$TEST_NAMESPACE"
simulator_url="http://dupcert-simulator.$RELEASE_NAMESPACE.svc:8443/services/v2"
kubectl --namespace "$TEST_NAMESPACE" apply -f examples/00-api-key-secret.yaml
sed -e "s|^  url: .*|  url: $simulator_url|" -e '/caBundleSecretRef:/,$d' examples/10-issuer.yaml |
    kubectl --namespace "$TEST_NAMESPACE" apply -f -
kubectl --namespace "$TEST_NAMESPACE" apply -f examples/20-duplicatecertificate.yaml

log "waiting for the issuers and the DuplicateCertificate"
kubectl wait --for=condition=Ready --timeout "$TIMEOUT" clustercertcentralissuer/certcentral-simulator
kubectl --namespace "$TEST_NAMESPACE" wait --for=condition=Ready --timeout "$TIMEOUT" \
    certcentralissuer/certcentral
kubectl --namespace "$TEST_NAMESPACE" wait --for=condition=Ready --timeout "$TIMEOUT" dupcert/web

log "checking Secret web-tls"
secret() {
    kubectl --namespace "$TEST_NAMESPACE" get secret web-tls -o jsonpath="{$1}"
}
[[ "$(secret .type)" == kubernetes.io/tls ]] || { log "web-tls is not a kubernetes.io/tls Secret"; exit 1; }
[[ "$(secret '.data.tls\.crt' | base64 --decode)" == *"BEGIN CERTIFICATE"* ]] ||
    { log "tls.crt of web-tls holds no certificate"; exit 1; }
# The key is compared in place and never printed.
[[ "$(secret '.data.tls\.key' | base64 --decode)" == *"PRIVATE KEY"* ]] ||
    { log "tls.key of web-tls holds no private key"; exit 1; }

log "passed"
