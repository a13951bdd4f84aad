#!/bin/bash
# SPDX-License-Identifier: ISC
# End to end, the Postfix hold recipe (etc/postfix/main.cf.hold,
# transport.hold, master.cf.hold, etrn.rules), with the real Postfix of
# Debian 12 unpacked into build/ext/postfix (never installed) running as an
# instance of its own on 127.0.0.1:
#
#   holdset send -> Postfix smtpd -> transport_maps (exact domains)
#     -> pipe(8) "etrnhold" -> etrnd-store (user etrnhold) -> SPOOL/NODE
#   ETRN -> etrnd (user etrnd, under tcpserver) -> 253 with the exact count
#     -> trigger -> etrnd-runner (root) -> etrnd-deliver -u etrnhold
#     -> the sink at the address the ETRN came from ([%c]:PORT)
#
# The other held-set domains (notclient.example.net,
# client.example.net.evil.test, client-example.net) are relayed by Postfix
# to a second sink and must never reach the client's. Then the failures:
# the sink gone, the sink answering 451 (kept, retried by the runner), and
# 550 for one recipient (in failed/ with the reply; the other delivered).
# Creates the system users postfix, postdrop, etrnd and etrnhold when
# missing; /etc/postfix and the machine's MTA are left alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HELPERS=${ETRND_HELPERS:-$ROOT/tests/helpers}
. "$ROOT/tests/e2e/postfix-lib.sh"

[ "$(id -u)" -eq 0 ] || fail "the Postfix test needs root (Postfix's master, the runner, setuid)"
for p in tcpserver python3; do
	command -v "$p" >/dev/null || fail "$p is missing (make check installs it as root)"
done
pf_unpack
pf_users

