#!/bin/sh
# SPDX-License-Identifier: ISC
# deps.sh SET...: make sure the Debian packages a target needs are there.
# As root, installs what is missing; otherwise prints the apt-get line and
# fails. Sets:
#   build  compile and unit tests
#   fuzz   clang and its libFuzzer/ASan runtime (fuzz targets, check-asan)
#   valgrind
#   bench  valgrind (callgrind) and GNU time
#   lint   cppcheck, clang-tidy, clang-format, mandoc
#   e2e    the real programs the end-to-end tests run: Postfix (installed
#          with debconf's "No configuration", so the machine's mail setup is
#          not touched), tcpserver, daemontools, runit, fetchmail, msmtp,
#          socat, python3, mandoc, dnsmasq-base (the DNS server of
#          deliver_mx.sh: the binary only, no service) and iproute2 (lo
#          up in its namespace). openbsd-inetd and xinetd conflict with
#          each other, so both are unpacked (not installed) into build/ext;
#          the libraries they link against are installed.
# Services in these packages are not started while installing (a
# temporary policy-rc.d), so installing changes no running system.
set -eu

pkgs_build="make gcc libcdb-dev libcriterion-dev tinycdb"
pkgs_fuzz="clang libclang-rt-14-dev"
pkgs_valgrind="valgrind"
pkgs_bench="valgrind time"
pkgs_lint="cppcheck clang-tidy clang-format mandoc"
pkgs_e2e="postfix ucspi-tcp-ipv6 daemontools runit fetchmail msmtp socat python3 mandoc
	libbsd0 libevent-2.1-7 libwrap0 libtirpc3 libselinux1 libsystemd0 netbase
	dnsmasq-base iproute2"
debs_e2e="openbsd-inetd xinetd"

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

install_missing() {
	export DEBIAN_FRONTEND=noninteractive
	case "$missing" in
	*postfix*)
		echo "postfix postfix/main_mailer_type select No configuration" |
			debconf-set-selections ;;
	esac
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy=1
	fi
	rc=0
	apt-get install -y -q $missing >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; } || rc=$?
	[ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
	return $rc
}

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "etrnd: missing packages. Install them with:" >&2
		echo "  apt-get install -y$missing" >&2
		exit 1
	fi
	echo "etrnd: installing$missing" >&2
	install_missing
fi

# Unpacked, not installed: programs that conflict with each other.
for set in "$@"; do
	[ "$set" = e2e ] || continue
	ext=build/ext
	[ -x $ext/root/usr/sbin/inetd ] && [ -x $ext/root/usr/sbin/xinetd ] && continue
	mkdir -p $ext
	(cd $ext && apt-get download $debs_e2e >/dev/null 2>&1) ||
		{ [ "$(id -u)" -eq 0 ] && apt-get update -q >/dev/null &&
			(cd $ext && apt-get download $debs_e2e >/dev/null); } ||
		{ echo "etrnd: unable to download $debs_e2e (apt-get download)" >&2; exit 1; }
	for d in $ext/*.deb; do dpkg-deb -x "$d" $ext/root; done
done
exit 0
