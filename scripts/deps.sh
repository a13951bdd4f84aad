#!/bin/sh
# deps.sh SET...: make sure the Debian packages a target needs are there.
# As root, installs what is missing; otherwise prints the apt-get line and
# fails. Sets: build (compile and unit tests), e2e (the end-to-end tests'
# third-party programs: Postfix, installed with "No configuration" so that
# the machine's mail setup is not touched, and tcpserver).
set -eu

pkgs_build="make gcc libcdb-dev libcriterion-dev tinycdb"
pkgs_e2e="postfix ucspi-tcp-ipv6"

want=""
for set in "$@"; do
	eval "want=\"\$want \$pkgs_$set\""
done

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "etrnd: missing build dependencies. Install them with:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "etrnd: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
case "$missing" in
*postfix*)
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections ;;
esac
apt-get install -y -q $missing >/dev/null 2>&1 ||
	{ apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }
