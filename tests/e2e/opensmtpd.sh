#!/bin/bash
# SPDX-License-Identifier: ISC
# End to end with a real OpenSMTPD (Debian 12's 6.8.0p2, unpacked into
# build/ext/opensmtpd by scripts/ext.sh, never installed), configured with
# etc/opensmtpd/smtpd.conf.etrn and etc/opensmtpd/etrn.rules (paths and
# ports changed): OpenSMTPD hands the held domains' mail, as the user
# etrnhold, to etrnd-store, one maildir per node; etrnd (under tcpserver,
# as the user etrnd) answers ETRN with the exact count; etrnd-runner (root)
# runs etrnd-deliver -u etrnhold, which sends exactly the node's
# recipients to a loopback sink. The other domains relay to a second sink.
#
# OpenSMTPD's queue (/var/spool/smtpd), its chroot and its socket are
# compiled in: smtpd runs in a private mount namespace with overlays on
# /var and /run (their upper halves in the temp dir), an empty queue of its
# own bound on /var/spool/smtpd, and an overlay on /usr/libexec (for
# mail.mda), so nothing of the machine's own mail setup is seen or touched.
# The system users etrnd, etrnhold, opensmtpd and opensmtpq (and the group
# opensmtpq) are created when missing (useradd --system) and left in place.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HELPERS=${ETRND_HELPERS:-$ROOT/tests/helpers}
OS=${ETRND_EXTDIR:-$ROOT/build/ext}/opensmtpd/root
SMTPD=$OS/usr/sbin/smtpd
[ "$(id -u)" -eq 0 ] || fail "the OpenSMTPD test needs root (smtpd, users, a mount namespace)"
for prog in "$SMTPD" "$OS/usr/libexec/opensmtpd/mail.mda" /usr/bin/tcpserver /usr/bin/unshare; do
	[ -x "$prog" ] || fail "$prog is missing: sh scripts/deps.sh e2e (as root) unpacks OpenSMTPD"
done

# -- users: OpenSMTPD's compiled-in two, and the two of INSTALL ----------
need_user opensmtpd /var/lib/opensmtpd/empty
need_user opensmtpq /var/lib/opensmtpd/empty
need_user etrnd /nonexistent
need_user etrnhold /var/spool/etrnd-hold # INSTALL's: OpenSMTPD reads ~/.forward

