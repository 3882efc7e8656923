#!/usr/bin/env bash
# Provides promtool for the chart's metrics test (`promtool check rules` on the rendered
# PrometheusRule and on the Grafana dashboard's queries). promtool ships in Debian's `prometheus`
# package; installing that package would also install and start a Prometheus server, so this
# downloads the .deb with `apt-get download` (apt checks it against the signed archive index) and
# extracts only usr/bin/promtool into a cache directory. Prints the directory holding `promtool`:
#
#   export AURA_PROMTOOL=$(hack/promtool.sh)
#
#   usage: hack/promtool.sh [DEST]  (default: ${XDG_CACHE_HOME:-$HOME/.cache}/aura-operator/promtool)
#
# With promtool in DEST, or on PATH, it prints that directory and does nothing else (no network).
# Otherwise it needs apt-get and dpkg-deb (Debian, Ubuntu) and the package index, which it fetches
# itself (apt-get update) when it runs as root. Progress goes to stderr; stdout carries only the
# directory.
set -euo pipefail

PACKAGE=prometheus
DEST=${1:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/aura-operator/promtool}

log() { echo "promtool: $*" >&2; }
die() { log "error: $*"; exit 1; }
works() { [[ -x $1/promtool ]] && "$1/promtool" --version >/dev/null 2>&1; }

if works "$DEST"; then
  echo "$DEST"
  exit 0
fi
# A promtool already installed (Debian's or Homebrew's prometheus package, a release tarball).
if system=$(command -v promtool) && works "$(dirname "$system")"; then
  dirname "$system"
  exit 0
fi

mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
if ! flock -n 9; then
  log "another download into $DEST is running; waiting for it"
  flock 9
fi
if works "$DEST"; then
  echo "$DEST"
  exit 0
fi

command -v apt-get >/dev/null || die "apt-get is needed to fetch Debian's $PACKAGE package"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to unpack $PACKAGE"

work=$(mktemp -d "${TMPDIR:-/tmp}/aura-promtool.XXXXXX")
stage=$DEST.partial.$$
trap 'rm -rf "$work" "$stage"' EXIT
candidate() { apt-cache policy "$PACKAGE" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
version=$(candidate)
# A fresh machine may have no package index yet: as root, fetch it once (it only adds lists).
if [[ -z $version || $version == "(none)" ]] && [[ $(id -u) == 0 ]]; then
  log "no $PACKAGE in the apt index; running apt-get update once"
  apt-get update -q >&2 || die "apt-get update failed"
  version=$(candidate)
fi
[[ -n $version && $version != "(none)" ]] ||
  die "no $PACKAGE package in the apt index: run apt-get update (as root) once"
log "fetching $PACKAGE $version with apt-get download (about 20 MB, once)"
(cd "$work" && apt-get download -q "$PACKAGE=$version" >&2) ||
  die "apt-get download $PACKAGE=$version failed"
deb=$(ls "$work"/*.deb)
dpkg-deb -x "$deb" "$work/root" || die "could not unpack $deb"
[[ -x $work/root/usr/bin/promtool ]] || die "$deb holds no usr/bin/promtool"

mkdir -p "$stage"
cp "$work/root/usr/bin/promtool" "$stage/promtool"
works "$stage" || die "the unpacked promtool does not run: $("$stage/promtool" --version 2>&1 || true)"

rm -rf "$DEST"
mv "$stage" "$DEST"
# Captured first, then cut: no pipe into head, whose early exit could fail it under pipefail.
about=$("$DEST/promtool" --version 2>&1)
log "done: $DEST (${about%%$'\n'*})"
echo "$DEST"
