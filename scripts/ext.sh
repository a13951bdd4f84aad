#!/bin/sh
# SPDX-License-Identifier: ISC
# ext.sh NAME PKG...: unpacks (never installs) Debian packages into
# build/ext/NAME/, for programs that conflict as packages: the inetds, and
# the MTAs (postfix, exim4, sendmail, opensmtpd), which would remove each
# other, or the machine's own mail server, if installed. Idempotent: a
# tree that is complete (its .done stamp lists the same packages) is kept.
# The libraries the unpacked programs link against are ordinary packages
# (scripts/deps.sh installs them); the programs run from the tree.
set -eu
name=$1
shift
dir=build/ext/$name
want="$*"
if [ -f "$dir/.done" ] && [ "$(cat "$dir/.done")" = "$want" ]; then
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/debs"
download() { (cd "$dir/debs" && apt-get download "$@" >/dev/null 2>&1); }
if ! download "$@"; then
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update -q >/dev/null
		download "$@" || { echo "etrnd: unable to download $* (apt-get download)" >&2; exit 1; }
	else
		echo "etrnd: unable to download $* (apt-get download; try as root after apt-get update)" >&2
		exit 1
	fi
fi
for d in "$dir"/debs/*.deb; do
	dpkg-deb -x "$d" "$dir/root"
done
# Nothing in a test tree needs setuid (the tests run the programs as root
# or as the user they name): no setuid-root binaries lie around. Setgid
# stays: Sendmail's own checks of its configuration depend on it.
find "$dir/root" -type f -perm /4000 -exec chmod u-s {} +
echo "$want" > "$dir/.done"
