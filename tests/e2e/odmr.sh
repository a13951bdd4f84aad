#!/bin/bash
# SPDX-License-Identifier: ISC
# ODMR (RFC 2645) with a real client: fetchmail --protocol ODMR against
# etrnd -O under tcpserver, started from etc/odmr/run (paths and port
# changed), as the user that owns the held mail (etrnhold, created when
# missing); fetchmail runs as nobody with etc/odmr/fetchmailrc, its
# smtphost a tests/helpers/smtpsink on loopback. The mail is the hold
# tests' set (tests/helpers/holdset), stored by etrnd-store as etrnhold in
# a maildir per node, as an MTA's hold recipe stores it.
#
#   the node's messages arrive byte for byte, each once, with exactly the
#   node's recipients; its maildir is empty, the other nodes' untouched;
#   a second run gets 453 "You have no mail" (fetchmail exits 0);
#   a login that users= does not name gets 450 (fetchmail exits 4);
#   a wrong password gets 535 (fetchmail exits 128);
#   esmtpname with ODMR: fetchmail logs in twice, 503, exit 3;
#   fetchmail killed in the middle of a message: the message stays in the
#   spool as it was, nothing in failed/, and the next run delivers it;
#   implicit TLS (etrnd -C -K -S -u etrnhold; fetchmail through a TLS
#   tunnel, as its own "ssl" cannot relay ODMR: see below);
#   the inetd and xinetd samples (unpacked, never installed) deliver too,
#   and the systemd units verify.
# Needs root (users, tcpserver -u/-g): without it, SKIP (exit 0). Prints
# PASS at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip() { echo "SKIP: $*"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "the ODMR test needs root (users, tcpserver -u/-g, setuidgid)"
for p in tcpserver fetchmail setuidgid /usr/bin/python3; do
	command -v "$p" >/dev/null || fail "$p is missing (make check installs it as root)"
done
HELPERS=${ETRND_HELPERS:-$ROOT/tests/helpers}
PY=/usr/bin/python3
EXT=${ETRND_EXT:-$ROOT/build/ext/inetd/root}

# Created when missing and left in place: another test may be using them.
need_user etrnhold /var/spool/etrnd-hold
id -u nobody >/dev/null 2>&1 || skip "no user nobody to run fetchmail as"

