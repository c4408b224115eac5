#!/usr/bin/env bash
# Builds test/vcsim (our vCenter/ESXi simulator over govmomi's `simulator` package) and prints
# the binary's path. Offline, GOPATH mode, from Debian's golang-go and
# golang-github-vmware-govmomi-dev. The binary lives outside git, in
#   ${FERRY_VCSIM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry}/vcsim-<hash>
# where <hash> covers test/vcsim/*.go, the govmomi package version, the Go version and this
# script; when that file exists nothing is built, so calling this again is instant.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/test/vcsim"
gopath="${FERRY_VCSIM_GOPATH:-/usr/share/gocode}"
cache="${FERRY_VCSIM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/ferry}"

if ! command -v go >/dev/null; then
  echo "build-vcsim: go not found; install golang-go and golang-github-vmware-govmomi-dev (apt-get)" >&2
  exit 1
fi
if [ ! -d "$gopath/src/github.com/vmware/govmomi/simulator" ]; then
  echo "build-vcsim: $gopath/src/github.com/vmware/govmomi/simulator missing; install golang-github-vmware-govmomi-dev (apt-get)" >&2
  exit 1
fi

govmomi="$(dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null || true)"
if [ -z "$govmomi" ]; then # not from a Debian package: hash the simulator's sources instead
  govmomi="$(cd "$gopath/src/github.com/vmware/govmomi" && find simulator vim25 object -name '*.go' -type f | LC_ALL=C sort | xargs sha256sum | sha256sum)"
fi
hash="$( { (cd "$src" && ls *.go | LC_ALL=C sort | xargs sha256sum); echo "govmomi $govmomi"; go version; sha256sum < "$0"; } | sha256sum | cut -c1-16)"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
bin="$cache/vcsim-$hash"

if [ ! -x "$bin" ]; then
  exec 9>"$cache/vcsim.lock"
  command -v flock >/dev/null && flock 9 # one build at a time (test files start in parallel)
  if [ ! -x "$bin" ]; then
    start=$(date +%s)
    echo "build-vcsim: building $bin (govmomi $govmomi, $(go version | cut -d' ' -f3))" >&2
    tmp="$(mktemp "$cache/.vcsim-build.XXXXXX")"
    trap 'rm -f "$tmp"' EXIT
    # GOPATH mode (no modules, no network); pure Go (no C compiler needed); the Go build cache
    # beside the binary so a rebuild after an edit of main.go takes seconds.
    (cd "$src" && env GO111MODULE=off GOPATH="$gopath" GOFLAGS= CGO_ENABLED=0 GOPROXY=off \
      GOCACHE="$cache/go-build" go build -trimpath -ldflags='-s -w' -o "$tmp" .)
    mv -f "$tmp" "$bin" # atomic: others see no binary or a whole one
    trap - EXIT
    echo "build-vcsim: built in $(( $(date +%s) - start ))s" >&2
  fi
fi
echo "$bin"