T=$(mktemp -d /tmp/etrnd-e2e-postfix.XXXXXX)
chmod 755 "$T"
cleanup() {
	pf_stop_all
	stop_all
	if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

SMTP_PORT=$(free_port)
SINK_PORT=$(free_port)
OTHER_PORT=$(free_port)
ETRN_PORT=$(free_port)
P=$T/postfix
SPOOL=$T/etrnd-hold
Q=$T/etrnq
CDB=$T/etrn.cdb
CL=$SPOOL/client.example.net
ORG=$SPOOL/example.org
ETC=$ROOT/etc/postfix

# -- the deployment: users, spool, queue, as INSTALL says --------------------
install -d -o etrnhold -g etrnhold -m 0755 "$SPOOL"
etrnq_setup "$Q"

# -- Postfix: the shipped recipe, paths and ports changed ---------------------
mkdir -p "$P/conf"
{
	pf_main "$P"
	grep -v '^#' "$ETC/main.cf.hold" | sed "s#/etc/postfix/#$P/conf/#"
} >"$P/conf/main.cf"
{
	pf_master "$SMTP_PORT"
	grep -v '^#' "$ETC/master.cf.hold" |
		sed -e "s#/usr/local/sbin/#$BIN/#" -e "s#/var/spool/etrnd-hold/#$SPOOL/#"
} >"$P/conf/master.cf"
grep -q "argv=$BIN/etrnd-store -f \${sender} -- $SPOOL/\${nexthop} \${recipient}\$" \
	"$P/conf/master.cf" || fail "master.cf.hold: the etrnhold line did not take the test paths"

# the domains of the set that are not held are relayed to the other sink
relay=$(pf postconf -c "$P/conf" -h relay_domains)
[ "$relay" = "client.example.net, example.org" ] || fail "main.cf.hold: relay_domains = $relay"
pf postconf -c "$P/conf" -e \
	"relay_domains = $relay, notclient.example.net, client.example.net.evil.test, client-example.net"
{
	grep -v '^#' "$ETC/transport.hold"
	for d in notclient.example.net client.example.net.evil.test client-example.net; do
		echo "$d smtp:[127.0.0.1]:$OTHER_PORT"
	done
} >"$P/conf/transport"
pf postmap -c "$P/conf" "hash:$P/conf/transport" || fail "postmap"

mkdir -p "$T/sink" "$T/other"
sink_start "$T/sink" "$SINK_PORT"
CLIENT_SINK=$SINK_PID
sink_start "$T/other" "$OTHER_PORT"
pf_start "$P"
wait_port "$SMTP_PORT" || fail "Postfix smtpd did not listen"
say "Postfix $(pf postconf -c "$P/conf" -h mail_version) (unpacked, master $PF_MASTER) on 127.0.0.1:$SMTP_PORT"

# -- hold: the set goes into the maildirs, nothing to the client -------------
python3 "$HELPERS/holdset" send 127.0.0.1 "$SMTP_PORT" || fail "holdset send"
stored() {
	[ "$(count_files "$CL/new")" -eq 5 ] && [ "$(count_files "$ORG/new")" -eq 2 ] &&
		[ "$(sink_count "$T/other")" -eq 4 ] && [ "$(pf_queue_count "$P")" -eq 0 ]
}
wait_until 60 stored || {
	tail -20 "$P/maillog"
	fail "the set did not settle: client $(count_files "$CL/new"), example.org" \
		"$(count_files "$ORG/new"), other sink $(sink_count "$T/other"), queue $(pf_queue_count "$P")"
}
[ "$(sink_count "$T/sink")" -eq 0 ] || fail "mail reached the client's sink before any ETRN"
sinkcheck "$T/other" notclient=x@notclient.example.net shared=s2@notclient.example.net \
	evil=x@client.example.net.evil.test hyphen=x@client-example.net >/dev/null ||
	fail "the domains that are not held did not go (only) to the other sink"
grep -q 'relay=etrnhold, .*status=sent (delivered via etrnhold service)' "$P/maillog" ||
	fail "no delivery through the etrnhold pipe service in the maillog"
# the envelope as etrnd-store wrote it, and the modes of the node's maildir
held() { grep -l -- "^Subject: etrnd-hold $2\$" "$1"/new/* | head -1; }
[ "$(sed -n 2p "$(held "$CL" null)")" = "from " ] || fail "the null sender was not kept as <>"
[ "$(sed -n '3,/^$/p' "$(held "$CL" shared)")" = "to s1@client.example.net" ] ||
	fail "the shared message's envelope: $(sed -n '1,/^$/p' "$(held "$CL" shared)")"
[ "$(stat -c '%U %a' "$CL" "$CL/new" "$CL/cur" "$CL/tmp" "$CL/failed" | tr '\n' ' ')" = \
	"etrnhold 755 etrnhold 755 etrnhold 755 etrnhold 700 etrnhold 700 " ] ||
	fail "maildir modes: $(stat -c '%n %U %a' "$CL" "$CL"/*)"
say "held: 5 messages in $CL, 2 in $ORG, the other 4 relayed to the other sink; none at the client's"

# Postfix's own smtpd does not claim to start held mail (main.cf.hold)
out=$(smtp_session "$SMTP_PORT" "HELO client.test" "ETRN client.example.net" "ETRN @example.org" \
	"ETRN sub.example.org" "ETRN notclient.example.net" "QUIT")
[ "$(echo "$out" | sed -n '3,6p')" = "459 <client.example.net>: service unavailable
459 <example.org>: service unavailable
459 <sub.example.org>: service unavailable
250 Queuing started" ] || fail "Postfix's smtpd ETRN replies: $out"
say "Postfix's smtpd: ETRN for a held domain 459 (not 250), for a relayed one 250"

# a plain queue run does not deliver held mail: it is not in Postfix's queue
pf postqueue -c "$P/conf" -f || fail "postqueue -f"
python3 - "$SMTP_PORT" <<'PY' || fail "canary"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    s.sendmail("sender@origin.test", ["canary@notclient.example.net"],
               b"Subject: canary after postqueue -f\r\n\r\ncanary\r\n")
PY
wait_until 30 bash -c "[ \$(find '$T/other/new' -type f | wc -l) -eq 5 ]" ||
	fail "the canary after postqueue -f did not arrive"
[ "$(sink_count "$T/sink")" -eq 0 ] || fail "postqueue -f delivered held mail"
[ "$(count_files "$CL/new")" -eq 5 ] && [ "$(count_files "$ORG/new")" -eq 2 ] ||
	fail "postqueue -f changed the maildirs"
say "postqueue -f (and a canary through the queue after it): nothing reached the client"

# -- ETRN: etrnd as etrnd, the runner as root ---------------------------------
sed -e "s#/var/spool/etrnd-hold/#$SPOOL/#g" -e "s#/usr/local/sbin/#$BIN/#g" \
	-e "s#\[%c\]:25 #[%c]:$SINK_PORT #g" -e "s#allow=192\.0\.2\.0/24#allow=127.0.0.1#g" \
	"$ETC/etrn.rules" >"$T/etrn.rules"
[ "$(grep -c "allow=127.0.0.1  spool=$SPOOL/.*\[%c\]:$SINK_PORT %n\"\$" "$T/etrn.rules")" -eq 2 ] ||
	fail "etrn.rules: the rule lines did not take the test paths: $(grep -v '^#' "$T/etrn.rules")"
"$BIN/etrnd-rules" "$T/etrn.rules" "$CDB" >/dev/null || fail "etrnd-rules"
etrnd_start "$ETRN_PORT" "$CDB" "$Q" "$T/etrnd.log"

etrn_expect "$ETRN_PORT" client.example.net \
	"253 2.0.0 OK, 5 pending messages for node client.example.net started"
[ -f "$Q/new/client.example.net" ] || fail "no trigger"
[ "$(stat -c %U "$Q/new/client.example.net")" = etrnd ] || fail "the trigger was not written by etrnd"
[ "$(sink_count "$T/sink")" -eq 0 ] || fail "mail left before the runner ran"
"$BIN/etrnd-runner" -1 -q "$Q" -d "$CDB" 2>"$T/runner.log" ||
	{ cat "$T/runner.log"; fail "etrnd-runner -1"; }
grep -q "run node=client.example.net rule=client.example.net cmd=$BIN/etrnd-deliver status=exit:0 " \
	"$T/runner.log" || { cat "$T/runner.log"; fail "no successful etrnd-deliver run logged"; }
python3 "$HELPERS/holdset" expect "$T/sink" client.example.net || fail "holdset expect client.example.net"
[ "$(count_files "$CL/new") $(count_files "$CL/cur") $(count_files "$CL/failed")" = "0 0 0" ] ||
	fail "the maildir is not empty after the delivery"
[ "$(count_files "$ORG/new")" -eq 2 ] || fail "ETRN client.example.net touched example.org's maildir"
grep -q 'X-Sink-Peer: 127.0.0.1:' "$T"/sink/new/* || fail "not delivered from 127.0.0.1"
say "runner: $(grep -o 'run node=client.example.net .*status=[^ ]*' "$T/runner.log")"
say "the sink got exactly client.example.net's 5 messages, byte for byte; the maildir is empty"
etrn_expect "$ETRN_PORT" client.example.net \
	"251 2.0.0 OK, no messages waiting for node client.example.net"

mkdir -p "$T/got/client" && mv "$T"/sink/new/* "$T/got/client/"
etrn_expect "$ETRN_PORT" @example.org "253 2.0.0 OK, 2 pending messages for node @example.org started"
"$BIN/etrnd-runner" -1 -q "$Q" -d "$CDB" 2>"$T/runner.log" ||
	{ cat "$T/runner.log"; fail "etrnd-runner -1 (@example.org)"; }
grep -q "run node=@example.org rule=@example.org cmd=$BIN/etrnd-deliver status=exit:0 " \
	"$T/runner.log" || { cat "$T/runner.log"; fail "no successful run for @example.org"; }
python3 "$HELPERS/holdset" expect "$T/sink" @example.org || fail "holdset expect @example.org"
[ "$(count_files "$ORG/new") $(count_files "$ORG/cur")" = "0 0" ] || fail "example.org's maildir is not empty"
say "ETRN @example.org delivered example.org and sub.example.org, nothing else"
mkdir -p "$T/got/org" && mv "$T"/sink/new/* "$T/got/org/"

# -- failures: the sink gone, 451, then 550 for one recipient -----------------
python3 - "$SMTP_PORT" <<'PY' || fail "queueing the failure messages"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    for name, rcpts in (("f1", ["ok1@client.example.net"]),
                        ("f2", ["ok2@client.example.net", "bad@client.example.net"])):
        s.sendmail("sender@origin.test", rcpts,
                   b"Subject: etrnd-fail %s\r\n\r\nfailure case %s\r\n" % (name.encode(), name.encode()))
PY
wait_until 30 bash -c "[ \$(find '$CL/new' -type f | wc -l) -eq 2 ]" ||
	fail "the failure messages did not reach the maildir"

sink_stop "$CLIENT_SINK"
spawn "$BIN/etrnd-runner" -q "$Q" -d "$CDB" -b 1 -a 10 -r 1 2>"$T/runnerd.log"
wait_until 10 test -p "$Q/trigger" || fail "the runner did not create its FIFO"
etrn_expect "$ETRN_PORT" client.example.net \
	"253 2.0.0 OK, 2 pending messages for node client.example.net started"
wait_until 20 bash -c "grep -q 'run node=client.example.net .*status=exit:75 .*attempt=1\$' '$T/runnerd.log'" ||
	{ cat "$T/runnerd.log"; fail "no failed first attempt with the sink gone"; }
[ "$(count_files "$CL/new")" -eq 2 ] || fail "the sink was gone, but messages left the maildir"
grep -q "done node=client.example.net messages=2 sent=0 deferred=3 failed=0 status=75\$" <<<"$(deliver_log "$T/runnerd.log")" &&
	grep -q "dest=- .* reply=.451 127.0.0.1: Connection refused.\$" <<<"$(deliver_log "$T/runnerd.log")" ||
	{ cat "$T/runnerd.log"; fail "the sink gone: not logged as a refused connection and status 75"; }
say "sink gone: $(grep -o 'run node=client.example.net .*attempt=1$' "$T/runnerd.log"), both messages kept"

sink_start "$T/sink" "$SINK_PORT" --reply "eom=451 4.3.0 try again later"
S451=$SINK_PID
# the run that met the 451s ends with etrnd-deliver's status 75, which the
# runner logs as a failed run, to be retried
met451() {
	joined_log "$T/runnerd.log" | awk '
		/^out: etrnd-deliver\[[0-9]*\]: deliver .* dest=127\.0\.0\.1.* sent=0 deferred=[12] failed=0 reply=.451 4\.3\.0 try again later.$/ { n++ }
		n == 2 && /^out: etrnd-deliver\[[0-9]*\]: done node=client\.example\.net messages=2 sent=0 deferred=3 failed=0 status=75$/ { d = 1 }
		d && /^etrnd-runner\[[0-9]*\]: run node=client\.example\.net .*status=exit:75 / { ok = 1; exit }
		END { exit !ok }'
}
wait_until 30 met451 || { cat "$T/runnerd.log"; fail "no run that met the 451s and ended with exit 75"; }
[ "$(sink_count "$T/sink")" -eq 0 ] && [ "$(count_files "$CL/new")" -eq 2 ] ||
	fail "451: the messages were not kept"
say "sink 451: etrnd-deliver logged the reply and status=75, the runner logged exit:75; both kept"
sink_stop "$S451"

sink_start "$T/sink" "$SINK_PORT" --rcpt-reply "bad@client.example.net=550 5.1.1 <bad@client.example.net>: no such user"
wait_until 40 bash -c "grep -q 'run node=client.example.net .*status=exit:0 ' '$T/runnerd.log'" ||
	{ cat "$T/runnerd.log"; fail "the runner's retries never succeeded"; }
say "retries: $(grep -o 'run node=client.example.net .*status=[^ ]* .*attempt=[0-9]*' "$T/runnerd.log" |
	sed 's/.*status=\([^ ]*\).*attempt=\([0-9]*\)/\2:\1/' | tr '\n' ' ')(attempt:status)"
[ "$(sink_count "$T/sink")" -eq 2 ] || fail "550 case: the sink got $(sink_count "$T/sink") messages, not 2"
f2=$(grep -l '^Subject: etrnd-fail f2' "$T"/sink/new/*)
f1=$(grep -l '^Subject: etrnd-fail f1' "$T"/sink/new/*)
[ "$(grep '^X-Sink-Rcpt:' "$f2")" = "X-Sink-Rcpt: <ok2@client.example.net>" ] ||
	fail "f2 went to: $(grep '^X-Sink-Rcpt:' "$f2")"
[ "$(grep '^X-Sink-Rcpt:' "$f1")" = "X-Sink-Rcpt: <ok1@client.example.net>" ] || fail "f1 recipients"
[ "$(count_files "$CL/new") $(count_files "$CL/cur") $(count_files "$CL/failed")" = "0 0 1" ] ||
	fail "550 case: maildir new/cur/failed = $(count_files "$CL/new") $(count_files "$CL/cur") $(count_files "$CL/failed")"
failed=$(find "$CL/failed" -type f)
[ "$(sed -n '1,/^$/p' "$failed")" = "etrnd-envelope 1
from sender@origin.test
to bad@client.example.net
error bad@client.example.net 550 5.1.1 <bad@client.example.net>: no such user" ] ||
	fail "the failed/ envelope: $(sed -n '1,/^$/p' "$failed")"
grep -q '^Subject: etrnd-fail f2' "$failed" || fail "failed/ does not hold the message"
say "550 for bad@: ok2@ delivered, bad@ in failed/ with the reply; the maildir is otherwise empty"

grep -q 'etrn client=127.0.0.1 node=client.example.net' "$T/etrnd.log" || fail "no etrnd log line"
pf_untouched
echo "e2e postfix (hold recipe): PASS"