T=$(mktemp -d /tmp/etrnd-e2e-odmr.XXXXXX)
chmod 755 "$T"
cleanup() {
	stop_all
	if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

HOLD=$T/hold
install -d -o etrnhold -g etrnhold -m 0755 "$HOLD"
mkdir -p "$T/queue/tmp" "$T/queue/new" "$T/queue/cur"
install -d -o nobody -m 0700 "$T/fm"
PASS=s3cret-odmr

# -- the held mail: holdset's set, stored per node as etrnhold --------------
$PY - "$HELPERS/holdset" "$BIN/etrnd-store" "$HOLD" <<'PY' || fail "storing the hold set"
import importlib.machinery, subprocess, sys
hs = importlib.machinery.SourceFileLoader("holdset", sys.argv[1]).load_module()
store, hold = sys.argv[2], sys.argv[3]
nodes = ["client.example.net", "notclient.example.net", "client.example.net.evil.test",
         "client-example.net", "@example.org"]
for name, (sender, rcpts, _, _) in hs.SET.items():
    for node in nodes:
        mine = [r for r in rcpts if hs.covered(node, r)]
        if mine:
            subprocess.run(["setuidgid", "etrnhold", store, "-f", sender,
                            "%s/%s" % (hold, node.lstrip("@"))] + mine,
                           input=hs.text(name), check=True)
PY
count_node() { find "$HOLD/$1/new" "$HOLD/$1/cur" -type f 2>/dev/null | wc -l; }
[ "$(count_node client.example.net)" -eq 5 ] || fail "the set did not give 5 messages"
others_before=$(cd "$HOLD" && find . -path ./client.example.net -prune -o -type f -print |
	sort | xargs sha256sum)

# -- the rules, as etc/odmr/README says ---------------------------------------
cram() { printf '%s\n' "$1" | "$BIN/etrnd-rules" -c; }
{
	sed -e "s|/var/spool/etrnd-hold|$HOLD|g" -e '/^user:/d' "$ROOT/etc/odmr/etrn.rules"
	echo "user:client.example.net  $(cram "$PASS")"
	echo "user:office@example.org  $(cram other-pass)"
	echo "user:intruder.example.com  $(cram "$PASS")"
} > "$T/odmr.rules"
"$BIN/etrnd-rules" "$T/odmr.rules" "$T/odmr.cdb" > /dev/null 2> "$T/rules.err" ||
	fail "etrnd-rules: $(cat "$T/rules.err")"
grep -q 'holds cram= secrets (password equivalents) and is readable by everyone' \
	"$T/rules.err" || fail "no warning for a cdb with cram= readable by everyone"
chgrp etrnhold "$T/odmr.cdb"
chmod 0640 "$T/odmr.cdb"
"$BIN/etrnd-rules" "$T/odmr.rules" "$T/odmr.cdb" > /dev/null 2> "$T/rules.err"
[ ! -s "$T/rules.err" ] || fail "etrnd-rules again: $(cat "$T/rules.err")"
[ "$(stat -c '%a %G' "$T/odmr.cdb")" = "640 etrnhold" ] ||
	fail "the cdb's mode and group were not kept: $(stat -c '%a %G' "$T/odmr.cdb")"
setuidgid nobody test -r "$T/odmr.cdb" && fail "nobody can read the cdb with cram= secrets"
say "rules: cram= from etrnd-rules -c, warned at 0644, 0640 root:etrnhold kept"

# -- etrnd -O under tcpserver, from etc/odmr/run --------------------------------
localize() {
	sed -e "s|/usr/local/sbin/etrnd|$BIN/etrnd|g" -e "s|/etc/etrnd/odmr.cdb|$T/odmr.cdb|g" \
		-e "s|/var/spool/etrnd-hold|$HOLD|g" -e "s| 0 366 | 127.0.0.1 $2 |" \
		-e "s|0.0.0.0:366|127.0.0.1:$2|" -e "s|= 366|= $2|" -e "s|-n mx.example.com|-n mx.test -q $T/queue|" \
		-e "s|-l mx.example.com|-l mx.test|" "$1"
}
PORT=$(free_port)
localize "$ROOT/etc/odmr/run" "$PORT" > "$T/run"
chmod +x "$T/run"
grep -qF -- "-u \"\$(id -u etrnhold)\" -g \"\$(id -g etrnhold)\" 127.0.0.1 $PORT " "$T/run" ||
	fail "etc/odmr/run did not localize: $(cat "$T/run")"
spawn "$T/run" > "$T/odmr.log"
wait_port "$PORT" || fail "tcpserver did not start: $(cat "$T/odmr.log")"

SINK=$T/sink
spawn $PY "$HELPERS/smtpsink" --dir "$SINK" --listen 127.0.0.1:0 --ready-file "$T/sink.ready" \
	--log "$T/sink.log"
wait_until 20 test -s "$T/sink.ready" || fail "smtpsink did not start"
SINKPORT=$(sed -n 2p "$T/sink.ready" | cut -d' ' -f2)

# rcfile NAME PORT USER PASSWORD SMTPPORT [EXTRA...]: from etc/odmr/fetchmailrc,
# with the server options in $SERVER_OPTS, and EXTRA user options
rcfile() {
	local name=$1 port=$2 user=$3 pw=$4 sp=$5
	shift 5
	sed -n '/^set /p; /^poll /,/^$/p' "$ROOT/etc/odmr/fetchmailrc" | sed \
		-e "s|^poll mx.example.com proto ODMR port 366|poll 127.0.0.1 proto ODMR port $port${SERVER_OPTS:+ $SERVER_OPTS}|" \
		-e "s|user \"client.example.net\" password \".*\"|user \"$user\" password \"$pw\"|" \
		-e "s|smtphost localhost/25|smtphost 127.0.0.1/$sp|" > "$T/fm/$name"
	local extra
	for extra in "$@"; do echo "    $extra" >> "$T/fm/$name"; done
	chown nobody "$T/fm/$name"
	chmod 600 "$T/fm/$name"
}
# fm NAME: runs fetchmail as nobody; its output in $T/fm/NAME.out, status in $FM
fm() {
	set +e
	HOME=$T/fm timeout 120 setuidgid nobody fetchmail -f "$T/fm/$1" --nodetach --nosyslog -v \
		--pidfile "$T/fm/pid" > "$T/fm/$1.out" 2>&1
	FM=$?
	set -e
}
# the etrnd log line of the session that just ended (bounded wait)
end_lines() { grep -c 'etrnd\[[0-9]*\]: end ' "$T/odmr.log" || true; }
wait_end() { wait_until 30 bash -c "[ \$(grep -c 'etrnd\[[0-9]*\]: end ' '$T/odmr.log') -ge $1 ]"; }

rcfile ok "$PORT" client.example.net "$PASS" "$SINKPORT"
grep -q '^    fetchdomains client.example.net$' "$T/fm/ok" || fail "rc file: $(cat "$T/fm/ok")"
n=$(end_lines)
fm ok
[ $FM -eq 0 ] || fail "fetchmail: status $FM: $(cat "$T/fm/ok.out")"
wait_end $((n + 1)) || fail "etrnd did not end: $(cat "$T/odmr.log")"
$PY "$HELPERS/holdset" expect "$SINK" client.example.net || fail "holdset expect"
# byte for byte: nothing added, nothing changed (ODMR relays, it adds no header)
$PY - "$HELPERS/holdset" "$SINK" <<'PY' || fail "not byte for byte"
import importlib.machinery, sys
hs = importlib.machinery.SourceFileLoader("holdset", sys.argv[1]).load_module()
got = sorted(d for _, _, _, d in hs.read_sink(sys.argv[2]))
want = sorted(hs.text(n).replace(b"\n", b"\r\n") for n in hs.NODES["client.example.net"])
if got != want:
    sys.exit("the sink's data are not the held texts, byte for byte")
PY
[ "$(find "$HOLD/client.example.net" -type f | wc -l)" -eq 0 ] ||
	fail "the maildir is not empty: $(find "$HOLD/client.example.net" -type f)"
others_after=$(cd "$HOLD" && find . -path ./client.example.net -prune -o -type f -print |
	sort | xargs sha256sum)
[ "$others_after" = "$others_before" ] || fail "other nodes' mail changed"
grep -q 'etrnd\[[0-9]*\]: odmr client=127.0.0.1 user=client.example.net messages=5 sent=5 deferred=0 failed=0 result=done' \
	"$T/odmr.log" || fail "no odmr line: $(cat "$T/odmr.log")"
grep -q 'running as root' "$T/odmr.log" && fail "etrnd ran as root"
say "fetchmail: 5 messages byte for byte, exactly the node's; maildir empty; others untouched"

fm ok
[ $FM -eq 0 ] || fail "fetchmail: status $FM for no mail (want 0): $(cat "$T/fm/ok.out")"
grep -q 'ODMR< 453 4.0.0 You have no mail' "$T/fm/ok.out" || fail "no 453: $(cat "$T/fm/ok.out")"
[ "$(find "$SINK/new" -type f | wc -l)" -eq 5 ] || fail "delivered twice"
say "fetchmail: a second run gets 453 You have no mail, status 0"

rcfile intruder "$PORT" intruder.example.com "$PASS" "$SINKPORT"
fm intruder
[ $FM -eq 4 ] || fail "fetchmail: status $FM for a login not in users= (want 4): $(cat "$T/fm/intruder.out")"
grep -q 'ODMR< 450 4.7.1 ATRN request refused' "$T/fm/intruder.out" ||
	fail "no 450: $(cat "$T/fm/intruder.out")"
grep -q 'atrn client=127.0.0.1 user=intruder.example.com node=client.example.net code=450 reason=user-not-allowed' \
	"$T/odmr.log" || fail "no refusal logged"
say "fetchmail: a login that users= does not name gets 450, status 4"

rcfile badpw "$PORT" client.example.net wrong-password "$SINKPORT"
fm badpw
[ $FM -eq 128 ] || fail "fetchmail: status $FM for a wrong password (want 128): $(cat "$T/fm/badpw.out")"
grep -q '535 5.7.8 Authentication credentials invalid' "$T/fm/badpw.out" ||
	fail "no 535: $(cat "$T/fm/badpw.out")"
say "fetchmail: a wrong password gets 535, status 128"

SERVER_OPTS="esmtpname \"client.example.net\" esmtppassword \"$PASS\"" \
	rcfile twice "$PORT" client.example.net "$PASS" "$SINKPORT"
grep -q "^poll 127.0.0.1 proto ODMR port $PORT esmtpname " "$T/fm/twice" || fail "$(cat "$T/fm/twice")"
fm twice
[ $FM -eq 3 ] || fail "fetchmail: status $FM with esmtpname (want 3): $(cat "$T/fm/twice.out")"
grep -q '503 5.5.1 Already authenticated' "$T/fm/twice.out" || fail "$(cat "$T/fm/twice.out")"
say "fetchmail: esmtpname with ODMR logs in twice: 503, status 3 (etc/odmr/fetchmailrc says so)"

# -- fetchmail killed in the middle of a message ------------------------------
$PY -c 'import sys; sys.stdout.buffer.write(b"Subject: big\n\n" + b"".join(b"line %07d of a message that is cut\n" % i for i in range(60000)))' \
	> "$T/big.txt"
setuidgid etrnhold "$BIN/etrnd-store" -f big@origin.test "$HOLD/client.example.net" \
	cut@client.example.net < "$T/big.txt"
kept=$(find "$HOLD/client.example.net/new" -type f)
cp "$kept" "$T/kept.copy"
spawn $PY "$HELPERS/odmrclient" serve --listen 127.0.0.1:0 --ready-file "$T/stall.ready" \
	--stall-after 200000 --signal "$T/stalled" > "$T/stall.out"
STALL_PID=$LAST_PID
wait_until 20 test -s "$T/stall.ready" || fail "odmrclient serve did not start"
rcfile cut "$PORT" client.example.net "$PASS" "$(sed -n 2p "$T/stall.ready" | cut -d' ' -f2)"
n=$(end_lines)
HOME=$T/fm setuidgid nobody fetchmail -f "$T/fm/cut" --nodetach --nosyslog -v \
	--pidfile "$T/fm/pid" > "$T/fm/cut.out" 2>&1 &
FMPID=$!
PIDS="$PIDS $FMPID"
wait_until 60 test -e "$T/stalled" || fail "the message never got under way: $(cat "$T/fm/cut.out")"
kill -9 "$FMPID"
wait "$FMPID" 2>/dev/null || true
wait_end $((n + 1)) || fail "etrnd did not end after the kill: $(tail -5 "$T/odmr.log")"
grep -q 'odmr client=127.0.0.1 user=client.example.net messages=1 sent=0 deferred=1 failed=0 result=incomplete' \
	"$T/odmr.log" || fail "no incomplete odmr line: $(tail -5 "$T/odmr.log")"
[ -f "$kept" ] && cmp -s "$kept" "$T/kept.copy" || fail "the cut message did not stay as it was"
[ "$(find "$HOLD/client.example.net/failed" "$HOLD/client.example.net/tmp" -type f | wc -l)" -eq 0 ] ||
	fail "something in failed/ or tmp/"
kill "$STALL_PID" 2>/dev/null || true
fm ok
[ $FM -eq 0 ] || fail "fetchmail after the cut: status $FM: $(cat "$T/fm/ok.out")"
[ "$(find "$HOLD/client.example.net" -type f | wc -l)" -eq 0 ] || fail "the cut message stayed"
$PY - "$HELPERS/holdset" "$SINK" "$T/big.txt" <<'PY' || fail "the cut message, delivered later, differs"
import importlib.machinery, sys
hs = importlib.machinery.SourceFileLoader("holdset", sys.argv[1]).load_module()
want = open(sys.argv[3], "rb").read().replace(b"\n", b"\r\n")
if [d for _, _, _, d in hs.read_sink(sys.argv[2])].count(want) != 1:
    sys.exit("not there exactly once")
PY
say "fetchmail killed in the middle of a message: it stays as it was, nothing in failed/, the next run delivers it"

# -- implicit TLS: etrnd -C -K -S -u etrnhold (the key is read as root) -------
# fetchmail's own "ssl" cannot carry ODMR: after the turn it relays with
# select() on the socket and reads one line per wake-up, while OpenSSL
# holds the rest of the TLS record (every record but a one-line one), so
# it waits for ever. A TLS tunnel in front of it (socat here; stunnel does
# the same) keeps its socket plaintext: that recipe is tested.
if command -v openssl >/dev/null && command -v socat >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=mx.test \
		-addext subjectAltName=DNS:mx.test >/dev/null 2>&1 || fail "openssl req"
	chmod 600 "$T/key.pem"
	chmod 644 "$T/cert.pem"
	TLSPORT=$(free_port)
	spawn tcpserver -q -R -H -l mx.test 127.0.0.1 "$TLSPORT" "$BIN/etrnd" -O -u etrnhold \
		-C "$T/cert.pem" -K "$T/key.pem" -S -s "$HOLD" -d "$T/odmr.cdb" -q "$T/queue" \
		-n mx.test -l stderr 2>> "$T/tls.log"
	wait_port "$TLSPORT" || fail "tcpserver (TLS) did not start"
	WRAPPORT=$(free_port)
	spawn socat "TCP-LISTEN:$WRAPPORT,bind=127.0.0.1,reuseaddr,fork" \
		"OPENSSL:127.0.0.1:$TLSPORT,cafile=$T/cert.pem,commonname=mx.test,verify=1"
	wait_port "$WRAPPORT" || fail "socat did not listen"
	printf 'Subject: over TLS\n\n.a dot\nthe end\n' > "$T/tls.txt"
	setuidgid etrnhold "$BIN/etrnd-store" -f tls@origin.test "$HOLD/client.example.net" \
		tls@client.example.net < "$T/tls.txt"
	n=$(grep -c 'etrnd\[[0-9]*\]: end .* tls=TLSv1' "$T/tls.log" || true)
	rcfile tls "$WRAPPORT" client.example.net "$PASS" "$SINKPORT"
	fm tls
	[ $FM -eq 0 ] || fail "fetchmail through the TLS tunnel: status $FM: $(cat "$T/fm/tls.out")"
	wait_until 30 bash -c "[ \$(grep -c 'etrnd\[[0-9]*\]: end .* tls=TLSv1' '$T/tls.log') -gt $n ]" ||
		fail "no TLS session in the log: $(cat "$T/tls.log")"
	grep -q 'odmr client=127.0.0.1 user=client.example.net messages=1 sent=1 .* result=done' \
		"$T/tls.log" || fail "$(cat "$T/tls.log")"
	grep -q 'running as root' "$T/tls.log" && fail "etrnd -u etrnhold ran as root"
	$PY - "$HELPERS/holdset" "$SINK" "$T/tls.txt" <<'PY' || fail "over TLS: not byte for byte"
import importlib.machinery, sys
hs = importlib.machinery.SourceFileLoader("holdset", sys.argv[1]).load_module()
want = open(sys.argv[3], "rb").read().replace(b"\n", b"\r\n")
if [d for _, _, _, d in hs.read_sink(sys.argv[2])].count(want) != 1:
    sys.exit("not there exactly once")
PY
	[ "$(find "$HOLD/client.example.net" -type f | wc -l)" -eq 0 ] || fail "over TLS: not removed"
	say "implicit TLS: etrnd -S -u etrnhold, fetchmail through a TLS tunnel, byte for byte"
else
	say "implicit TLS: SKIPPED, no openssl to make a certificate or no socat"
fi

# -- the inetd and xinetd samples ------------------------------------------------
# launch NAME: one message through the launcher on $LPORT, fetched by fetchmail
through() {
	local name=$1
	wait_port "$LPORT" || fail "$name did not listen"
	printf 'Subject: via %s\n\nhello\n' "$name" > "$T/$name.txt"
	setuidgid etrnhold "$BIN/etrnd-store" -f "$name@origin.test" "$HOLD/client.example.net" \
		"$name@client.example.net" < "$T/$name.txt"
	rcfile "$name" "$LPORT" client.example.net "$PASS" "$SINKPORT"
	fm "$name"
	[ $FM -eq 0 ] || fail "fetchmail through $name: status $FM: $(cat "$T/fm/$name.out")"
	[ "$(find "$HOLD/client.example.net" -type f | wc -l)" -eq 0 ] || fail "$name: not delivered"
	grep -q "X-Sink-Rcpt: <$name@client.example.net>" -r "$SINK/new" || fail "$name: not at the sink"
	say "$name: etc/odmr's sample delivers through fetchmail"
}
if [ -x "$EXT/usr/sbin/inetd" ] && [ -x "$EXT/usr/sbin/xinetd" ]; then
	LPORT=$(free_port)
	localize "$ROOT/etc/odmr/inetd.conf" "$LPORT" > "$T/inetd.conf"
	grep -q "^127.0.0.1:$LPORT stream tcp nowait root $BIN/etrnd etrnd -O -u etrnhold" \
		"$T/inetd.conf" || fail "inetd.conf did not localize: $(cat "$T/inetd.conf")"
	spawn "$EXT/usr/sbin/inetd" -d "$T/inetd.conf" 2> "$T/inetd.err"
	through inetd
	LPORT=$(free_port)
	{ echo "defaults"; echo "{"; echo "}"; localize "$ROOT/etc/odmr/xinetd" "$LPORT" |
		sed -e "s|^\(\tport *= $LPORT\)|\1\n\tbind            = 127.0.0.1|"; } > "$T/xinetd.conf"
	spawn "$EXT/usr/sbin/xinetd" -dontfork -pidfile "$T/xinetd.pid" -f "$T/xinetd.conf"
	through xinetd
else
	say "inetd/xinetd: SKIPPED, not unpacked in $EXT (sh scripts/deps.sh e2e does it)"
fi

if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	for u in etrnd-odmr.socket etrnd-odmr@.service; do
		sed -e "s|/usr/local/sbin/|$BIN/|g" "$ROOT/etc/odmr/$u" > "$T/units/$u"
	done
	out=$(cd "$T/units" && systemd-analyze verify --man=no ./etrnd-odmr.socket \
		./etrnd-odmr@.service 2>&1) || fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	say "systemd: etrnd-odmr.socket and etrnd-odmr@.service verify clean"
else
	say "systemd: systemd-analyze not installed, units not verified"
fi
echo "PASS"
