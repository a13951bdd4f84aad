#!/bin/sh
# SPDX-License-Identifier: ISC
# deps.sh SET...: make sure the Debian packages a target needs are there.
# As root, installs what is missing; otherwise prints the apt-get line and
# fails. Sets:
#   build  compile and unit tests
#   fuzz   clang and its libFuzzer/ASan runtime (fuzz targets, check-asan)
#   valgrind
#   bench  valgrind (callgrind), GNU time, strace (system call counts)
#   lint   cppcheck, clang-tidy, clang-format, mandoc
#   e2e    the real programs the end-to-end tests run: tcpserver,
#          daemontools, runit, fetchmail, msmtp, socat, python3, mandoc,
#          openssl (the tests' certificates; systemd, whose
#          systemd-socket-activate runs the socket unit samples, is used
#          when the machine has it, never installed: it would bring
#          its recommended services),
#          dnsmasq-base (the DNS server of deliver_mx.sh: the binary only,
#          no service), iproute2 (lo up in its namespace), and the
#          libraries of the unpacked programs; m4 (Sendmail's
#          configuration). Programs that conflict as packages
#          (openbsd-inetd and xinetd; the MTAs) are never installed:
#          scripts/ext.sh unpacks them into build/ext/NAME, and only the
#          libraries they link against are installed. No mail server of the
#          machine is touched.
# Services in these packages are not started while installing (a
# temporary policy-rc.d), so installing changes no running system.
set -eu

pkgs_build="make gcc lld libcdb-dev libcriterion-dev tinycdb libtls-dev libcrypt-dev"
pkgs_fuzz="clang libclang-rt-14-dev"
pkgs_valgrind="valgrind"
pkgs_bench="valgrind time strace"
# make static-order: the session's functions as they run (static-order.sh)
pkgs_order="gdb"
pkgs_lint="cppcheck clang-tidy clang-format mandoc"
pkgs_e2e="ucspi-tcp-ipv6 daemontools runit fetchmail msmtp socat python3 mandoc strace
	openssl
	libbsd0 libevent-2.1-7 libwrap0 libtirpc3 libselinux1 libsystemd0 netbase
	dnsmasq-base iproute2
	libdb5.3 libssl3 zlib1g libpam0g libcrypt1
	libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2 libpcre2-8-0
	m4 libldap-2.5-0 liblockfile1 libsasl2-2 libicu72"
debs_e2e="openbsd-inetd xinetd"
# Exim: the daemon package alone holds /usr/sbin/exim4 (exim4-base only has
# helper scripts); the libraries above are what it links against.
debs_exim="exim4-daemon-light"
# Sendmail: the binary (sendmail-bin) and the m4 files that build its
# configuration (sendmail-cf); m4 and the libraries above are installed.
debs_sendmail="sendmail-bin sendmail-cf"

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

# Unpacked, not installed: programs that conflict with each other, each in
# its own tree build/ext/NAME/root (scripts/ext.sh).
for set in "$@"; do
	[ "$set" = e2e ] || continue
	sh scripts/ext.sh inetd $debs_e2e
	sh scripts/ext.sh opensmtpd opensmtpd
	sh scripts/ext.sh exim $debs_exim
	sh scripts/ext.sh sendmail $debs_sendmail
	sh scripts/ext.sh postfix postfix
done
exit 0
