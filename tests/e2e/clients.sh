#!/bin/bash
# SPDX-License-Identifier: ISC
# Real ETRN clients against etrnd under tcpserver on loopback: our etrn(1)
# (IPv4, IPv6, exit codes, -v, timeouts), fetchmail (-p ETRN
# --fetchdomains), msmtp (--rmqs) and Python's smtplib (docmd('ETRN')).
# Each must get the reply the rules call for.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for p in tcpserver fetchmail msmtp /usr/bin/python3; do
	command -v "$p" >/dev/null || fail "$p is missing (make check installs it as root)"
done
T=$(mktemp -d /tmp/etrnd-e2e-clients.XXXXXX)
cleanup() { stop_all; if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; fi; }
trap cleanup EXIT

mkdir -p "$T/queue/tmp" "$T/queue/new" "$T/queue/cur" "$T/spool" "$T/empty" "$T/home"
echo one > "$T/spool/1"
echo two > "$T/spool/2"
cat > "$T/etrn.rules" <<RULES
client.example.net  allow=127.0.0.1,::1  spool=$T/spool
empty.example.net   spool=$T/empty
@example.org
legacy.example.com  deny="ETRN retired for this node"
RULES
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
PORT=$(free_port)
spawn tcpserver -q -R -H -l mx.test 127.0.0.1 "$PORT" "$BIN/etrnd" -n mx.test -d "$T/etrn.cdb" \
	-q "$T/queue" -l stderr 2>>"$T/etrnd.log"
wait_port "$PORT" || fail "tcpserver did not start"

