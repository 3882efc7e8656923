#!/usr/bin/env bash
# Obtains the control plane that tests/e2e runs against: etcd (Debian's etcd-server) plus
# kube-apiserver and kube-controller-manager v1.20.2, compiled from Debian's own `kubernetes`
# source package with Debian's Go. No container engine or binary download is needed: only the
# Debian archive. Prints the directory holding the three binaries; use it as KUBEBUILDER_ASSETS:
#
#   export KUBEBUILDER_ASSETS=$(hack/envtest.sh)
#
#   usage: hack/envtest.sh [DEST]   (default: ${XDG_CACHE_HOME:-$HOME/.cache}/envtest/k8s-1.20.2-r2)
#          hack/envtest.sh --check [DEST]   (exit 0 if DEST holds a working v1.20.2 build; never builds)
#
# The cache lives outside the repository and is shared with ../shared/envtest/build-envtest.sh
# (same default directory). With the binaries in place, running and reporting v1.20.2, it prints
# DEST and does nothing else; a cache that fails that check is rebuilt.
# Otherwise it needs a Debian 12 (bookworm) machine, root or sudo, ~1.5 GB of memory and about
# five minutes on two cores. Progress goes to stderr; stdout carries only the directory.
set -euo pipefail

VERSION=1.20.2
DEB_VERSION=1.20.5+really1.20.2-1.1+deb12u1
# Bumped when the build changes, so that a cache from an older build is not taken for this one
# (r2: the API server's /version says v1.20.2, which helm's kubeVersion check needs).
BUILD=r2
CHECK_ONLY=false
if [[ ${1:-} == --check ]]; then
  CHECK_ONLY=true
  shift
fi
DEST=${1:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/envtest/k8s-$VERSION-$BUILD}
BINARIES=(etcd kube-apiserver kube-controller-manager)

log() { echo "envtest: $*" >&2; }
die() { log "error: $*"; exit 1; }
# Every binary present and running, and the two Kubernetes ones reporting v$VERSION. Each
# version is captured first and matched afterwards: `cmd --version | grep -q` under pipefail
# fails whenever grep exits at its match before cmd has finished writing (SIGPIPE, issue 17).
have_all() {
  local b out
  for b in "${BINARIES[@]}"; do
    [[ -x $1/$b ]] || return 1
    out=$("$1/$b" --version 2>&1) || return 1
    if [[ $b == kube-* && $out != *"Kubernetes v$VERSION"* ]]; then
      log "$1/$b reports '${out%%$'\n'*}', not Kubernetes v$VERSION"
      return 1
    fi
  done
}

if have_all "$DEST"; then
  echo "$DEST"
  exit 0
fi
if $CHECK_ONLY; then
  die "$DEST does not hold a working v$VERSION build"
fi

# One build at a time per cache directory (two CI jobs, or `make` run twice in parallel): the
# second waits for the first and then finds the binaries in place.
mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
if ! flock -n 9; then
  log "another build of $DEST is running; waiting for it"
  flock 9
fi
if have_all "$DEST"; then
  echo "$DEST"
  exit 0
fi

codename=$( (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true)
if [[ $codename != bookworm ]]; then
  die "building needs Debian 12 (bookworm), this is '${codename:-unknown}'. Elsewhere, point" \
    "KUBEBUILDER_ASSETS at binaries from setup-envtest, or a kind cluster's kubeconfig at" \
    "AURA_E2E_KUBECONFIG (see the README's e2e section)."
fi
as_root() {
  if [[ $(id -u) == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "installing build dependencies needs root or sudo"
  fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/envtest-build.XXXXXX")
stage=$DEST.partial.$$
trap 'rm -rf "$work" "$stage"' EXIT
log "building kube-apiserver and kube-controller-manager $VERSION into $DEST (about 5 minutes)"

log "installing Go, etcd and build tools from Debian"
as_root apt-get update -qq >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  golang-go etcd-server golang-github-modern-go-reflect2-dev \
  rsync jq make ca-certificates openssl >&2

# Source packages need deb-src entries: copy the machine's own Debian entries into a private apt
# configuration with deb-src added, so that the system's apt setup is left untouched.
log "fetching Debian's kubernetes $DEB_VERSION source package"
mkdir -p "$work/apt/lists/partial" "$work/apt/sources"
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -e $f ]] || continue
  sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' "$f" >"$work/apt/sources/${f##*/}"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -s $f ]] || continue
  sed -n 's/^[[:space:]]*deb[[:space:]]\(.*\)/deb-src \1/p' "$f" >"$work/apt/sources/src-${f##*/}.list"
done
apt_src=(-o "Dir::Etc::SourceParts=$work/apt/sources" -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::State::Lists=$work/apt/lists" -o "APT::Sandbox::User=root")
apt-get "${apt_src[@]}" update -qq >&2
(cd "$work" && apt-get "${apt_src[@]}" source --download-only -qq "kubernetes=$DEB_VERSION" >&2) ||
  die "could not download the source package kubernetes=$DEB_VERSION from the Debian archive"
tar -xzf "$work"/kubernetes_*.orig.tar.gz -C "$work"

# Kubernetes 1.20 builds in GOPATH mode from its vendor/ tree.
mkdir -p "$work/gopath/src/k8s.io"
mv "$work/kubernetes-$VERSION" "$work/gopath/src/k8s.io/kubernetes"
src=$work/gopath/src/k8s.io/kubernetes
# The vendored reflect2 1.0.1 crashes the API server under Go >= 1.18 (a fault inside
# json-iterator's map encoder); Debian's reflect2 1.0.2 is the fixed release.
rm -rf "$src/vendor/github.com/modern-go/reflect2"
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$src/vendor/github.com/modern-go/reflect2"
rm -f "$src"/vendor/github.com/modern-go/reflect2/*_test.go

export GO111MODULE=off GOPATH=$work/gopath CGO_ENABLED=0 GOFLAGS=
export GOCACHE=$work/gocache
log "generating Kubernetes' generated files (openapi definitions)"
(cd "$src" && make generated_files >&2)

# Both version packages, as Kubernetes' own hack/lib/version.sh does: `--version` reads
# component-base's, the API server's /version endpoint (what kubectl and helm see) client-go's.
ldflags="-s -w"
for vpkg in k8s.io/kubernetes/vendor/k8s.io/component-base/version \
  k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  ldflags+=" -X $vpkg.gitVersion=v$VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=20"
  ldflags+=" -X $vpkg.gitTreeState=archive"
done
mkdir -p "$stage"
for cmd in kube-apiserver kube-controller-manager; do
  log "building $cmd (a few minutes on 2 cores)"
  (cd "$src" && go build -ldflags "$ldflags" -o "$stage/$cmd" "./cmd/$cmd")
done
cp "$(command -v etcd)" "$stage/etcd"
have_all "$stage" || die "the built binaries do not run or do not report v$VERSION"

# Move into place only when complete, so an interrupted build never looks like a cached one.
rm -rf "$DEST"
mv "$stage" "$DEST"
log "done: $DEST"
echo "$DEST"
