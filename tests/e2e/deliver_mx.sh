#!/bin/bash
# SPDX-License-Identifier: ISC
# etrnd-deliver's "mx" destination against a real DNS server: dnsmasq on
# loopback inside private mount, network and pid namespaces, where
# /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf are bind mounts of
# our own files. The machine's network and resolver are never touched, and
# when this script dies the kernel ends everything it started (the pid
# namespace dies with its first process).
#
#   client.example.net    MX 10 mx1 (127.0.0.2: connection refused)
#                         MX 20 mx2 (127.0.0.3: smtpsink on port 25)
#   implicit.example.net  no MX, A 127.0.0.3: the implicit MX
#   v6.example.net        MX 10 mx6 (AAAA ::1: smtpsink on [::1]:25)
#   badmx.example.net     MX 10 bad_name.example.net (not a host name), and
#                         an A record: not the implicit MX (RFC 5321 5.1),
#                         kept
#   nx.example.net        NXDOMAIN: failed/ for good
#   www.fail.test         SERVFAIL (a second dnsmasq answers unsigned data
#                         for a zone the first one has a trust anchor for):
#                         kept, exit 75
#
# Prints PASS at the end; SKIP (exit 0) when not root or when unshare
# cannot make the namespaces.
set -u
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

skip() { echo "SKIP: $*"; exit 0; }

if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" = 0 ] || skip "needs root for private network and mount namespaces"
	unshare --mount --net --pid --fork --mount-proc true 2>/dev/null ||
		skip "unshare cannot make mount, network and pid namespaces here"
	for t in dnsmasq ip timeout; do
		command -v "$t" >/dev/null || fail "$t is missing (scripts/deps.sh e2e installs it)"
	done
	[ -n "$PY" ] || fail "python3 is missing"
	T=$(mktemp -d /tmp/etrnd-e2e-mx.XXXXXX)
	trap 'if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; fi' EXIT
	chmod 755 "$T"
	export T BIN PY OUTER_NET OUTER_MNT
	OUTER_NET=$(readlink /proc/self/ns/net) OUTER_MNT=$(readlink /proc/self/ns/mnt)
	timeout -k 5 120 unshare --mount --net --pid --fork --mount-proc --propagation private \
		bash "$0" --inside
	exit $?
fi

# ---- inside the namespaces ----
[ "$(readlink /proc/self/ns/net)" != "$OUTER_NET" ] || fail "not in a new network namespace"
[ "$(readlink /proc/self/ns/mnt)" != "$OUTER_MNT" ] || fail "not in a new mount namespace"
trap stop_all EXIT
ip link set lo up || fail "ip link set lo up"
[ "$(ip -o link | wc -l)" = 1 ] || fail "more than lo in the namespace"

printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$T/hosts"
printf 'hosts: files dns\n' >"$T/nsswitch.conf"
for f in resolv.conf hosts nsswitch.conf; do
	mount --bind "$T/$f" "/etc/$f" || fail "bind mount /etc/$f"
done

# dnsmasq --user= --group=: keep the uid; its own pid files (/run is the
# machine's).
spawn dnsmasq --user= --group= --keep-in-foreground --no-resolv --no-hosts --port=53 \
	--listen-address=127.0.0.9 --bind-interfaces --pid-file="$T/dnsmasq-up.pid" --log-queries \
	--log-facility="$T/dnsmasq-up.log" --local=/fail.test/ \
	--host-record=www.fail.test,127.0.0.3 --mx-host=www.fail.test,www.fail.test,10
spawn dnsmasq --user= --group= --keep-in-foreground --no-resolv --no-hosts --port=53 \
	--listen-address=127.0.0.1 --bind-interfaces --pid-file="$T/dnsmasq.pid" --log-queries \
	--log-facility="$T/dnsmasq.log" --local=/example.net/ \
	--mx-host=client.example.net,mx1.client.example.net,10 \
	--mx-host=client.example.net,mx2.client.example.net,20 \
	--host-record=mx1.client.example.net,127.0.0.2 \
	--host-record=mx2.client.example.net,127.0.0.3 \
	--host-record=implicit.example.net,127.0.0.3 \
	--mx-host=v6.example.net,mx6.v6.example.net,10 \
	--mx-host=badmx.example.net,bad_name.example.net,10 \
	--host-record=badmx.example.net,127.0.0.3 \
	--host-record=mx6.v6.example.net,::1 \
	--dnssec \
	--trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D \
	--trust-anchor=fail.test,1,8,2,0000000000000000000000000000000000000000000000000000000000000000 \
	--server=/fail.test/127.0.0.9
spawn "$PY" "$ROOT/tests/helpers/smtpsink" --dir "$T/sink" --listen 127.0.0.3:25 \
	--listen '[::1]:25' --ready-file "$T/sink.ready" --log "$T/sink.log"