# -- etrn(1) ----------------------------------------------------------------
set +e
out=$("$BIN/etrn" -p "$PORT" 127.0.0.1 client.example.net A.Example.ORG empty.example.net); rc=$?
set -e
[ $rc -eq 0 ] || fail "etrn: exit $rc for all-2xx replies: $out"
[ "$out" = "client.example.net 253 2.0.0 OK, 2 pending messages for node client.example.net started
A.Example.ORG 250 2.0.0 OK, queuing for node a.example.org started
empty.example.net 251 2.0.0 OK, no messages waiting for node empty.example.net" ] ||
	fail "etrn: unexpected output: $out"
set +e
out=$("$BIN/etrn" -p "$PORT" 127.0.0.1 a.example.org unknown.example.com legacy.example.com); rc=$?
set -e
[ $rc -eq 1 ] || fail "etrn: exit $rc with 458/459 replies (want 1)"
echo "$out" | grep -qx 'unknown.example.com 458 4.3.0 Unable to queue messages for node unknown.example.com' ||
	fail "etrn: $out"
err=$("$BIN/etrn" -v -p "$PORT" 127.0.0.1 a.example.org 2>&1 >/dev/null)
echo "$err" | grep -q '^>>> ETRN a.example.org$' && echo "$err" | grep -q '^<<< 221 ' ||
	fail "etrn -v: no dialogue: $err"
set +e
"$BIN/etrn" -p "$PORT" 127.0.0.1 'bad node' 2>/dev/null; rc=$?
set -e
[ $rc -eq 100 ] || fail "etrn: exit $rc for an invalid node (want 100)"
say "etrn: 253/250/251 exit 0, 458/459 exit 1, -v dialogue, invalid node 100"

if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	PORT6=$(free_port)
	spawn tcpserver -q -R -H -l mx.test ::1 "$PORT6" "$BIN/etrnd" -n mx.test -d "$T/etrn.cdb" \
		-q "$T/queue" -l stderr 2>>"$T/etrnd.log"
	wait_until 10 bash -c "exec 3<>/dev/tcp/::1/$PORT6" 2>/dev/null || fail "tcpserver ::1"
	out=$("$BIN/etrn" -p "$PORT6" ::1 client.example.net) || fail "etrn over ::1: $out"
	echo "$out" | grep -q '^client.example.net 253 ' || fail "etrn ::1: $out"
	grep -q 'etrn client=::1 node=client.example.net' "$T/etrnd.log" || fail "::1 not seen"
	say "etrn: IPv6 to ::1, the client address reached the ACL"
else
	say "etrn over ::1: SKIPPED, this host has no ::1 on lo"
fi

DEAD=$(free_port)
set +e
"$BIN/etrn" -p "$DEAD" 127.0.0.1 a.example.org 2>/dev/null; rc=$?
set -e
[ $rc -eq 111 ] || fail "etrn: exit $rc for a refused connection (want 111)"
SILENT=$(free_port)
# a server that never says a word, and goes when the client does
spawn tcpserver -q -H -l mx.test 127.0.0.1 "$SILENT" sh -c 'exec cat >/dev/null'
wait_port "$SILENT" || fail "silent server"
start=$(date +%s)
set +e
"$BIN/etrn" -t 1 -p "$SILENT" 127.0.0.1 a.example.org 2>/dev/null; rc=$?
set -e
[ $rc -eq 111 ] || fail "etrn: exit $rc for a server that never greets (want 111)"
[ $(($(date +%s) - start)) -le 5 ] || fail "etrn -t 1 took too long"
say "etrn: refused connection and silent server exit 111 (-t honoured)"

# -- fetchmail ------------------------------------------------------------
fm() { HOME="$T/home" timeout 30 fetchmail -f /dev/null --nosyslog -v -p ETRN -P "$PORT" \
	--fetchdomains "$1" 127.0.0.1 2>&1; }
set +e
out=$(fm client.example.net,a.example.org); rc=$?
set -e
[ $rc -eq 0 ] || fail "fetchmail: status $rc: $out"
echo "$out" | grep -q 'Pending messages for client.example.net started' || fail "fetchmail: $out"
echo "$out" | grep -q 'Queuing for a.example.org started' || fail "fetchmail: $out"
set +e
out=$(fm empty.example.net); rc=$?
set -e
echo "$out" | grep -q 'No messages waiting for empty.example.net' || fail "fetchmail 251: $out"
set +e
out=$(fm legacy.example.com); rc=$?
set -e
[ $rc -ne 0 ] || fail "fetchmail: status 0 for a 459"
echo "$out" | grep -q 'not allowed: ETRN retired for this node' || fail "fetchmail 459: $out"
say "fetchmail: 253, 250, 251 and 459 understood"

# -- msmtp ------------------------------------------------------------------
ms() { timeout 30 msmtp --host=127.0.0.1 --port="$PORT" --tls=off --rmqs="$1" 2>&1; }
out=$(ms client.example.net) || fail "msmtp --rmqs=client.example.net: $out"
out=$(ms @example.org) || fail "msmtp --rmqs=@example.org: $out"
set +e
out=$(ms legacy.example.com); rc=$?
set -e
[ $rc -ne 0 ] || fail "msmtp: success for a 459"
echo "$out" | grep -q '459' || fail "msmtp: $out"
say "msmtp: --rmqs succeeds for 253/250, fails with the 459 text"

# -- Python smtplib -------------------------------------------------------
/usr/bin/python3 - "$PORT" <<'PY' || fail "smtplib"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.ehlo("client.test")
assert s.has_extn("etrn") and s.has_extn("pipelining"), s.esmtp_features
want = [
    ("client.example.net", 253, b"2.0.0 OK, 2 pending messages for node client.example.net started"),
    ("x.example.org", 250, b"2.0.0 OK, queuing for node x.example.org started"),
    ("empty.example.net", 251, b"2.0.0 OK, no messages waiting for node empty.example.net"),
    ("unknown.example.com", 458, b"4.3.0 Unable to queue messages for node unknown.example.com"),
    ("legacy.example.com", 459, b"4.7.1 Node legacy.example.com not allowed: ETRN retired for this node"),
    ("localname", 501, b"5.5.4 Syntax Error in Parameters"),
    ("", 500, b"5.5.2 Syntax Error"),
]
for node, code, text in want:
    got = s.docmd("ETRN", node)
    assert got == (code, text), (node, got)
s.quit()
PY
say "smtplib: docmd('ETRN') gets 253 250 251 458 459 501 500 as the rules say"
grep -q 'etrn client=127.0.0.1 node=client.example.net' "$T/etrnd.log" || fail "no etrnd log"
echo "e2e clients: PASS"
