#!/bin/bash
# SPDX-License-Identifier: ISC
# Real ETRN clients against etrnd under tcpserver on loopback: our etrn(1)
# (IPv4, IPv6, exit codes, -v, timeouts), fetchmail (-p ETRN
# --fetchdomains), msmtp (--rmqs) and Python's smtplib (docmd('ETRN')).
# Each must get the reply the rules call for. Then the same clients with
# TLS and AUTH, as people configure them: msmtp with STARTTLS and AUTH
# PLAIN, fetchmail with implicit TLS (ssl) and esmtpname, smtplib with
# starttls() and login(), openssl s_client, etrn -s/-S -a; etrnd started
# by tcpserver as root and dropping to nobody (-u) after reading its key,
# mode 0600 root, as INSTALL says.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pki.sh"

for p in tcpserver fetchmail msmtp openssl /usr/bin/python3; do
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
grep -qx 'unknown.example.com 458 4.3.0 Unable to queue messages for node unknown.example.com' <<<"$out" ||
	fail "etrn: $out"
err=$("$BIN/etrn" -v -p "$PORT" 127.0.0.1 a.example.org 2>&1 >/dev/null)
grep -q '^>>> ETRN a.example.org$' <<<"$err" && grep -q '^<<< 221 ' <<<"$err" ||
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
	grep -q '^client.example.net 253 ' <<<"$out" || fail "etrn ::1: $out"
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
grep -q 'Pending messages for client.example.net started' <<<"$out" || fail "fetchmail: $out"
grep -q 'Queuing for a.example.org started' <<<"$out" || fail "fetchmail: $out"
set +e
out=$(fm empty.example.net); rc=$?
set -e
grep -q 'No messages waiting for empty.example.net' <<<"$out" || fail "fetchmail 251: $out"
set +e
out=$(fm legacy.example.com); rc=$?
set -e
[ $rc -ne 0 ] || fail "fetchmail: status 0 for a 459"
grep -q 'not allowed: ETRN retired for this node' <<<"$out" || fail "fetchmail 459: $out"
say "fetchmail: 253, 250, 251 and 459 understood"

# -- msmtp ------------------------------------------------------------------
ms() { timeout 30 msmtp --host=127.0.0.1 --port="$PORT" --tls=off --rmqs="$1" 2>&1; }
out=$(ms client.example.net) || fail "msmtp --rmqs=client.example.net: $out"
out=$(ms @example.org) || fail "msmtp --rmqs=@example.org: $out"
set +e
out=$(ms legacy.example.com); rc=$?
set -e
[ $rc -ne 0 ] || fail "msmtp: success for a 459"
grep -q '459' <<<"$out" || fail "msmtp: $out"
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

# == TLS and AUTH ===========================================================
# The office's login may start its own node, not the branch's; the branch
# node has a login of its own. tls.example.net is open: an ETRN that ran
# when it must not shows up as its trigger and log line.
mkdir -p "$T/tls/queue/tmp" "$T/tls/queue/new" "$T/tls/queue/cur" "$T/tls/fm"
chmod 700 "$T/tls/fm"
make_pki "$T/tls" mx.test
hash=$(printf 'secret\n' | "$BIN/etrnd-rules" -p)
other=$(printf 'other secret\n' | "$BIN/etrnd-rules" -p)
cat > "$T/tls/etrn.rules" <<RULES
user:office $hash
user:branch $other
office.example.net  users=office
branch.example.net  users=branch
tls.example.net
RULES
"$BIN/etrnd-rules" "$T/tls/etrn.rules" "$T/tls/etrn.cdb" >/dev/null
AS=()
if [ "$(id -u)" -eq 0 ] && id -u nobody >/dev/null 2>&1; then
	chown root:root "$T/tls/server.key"
	chown nobody "$T/tls/queue/tmp" "$T/tls/queue/new"
	chmod 755 "$T" "$T/tls"
	AS=(-u nobody)
	say "TLS: etrnd starts as root, reads the key (0600 root), runs as nobody"
else
	say "TLS: not root, etrnd runs as $(id -un) with its own key"
fi
TLSARGS=(-n mx.test -d "$T/tls/etrn.cdb" -q "$T/tls/queue" -l stderr "${AS[@]}"
	-C "$T/tls/server.crt" -K "$T/tls/server.key")
STLS=$(free_port)
spawn tcpserver -q -R -H -l mx.test 127.0.0.1 "$STLS" "$BIN/etrnd" "${TLSARGS[@]}" \
	2>>"$T/tls/etrnd.log"