wait_until 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/53' 2>/dev/null || fail "dnsmasq not up"
wait_until 10 bash -c 'exec 3<>/dev/tcp/127.0.0.9/53' 2>/dev/null || fail "dnsmasq (upstream) not up"
wait_until 10 test -e "$T/sink.ready" || fail "smtpsink not ready"

# deliver NAME WANT_STATUS: etrnd-deliver $T/NAME mx, its log in $T/NAME.log
deliver() {
	local rc
	"$BIN/etrnd-deliver" -T 60 -h mx.test "$T/$1" mx 2>"$T/$1.log"
	rc=$?
	sed "s/^/  $1: /" "$T/$1.log"
	[ "$rc" = "$2" ] || fail "$1: etrnd-deliver exited $rc, not $2"
}
store() {
	local dir=$1
	shift
	printf 'Subject: via mx\n\n.a leading dot\n' |
		"$BIN/etrnd-store" -f sender@example.org "$T/$dir" "$@" || fail "etrnd-store $*"
}
sink_has() { grep -l -- "$1" "$T"/sink/new/* 2>/dev/null | head -1; }

# 1. Two MX hosts, the first refusing connections; and the implicit MX.
store pref a@client.example.net
store pref b@implicit.example.net
deliver pref 0
[ "$(count_files "$T/pref/new")" = 0 ] || fail "pref: mail left in new/"
m=$(sink_has '<a@client.example.net>')
[ -n "$m" ] || fail "a@client.example.net not delivered"
grep -q '^X-Sink-Local: 127.0.0.3:25$' "$m" || fail "a@client.example.net not via mx2"
grep -q '^\.a leading dot' "$m" || fail "the message did not arrive whole"
grep -q 'dest=mx2.client.example.net\[127.0.0.3\]:25' "$T/pref.log" ||
	fail "the log does not name mx2"
grep -q 'query\[A\] mx1.client.example.net' "$T/dnsmasq.log" || fail "mx1 was never tried first"
m=$(sink_has '<b@implicit.example.net>')
[ -n "$m" ] || fail "b@implicit.example.net (implicit MX) not delivered"
grep -q '^X-Sink-Local: 127.0.0.3:25$' "$m" || fail "implicit MX: wrong host"
say "MX 10 refused, MX 20 delivered; implicit MX delivered"
want=2

# 2. An MX host with only an IPv6 address.
if grep -q '::1' <<<"$(ip -6 addr show dev lo)"; then
	store v6 c@v6.example.net
	deliver v6 0
	m=$(sink_has '<c@v6.example.net>')
	[ -n "$m" ] || fail "c@v6.example.net not delivered"
	grep -q '^X-Sink-Local: ::1:25$' "$m" || fail "v6: not over ::1"
	say "MX host on IPv6 delivered"
	want=3
fi

# 3. NXDOMAIN: permanent, the recipient goes to failed/ with why.
store nx d@nx.example.net
deliver nx 0
[ "$(count_files "$T/nx/new")" = 0 ] || fail "nx: still in new/"
[ "$(count_files "$T/nx/failed")" = 1 ] || fail "nx: not in failed/"
grep -q '^error d@nx.example.net 550 nx.example.net has no mail host$' "$T"/nx/failed/* ||
	fail "nx: no error line in failed/"
say "NXDOMAIN: failed/"

# 4. SERVFAIL: temporary, kept exactly as it was, exit 75.
store sf e@www.fail.test
cp -a "$T/sf/new" "$T/sf.before"
deliver sf 75
diff -r "$T/sf.before" "$T/sf/new" >/dev/null || fail "SERVFAIL: the message changed"
[ "$(count_files "$T/sf/failed")" = 0 ] || fail "SERVFAIL: something in failed/"
grep -q 'could not be looked up in the DNS' "$T/sf.log" || fail "SERVFAIL: no reason logged"
grep -q 'query\[MX\] www.fail.test' "$T/dnsmasq.log" || fail "SERVFAIL: never asked"
say "SERVFAIL: kept, 75"

# 5. MX records none of which names a host: not the implicit MX.
store bad f@badmx.example.net
deliver bad 75
[ "$(count_files "$T/bad/new")" = 1 ] || fail "badmx: not kept"
grep -q . <<<"$(sink_has '<f@badmx.example.net>')" && fail "badmx: delivered to its A record"
grep -q 'config badmx.example.net is <MX>' "$T/dnsmasq.log" || fail "badmx: no MX served"
grep -q 'query\[A\] badmx.example.net' "$T/dnsmasq.log" && fail "badmx: looked up as its own host"
say "unusable MX targets: kept, not the implicit MX"

n=$(count_files "$T/sink/new")
[ "$n" = "$want" ] || fail "the sink has $n messages, not $want"
echo "PASS"