T=$(mktemp -d /tmp/etrnd-e2e-opensmtpd.XXXXXX)
chmod 755 "$T"
SMTPD_PID=""
cleanup() {
	# smtpd first (its children follow it): it may hold a sink connection
	if [ -n "$SMTPD_PID" ]; then stop_pid "$SMTPD_PID"; fi
	stop_all # sinks, tcpserver
	if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

SMTP_PORT=$(free_port)
SINK_PORT=$(free_port)
OTHER_PORT=$(free_port)
ETRN_PORT=$(free_port)
SPOOL=$T/hold
Q=$T/etrnq
install -d -o etrnhold -g etrnhold -m 0755 "$SPOOL"
install -d -o root -g root -m 0755 "$Q" "$Q/cur"
install -d -o etrnd -g etrnd -m 0755 "$Q/tmp" "$Q/new"
mkdir -p "$T"/var.upper "$T"/var.work "$T"/run.upper "$T"/run.work
install -d -o root -g root -m 0711 "$T/queue" # /var/spool/smtpd, as smtpd wants it

sink() { # DIR PORT: starts a smtpsink, SINK_PID is its PID
	rm -f "$T/ready"
	spawn "$HELPERS/smtpsink" --dir "$1" --listen "127.0.0.1:$2" --ready-file "$T/ready"
	SINK_PID=$LAST_PID
	wait_until 10 test -f "$T/ready" || fail "smtpsink on $2 did not start"
}
stop_pid() { # PID: SIGTERM, wait for it, and forget it (stop_all must not
	# signal the number again once the kernel may have reused it)
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	PIDS=$(echo " $PIDS " | sed "s/ $1 / /")
}
sink "$T/sink" "$SINK_PORT"
CLIENT_SINK=$SINK_PID
sink "$T/other" "$OTHER_PORT"

# -- OpenSMTPD: the shipped fragment, then a relay for the other domains --
{
	echo "listen on 127.0.0.1 port $SMTP_PORT"
	grep -v '^#' "$ROOT/etc/opensmtpd/smtpd.conf.etrn" |
		sed -e "s|/usr/local/sbin/|$BIN/|g" -e "s|/var/spool/etrnd-hold|$SPOOL|g"
	echo 'table others { "notclient.example.net", "client.example.net.evil.test", "client-example.net" }'
	echo "action \"others\" relay host smtp://127.0.0.1:$OTHER_PORT"
	echo 'match from any for domain <others> action "others"'
} > "$T/smtpd.conf"
"$SMTPD" -n -f "$T/smtpd.conf" >/dev/null 2>&1 || { "$SMTPD" -n -f "$T/smtpd.conf"; fail "smtpd -n"; }
# unshare execs sh, sh execs smtpd: the PID spawn records is smtpd's. Its
# queue is an empty directory of ours, and a running OpenSMTPD's socket is
# hidden (a whiteout in the /run overlay), so a mail server of the machine,
# its queue included, is neither seen nor touched.
spawn unshare -m --propagation private -- /bin/sh -c "
	set -e
	mount -t overlay overlay -o lowerdir=/var,upperdir=$T/var.upper,workdir=$T/var.work /var
	mount -t overlay overlay -o lowerdir=/run,upperdir=$T/run.upper,workdir=$T/run.work /run
	mount -t overlay overlay -o lowerdir=$OS/usr/libexec:/usr/libexec /usr/libexec
	mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
	mount --bind $T/queue /var/spool/smtpd
	rm -f /run/smtpd.sock
	exec $SMTPD -d -v -f $T/smtpd.conf" > "$T/smtpd.log" 2>&1
SMTPD_PID=$LAST_PID
wait_port "$SMTP_PORT" || { cat "$T/smtpd.log"; fail "smtpd did not start"; }
say "OpenSMTPD $("$SMTPD" -h 2>&1 | sed -n 's/^version: OpenSMTPD //p') listening on 127.0.0.1:$SMTP_PORT (pid $SMTPD_PID)"

# -- queue the message set -------------------------------------------------
"$HELPERS/holdset" send 127.0.0.1 "$SMTP_PORT" || fail "holdset send"
news() { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l; }
oklines() { grep -c "$1 delivery .*result=\"\?Ok" "$T/smtpd.log" || true; }
queue_empty() { [ "$(find "$T/queue/queue" "$T/queue/incoming" -type f 2>/dev/null | wc -l)" -eq 0 ]; }
# OpenSMTPD is done with N recipients: each one delivered, to etrnd-store
# (mda) or to the other sink (mta), and nothing left in its queue.
settled() { [ $(($(oklines mda) + $(oklines mta))) -ge "$1" ] && queue_empty; }
# 7 held recipients (5 client.example.net, 2 example.org), 4 relayed
wait_until 60 settled 11 || { tail -30 "$T/smtpd.log"; fail "OpenSMTPD did not deliver the set"; }
! grep -E 'result="?(TempFail|PermFail)' "$T/smtpd.log" || fail "OpenSMTPD failed a delivery"
[ "$(oklines mda)" -eq 7 ] && [ "$(oklines mta)" -eq 4 ] ||
	fail "OpenSMTPD: $(oklines mda) mda and $(oklines mta) relay deliveries, want 7 and 4"
n=$(news "$SPOOL/client.example.net")
[ "$n" -eq 5 ] || fail "$n messages held for client.example.net, want 5"
n=$(news "$SPOOL/example.org")
[ "$n" -eq 2 ] || fail "$n messages held for example.org, want 2"
[ "$(ls "$SPOOL")" = "$(printf 'client.example.net\nexample.org')" ] ||
	fail "maildirs other than the two nodes': $(ls "$SPOOL")"
[ "$(stat -c %U "$SPOOL/client.example.net/new")" = etrnhold ] || fail "the maildir is not etrnhold's"
[ "$(count_files "$T/sink/new")" -eq 0 ] || fail "mail reached the client's sink before any ETRN"
# the other domains, each recipient exactly once, at the other sink only
got=$(grep -h '^X-Sink-Rcpt: ' "$T"/other/new/* | sort | tr '\n' ' ')
want="X-Sink-Rcpt: <s2@notclient.example.net> X-Sink-Rcpt: <x@client-example.net> X-Sink-Rcpt: <x@client.example.net.evil.test> X-Sink-Rcpt: <x@notclient.example.net> "
[ "$got" = "$want" ] || fail "the other sink got: $got"
say "held: 5 in client.example.net, 2 in example.org; relayed: the 4 others; nothing at the client's sink"

# -- etrnd under tcpserver as the user etrnd --------------------------------
sed -e "s|/usr/local/sbin/|$BIN/|g" -e "s|/var/spool/etrnd-hold|$SPOOL|g" \
	-e "s|:25 |:$SINK_PORT |g" -e "s|allow=[^ ]*|allow=127.0.0.1|" \
	"$ROOT/etc/opensmtpd/etrn.rules" > "$T/etrn.rules"
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
spawn /usr/bin/tcpserver -q -R -H -u "$(id -u etrnd)" -g "$(id -g etrnd)" 127.0.0.1 "$ETRN_PORT" \
	"$BIN/etrnd" -n etrn.etrnd-test.invalid -d "$T/etrn.cdb" -q "$Q" -l stderr 2> "$T/etrnd.log"
wait_port "$ETRN_PORT" || fail "tcpserver did not start"

etrn() { # NODE EXPECTED-REPLY
	local r
	r=$(smtp_session "$ETRN_PORT" "EHLO client.test" "ETRN $1" "QUIT")
	grep -qxF "$2" <<<"$r" || fail "ETRN $1: want '$2', got: $r"
	say "ETRN $1: $2"
}
runner() { # EXPECTED-EXIT: one pass of the runner, as root
	local rc=0
	"$BIN/etrnd-runner" -1 -q "$Q" -d "$T/etrn.cdb" 2> "$T/runner.log" || rc=$?
	cat "$T/runner.log" >> "$T/runner.all" # every pass, for KEEP=1
	[ "$rc" -eq "$1" ] || { cat "$T/runner.log"; fail "etrnd-runner exit $rc, want $1"; }
}
empty_maildir() { # DIR
	local n
	n=$(find "$1/tmp" "$1/new" "$1/cur" "$1/failed" -type f | wc -l)
	[ "$n" -eq 0 ] || fail "$1 still holds $n files"
}
# The sink has the message as OpenSMTPD queued it: its one Received: header,
# then the text sent, every byte (holdset checks the suffix; this checks
# that etrnd-store -m took off exactly what OpenSMTPD's mda prepended).
exact() { # NODE
	python3 - "$HELPERS/holdset" "$T/sink" "$1" <<'PY'
import importlib.machinery, importlib.util, sys
loader = importlib.machinery.SourceFileLoader("holdset", sys.argv[1])
spec = importlib.util.spec_from_loader("holdset", loader)
hs = importlib.util.module_from_spec(spec)
loader.exec_module(hs)
want = {hs.text(n): n for n in hs.NODES[sys.argv[3]]}
seen = []
for f, _, _, data in hs.read_sink(sys.argv[2]):
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if not lines[0].startswith(b"Received: from ") or b"(OpenSMTPD)" not in lines[1]:
        sys.exit("%s does not start with OpenSMTPD's Received: %r" % (f, lines[:2]))
    i = 1
    while lines[i][:1] in (b"\t", b" "):
        i += 1
    rest = b"\n".join(lines[i:])
    if rest not in want:
        sys.exit("%s: after the Received: header, not a message of the set: %r" % (f, rest[:200]))
    seen.append(want[rest])
if sorted(seen) != sorted(want.values()):
    sys.exit("exact: got %s, want %s" % (sorted(seen), sorted(want.values())))
print("exact: %d messages are Received: + the text sent" % len(seen))
PY
}

[ "$(count_files "$Q/new")" -eq 0 ] || fail "a trigger before any ETRN"
etrn client.example.net "253 2.0.0 OK, 5 pending messages for node client.example.net started"
[ -f "$Q/new/client.example.net" ] || fail "no trigger written"
[ "$(stat -c %U "$Q/new/client.example.net")" = etrnd ] || fail "the trigger is not etrnd's"
[ "$(count_files "$T/sink/new")" -eq 0 ] || fail "mail reached the sink before the runner ran"

runner 0
grep -q "run node=client.example.net rule=client.example.net cmd=$BIN/etrnd-deliver .*status=exit:0" \
	"$T/runner.log" || { cat "$T/runner.log"; fail "no successful run logged"; }
"$HELPERS/holdset" expect "$T/sink" client.example.net || { cat "$T/runner.log"; fail "holdset expect"; }
exact client.example.net || fail "client.example.net: not byte for byte"
empty_maildir "$SPOOL/client.example.net"
[ "$(news "$SPOOL/example.org")" -eq 2 ] || fail "ETRN client.example.net touched example.org"
[ "$(count_files "$Q/new")" -eq 0 ] && [ "$(count_files "$Q/cur")" -eq 0 ] || fail "trigger left"
say "after the runner: exactly client.example.net's 5 messages, its maildir empty"

# -- ETRN @example.org: the domain and its subdomain ---------------------
mkdir "$T/sink/seen"
mv "$T"/sink/new/* "$T/sink/seen/" # the next check sees only what comes now
etrn @example.org "253 2.0.0 OK, 2 pending messages for node @example.org started"
runner 0
grep -q "run node=@example.org rule=@example.org .*status=exit:0" "$T/runner.log" ||
	{ cat "$T/runner.log"; fail "no successful run for @example.org"; }
"$HELPERS/holdset" expect "$T/sink" @example.org || { cat "$T/runner.log"; fail "holdset expect"; }
exact @example.org || fail "@example.org: not byte for byte"
empty_maildir "$SPOOL/example.org"
say "ETRN @example.org delivered example.org and sub.example.org"

# -- the sink gone: kept, exit 75, then delivered ---------------------------
# Also shows OpenSMTPD's one-mda-call-per-recipient: one message with two
# recipients in the node becomes two held files, two pending, two deliveries.
mv "$T"/sink/new/* "$T/sink/seen/"
stop_pid "$CLIENT_SINK"
! (exec 3<>"/dev/tcp/127.0.0.1/$SINK_PORT") 2>/dev/null || fail "the sink still listens"
r=$(smtp_session "$SMTP_PORT" "EHLO origin.test" "MAIL FROM:<sender@origin.test>" \
	"RCPT TO:<a@client.example.net>" "RCPT TO:<b@client.example.net>" "DATA" \
	"Subject: two recipients"$'\r\n'"Date: Mon, 30 Nov 2026 10:00:00 +0000"$'\r\n\r\n'"one message"$'\r\n'"." \
	"QUIT")
grep -q '^250 2.0.0 .* Message accepted for delivery' <<<"$r" ||
	fail "OpenSMTPD did not take the two-recipient message: $r"
wait_until 30 settled 13 || { tail -20 "$T/smtpd.log"; fail "OpenSMTPD did not hold the message"; }
n=$(news "$SPOOL/client.example.net")
[ "$n" -eq 2 ] || fail "$n files held for the two-recipient message, want 2"
etrn client.example.net "253 2.0.0 OK, 2 pending messages for node client.example.net started"
runner 1
grep -q "run node=client.example.net .*status=exit:75" "$T/runner.log" ||
	{ cat "$T/runner.log"; fail "the failed run is not logged with exit 75"; }
[ "$(news "$SPOOL/client.example.net")" -eq 2 ] || fail "the held messages were not kept"
[ "$(count_files "$SPOOL/client.example.net/failed")" -eq 0 ] || fail "a message went to failed/"
[ -f "$Q/new/client.example.net" ] || fail "the trigger was not put back for the next pass"
say "sink gone: etrnd-deliver exit 75 logged, both files kept, the trigger back in new/"

sink "$T/sink2" "$SINK_PORT"
runner 0
n=$(count_files "$T/sink2/new")
[ "$n" -eq 2 ] || fail "the sink got $n transactions, want 2"
got=$(grep -h '^X-Sink-Rcpt: ' "$T"/sink2/new/* | sort | tr '\n' ' ')
[ "$got" = "X-Sink-Rcpt: <a@client.example.net> X-Sink-Rcpt: <b@client.example.net> " ] ||
	fail "the retry delivered: $got"
empty_maildir "$SPOOL/client.example.net"
[ "$(count_files "$T/sink/new")" -eq 0 ] || fail "something reached the old sink"
say "sink back: the next pass delivered both, one transaction per recipient"

stop_pid "$SMTPD_PID"
! kill -0 "$SMTPD_PID" 2>/dev/null || fail "smtpd did not stop"
SMTPD_PID=""
echo "e2e opensmtpd: PASS"