SMTPS=$(free_port)
spawn tcpserver -q -R -H -l mx.test 127.0.0.1 "$SMTPS" "$BIN/etrnd" "${TLSARGS[@]}" -S \
	2>>"$T/tls/etrnd.log"
wait_port "$STLS" && wait_port "$SMTPS" || fail "tcpserver (TLS) did not start"

# -- msmtp: STARTTLS, AUTH PLAIN, ETRN (--rmqs) ----------------------------
msmtprc() { # USER PASSWORD
	cat > "$T/tls/msmtprc" <<RC
account default
host 127.0.0.1
port $STLS
domain client.test
tls on
tls_starttls on
tls_trust_file $T/tls/ca.crt
auth plain
user $1
password $2
RC
	chmod 600 "$T/tls/msmtprc"
}
msmtprc office secret
ms_tls() { timeout 30 msmtp -C "$T/tls/msmtprc" --rmqs="$1" 2>&1; }
set +e
out=$(ms_tls office.example.net); rc=$?
set -e
[ $rc -eq 0 ] || fail "msmtp STARTTLS+AUTH: status $rc: $out"
grep -q 'auth client=127.0.0.1 user=office mech=PLAIN result=ok' "$T/tls/etrnd.log" ||
	fail "msmtp: no successful AUTH in the log: $(cat "$T/tls/etrnd.log")"
grep -q 'etrn client=127.0.0.1 user=office node=office.example.net rule=office.example.net code=250' \
	"$T/tls/etrnd.log" || fail "msmtp: no 250 for office.example.net in the log"
set +e
out=$(ms_tls branch.example.net); rc=$?
set -e
[ $rc -eq 69 ] || fail "msmtp: status $rc for a 459 (want 69, EX_UNAVAILABLE): $out"
grep -q '459 4.7.1 Node branch.example.net not allowed: user not authorized' <<<"$out" ||
	fail "msmtp 459: $out"
msmtprc office wrong
set +e
out=$(ms_tls office.example.net); rc=$?
set -e
[ $rc -eq 77 ] || fail "msmtp: status $rc for a wrong password (want 77, EX_NOPERM): $out"
grep -q '535 5.7.8' <<<"$out" || fail "msmtp 535: $out"
say "msmtp STARTTLS+AUTH PLAIN: 250 exit 0, 459 exit 69, wrong password 535 exit 77"

# -- fetchmail: implicit TLS (ssl), esmtpname/esmtppassword ---------------
fmrc() { # NODES
	cat > "$T/tls/fm/rc" <<RC
poll 127.0.0.1 proto ETRN port $SMTPS
    esmtpname "office" esmtppassword "secret"
    fetchdomains $1
    ssl sslcertck sslcertfile "$T/tls/ca.crt" sslcommonname "mx.test"
RC
	chmod 600 "$T/tls/fm/rc"
}
fm_tls() { FETCHMAILHOME="$T/tls/fm" HOME="$T/tls/fm" timeout 60 fetchmail -f "$T/tls/fm/rc" \
	--nodetach --nosyslog -v 2>&1; }
fmrc office.example.net
set +e
out=$(fm_tls); rc=$?
set -e
[ $rc -eq 0 ] || fail "fetchmail ssl+esmtpname: status $rc: $out"
grep -q 'Queuing for office.example.net started' <<<"$out" || fail "fetchmail: $out"
grep -q 'SSL/TLS: using protocol TLSv1.3' <<<"$out" || fail "fetchmail: not TLS 1.3: $out"
fmrc branch.example.net
set +e
out=$(fm_tls); rc=$?
set -e
[ $rc -eq 3 ] || fail "fetchmail: status $rc for a 459 (want 3, AUTHFAIL): $out"
grep -q 'not allowed: user not authorized' <<<"$out" || fail "fetchmail 459: $out"
say "fetchmail ssl+sslcertck+esmtpname: 250 exit 0, 459 exit 3"

# -- Python smtplib: starttls(), login(), ETRN; and the injection ----------
/usr/bin/python3 - "$STLS" "$T/tls/ca.crt" <<'PY' || fail "smtplib over TLS"
import smtplib, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.test")
assert s.has_extn("starttls") and not s.has_extn("auth"), s.esmtp_features
s.starttls(context=ctx)
s.ehlo("client.test")
assert s.has_extn("auth") and not s.has_extn("starttls"), s.esmtp_features
assert "PLAIN" in s.esmtp_features["auth"].split(), s.esmtp_features
got = s.docmd("ETRN", "office.example.net")
assert got == (459, b"4.7.1 Node office.example.net not allowed: authentication required"), got
assert s.login("office", "secret") == (235, b"2.7.0 Authentication successful")
got = s.docmd("ETRN", "office.example.net")
assert got == (250, b"2.0.0 OK, queuing for node office.example.net started"), got
s.quit()

