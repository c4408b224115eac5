#!/usr/bin/env bash
# What the tests need beyond npm (run by `npm test` first, so it alone does everything on a fresh
# Debian machine): tools to make real disk images and compare them, and vcsim built from govmomi.
set -euo pipefail
cd "$(dirname "$0")/.."

# the transport tests make real disk images (sfdisk, mkfs.ext2/3/4, mkfs.xfs, blkid, dumpe2fs,
# xfs_db) and compare with rsync and xxhsum (benchmarks)
need=()
command -v sfdisk >/dev/null || need+=(fdisk)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
command -v blkid >/dev/null || need+=(util-linux)
command -v rsync >/dev/null || need+=(rsync)
command -v xxhsum >/dev/null || need+=(xxhash)
# the vSphere tests' simulator (test/vcsim): Go and govmomi's sources, built offline in GOPATH
# mode by scripts/build-vcsim.sh (golang-github-google-uuid-dev comes as govmomi's dependency)
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || need+=(golang-github-vmware-govmomi-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "the tests need these Debian packages: ${need[*]} (apt-get install them as root)" >&2
    exit 1
  fi
  echo "installing what the tests need: ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# vcsim into the cache outside git (~/.cache/ferry/vcsim-<hash>); a no-op when it is there
bash scripts/build-vcsim.sh >/dev/null