# STARTTLS and an ETRN in one write: the ETRN must be discarded, never run
# after the handshake (CVE-2011-0411).
raw = socket.create_connection(("127.0.0.1", port), timeout=20)
f = raw.makefile("rb")
def reply(f):
    lines = []
    while True:
        l = f.readline()
        assert l, "connection closed"
        lines.append(l)
        if l[3:4] != b"-":
            return lines
assert reply(f)[0].startswith(b"220 mx.test")
raw.sendall(b"EHLO client.test\r\n")
reply(f)
raw.sendall(b"STARTTLS\r\nETRN tls.example.net\r\n")
assert reply(f) == [b"220 2.0.0 Ready to start TLS\r\n"]
t = ctx.wrap_socket(raw, server_hostname="mx.test")
tf = t.makefile("rb")
t.sendall(b"EHLO client.test\r\n")
first = reply(tf)
assert first[0] == b"250-mx.test\r\n", first
t.sendall(b"QUIT\r\n")
assert reply(tf)[0].startswith(b"221 "), "no 221"
PY
grep -q 'node=tls.example.net' "$T/tls/etrnd.log" && fail "the ETRN behind STARTTLS ran"
[ "$(count_files "$T/tls/queue/new")" -eq 1 ] || fail "triggers: $(ls "$T/tls/queue/new")"
say "smtplib: starttls, 459 before login, login, 250; the ETRN written with STARTTLS never ran"

# -- openssl s_client: STARTTLS and implicit TLS ---------------------------
sc() { timeout 30 openssl s_client -CAfile "$T/tls/ca.crt" -verify_return_error -crlf -ign_eof "$@" \
	2>&1; }
out=$(printf 'EHLO client.test\nETRN tls.example.net\nQUIT\n' |
	sc -starttls smtp -name client.test -connect "127.0.0.1:$STLS") || fail "s_client -starttls: $out"
grep -q '^250 2.0.0 OK, queuing for node tls.example.net started' <<<"$out" || fail "s_client: $out"
out=$(printf 'EHLO client.test\nQUIT\n' | sc -connect "127.0.0.1:$SMTPS") || fail "s_client: $out"
grep -q '^220 mx.test ESMTP' <<<"$out" && grep -q '^250-AUTH PLAIN LOGIN' <<<"$out" ||
	fail "s_client implicit TLS: $out"
say "openssl s_client: -starttls smtp and implicit TLS, certificate verified"

# -- etrn(1): -s and -S with -a -------------------------------------------
printf 'secret\n' > "$T/tls/pw"
chmod 600 "$T/tls/pw"
out=$("$BIN/etrn" -p "$STLS" -s -c "$T/tls/ca.crt" -a office -A "$T/tls/pw" 127.0.0.1 \
	office.example.net) || fail "etrn -s -a: $out"
[ "$out" = "office.example.net 250 2.0.0 OK, queuing for node office.example.net started" ] ||
	fail "etrn -s: $out"
set +e
out=$(ETRN_PASSWORD=secret "$BIN/etrn" -p "$SMTPS" -S -c "$T/tls/ca.crt" -a office 127.0.0.1 \
	branch.example.net); rc=$?
set -e
[ $rc -eq 1 ] || fail "etrn -S: exit $rc for a 459: $out"
set +e
ETRN_PASSWORD=wrong "$BIN/etrn" -p "$SMTPS" -S -c "$T/tls/ca.crt" -a office 127.0.0.1 \
	office.example.net 2>/dev/null; rc=$?
set -e
[ $rc -eq 111 ] || fail "etrn -S: exit $rc for a wrong password (want 111)"
say "etrn: -s -A 250 exit 0, -S ETRN_PASSWORD 459 exit 1, wrong password 111"

# etrnd writes its end line after the 221 a client may have read already
wait_until 10 grep -q 'end client=127.0.0.1 helo=client.test tls=TLSv1.3 cipher=TLS_' \
	"$T/tls/etrnd.log" ||
	fail "no end line with tls= and cipher=: $(cat "$T/tls/etrnd.log")"
! grep -q 'fatal' "$T/tls/etrnd.log" || fail "etrnd: $(grep fatal "$T/tls/etrnd.log")"
if [ ${#AS[@]} -gt 0 ]; then
	[ "$(stat -c %U "$T/tls/queue/new/office.example.net")" = nobody ] ||
		fail "the trigger was not written by nobody: etrnd kept root"
fi
echo "e2e clients: PASS"
