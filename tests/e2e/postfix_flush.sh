#!/bin/bash
# SPDX-License-Identifier: ISC
# End to end, the Postfix flush recipe (etc/postfix/main.cf.etrn,
# master.cf.etrn, etrn.rules.flush, etrnd-postqueue): the held-set mail
# waits in Postfix's own queue (defer_transports = hold), an ETRN has the
# runner flush it. With the real Postfix of Debian 12 unpacked into
# build/ext/postfix, on 127.0.0.1. Asserts what that recipe does, limits
# included, as main.cf.etrn documents them:
#  - ETRN client.example.net (etrnd answers 250: nothing to count) delivers
#    the node's 5 messages, and with them the shared message's other
#    recipient (s2@notclient.example.net) and client-example.net's mail
#    (same flush log); nothing else;
#  - postqueue -s @example.org exits 69; the bare rule logs status=exit:69;
#    the shipped rule flushes example.org and sub.example.org instead;
#  - a rule whose command had nothing to flush: the bare postqueue rule logs
#    status=exit:0, the shipped rule status=exit:1 ("nothing queued");
#  - a plain queue run (postqueue -f) delivers the rest without any ETRN.
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

T=$(mktemp -d /tmp/etrnd-e2e-postfix-flush.XXXXXX)
chmod 755 "$T"
cleanup() {
	pf_stop_all
	stop_all
	if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

SMTP_PORT=$(free_port)
SINK_PORT=$(free_port)
ETRN_PORT=$(free_port)
P=$T/postfix
Q=$T/etrnq
ETC=$ROOT/etc/postfix
DOMAINS="client.example.net notclient.example.net client.example.net.evil.test client-example.net example.org"
etrnq_setup "$Q"

# -- Postfix: every domain of the set held, as main.cf.etrn says -------------
mkdir -p "$P/conf"
{
	pf_master "$SMTP_PORT"
	grep -v '^#' "$ETC/master.cf.etrn"
} >"$P/conf/master.cf"
{
	pf_main "$P"
	echo "relay_domains = $(echo $DOMAINS | sed 's/ /, /g')"
	echo "transport_maps = texthash:$P/conf/transport"
	grep -v '^#' "$ETC/main.cf.etrn"
} >"$P/conf/main.cf"
# held like the recipe's "hold:[client.example.net]", but all at the sink
for d in $DOMAINS .example.org; do echo "$d hold:[127.0.0.1]:$SINK_PORT"; done >"$P/conf/transport"
[ "$(pf postconf -c "$P/conf" -h defer_transports fast_flush_domains | tr '\n' ' ')" = "hold \$relay_domains " ] ||
	fail "main.cf.etrn did not take"

mkdir -p "$T/sink"
sink_start "$T/sink" "$SINK_PORT"
pf_start "$P"
wait_port "$SMTP_PORT" || fail "Postfix smtpd did not listen"
say "Postfix $(pf postconf -c "$P/conf" -h mail_version) (unpacked, master $PF_MASTER) on 127.0.0.1:$SMTP_PORT"

python3 "$HELPERS/holdset" send 127.0.0.1 "$SMTP_PORT" || fail "holdset send"
wait_until 60 pf_settled "$P" 10 || { tail -20 "$P/maillog"; fail "the 10 messages were not all deferred"; }
[ "$(sink_count "$T/sink")" -eq 0 ] || fail "mail left before any ETRN"
say "held: 10 queue files deferred (flush logs: $(ls "$P/queue/flush" | tr '\n' ' '))"

# -- etrnd (user etrnd) and the rules: the shipped lines and the bare ones ----
sed -e "s#/usr/local/sbin/etrnd-postqueue#$ETC/etrnd-postqueue#" \
	-e "s#allow=192\.0\.2\.0/24#allow=127.0.0.1#" "$ETC/etrn.rules.flush" >"$T/shipped.rules"
[ "$(grep -c "^[^#].*allow=127.0.0.1  run=\"$ETC/etrnd-postqueue %n\"  interval=60  timeout=600\$" \
	"$T/shipped.rules")" -eq 2 ] || fail "etrn.rules.flush: the rule lines did not take the test paths"
"$BIN/etrnd-rules" "$T/shipped.rules" "$T/shipped.cdb" >/dev/null || fail "etrnd-rules (shipped)"
# the bare postqueue lines from the comments of etrn.rules.flush
sed -n 's/^#   \([^ ].* run="\/usr\/sbin\/postqueue -s %n"\)$/\1/p' "$ETC/etrn.rules.flush" |
	sed "s#/usr/sbin/postqueue#$PFSBIN/postqueue#" >"$T/bare.rules"
[ "$(wc -l <"$T/bare.rules")" -eq 2 ] || fail "etrn.rules.flush: the two bare postqueue lines are not there"
"$BIN/etrnd-rules" "$T/bare.rules" "$T/bare.cdb" >/dev/null || fail "etrnd-rules (bare)"
etrnd_start "$ETRN_PORT" "$T/shipped.cdb" "$Q" "$T/etrnd.log"

# runner CDB LOG: one pass of the runner as root; its exit status in RC. The
# environment is what the unpacked Postfix needs (the runner passes it on).
runner() {
	# the rules say interval=60: let a minute have passed since the last run
	find "$Q/last" -type f -exec touch -d '@1000000000' {} + 2>/dev/null || true
	set +e
	MAIL_CONFIG=$P/conf POSTQUEUE=$PFSBIN/postqueue LD_LIBRARY_PATH=$PFLIB \
		"$BIN/etrnd-runner" -1 -q "$Q" -d "$1" 2>"$2"
	RC=$?
	set -e
}
runlog() { grep -o "run node=$1 rule=[^ ]* cmd=[^ ]* status=[^ ]*" "$2"; }

# -- ETRN client.example.net ---------------------------------------------------
etrn_expect "$ETRN_PORT" client.example.net "250 2.0.0 OK, queuing for node client.example.net started"
runner "$T/shipped.cdb" "$T/r1.log"
[ "$RC" -eq 0 ] && grep -q "run node=client.example.net .*cmd=$ETC/etrnd-postqueue status=exit:0 " "$T/r1.log" ||
	{ cat "$T/r1.log"; fail "the shipped rule for client.example.net: runner exit $RC"; }
deliver_log "$T/r1.log" >"$T/r1.out"
for l in "etrnd-postqueue: also delivers s2@notclient.example.net (queue file " \
	"etrnd-postqueue: may also deliver client-example.net (its flush log client_example_net is that of client.example.net)" \
	"etrnd-postqueue: postqueue -s client.example.net (queue files: 5)"; do
	grep -qF "$l" "$T/r1.out" || { cat "$T/r1.out"; fail "not in the runner's log: $l"; }
done
wait_until 60 bash -c "[ \$(find '$T/sink/new' -type f | wc -l) -ge 6 ]" && wait_until 30 pf_settled "$P" 4 ||
	{ tail -20 "$P/maillog"; fail "the flush did not end: sink $(sink_count "$T/sink"), queue $(pf_queue_count "$P")"; }
sinkcheck "$T/sink" dot=u1@client.example.net 8bit=u2@client.example.net big=u3@client.example.net \
	null=u4@client.example.net shared=s1@client.example.net,s2@notclient.example.net \
	hyphen=x@client-example.net || fail "what ETRN client.example.net delivered"
say "runner: $(runlog client.example.net "$T/r1.log")"
sed 's/^/e2e:   /' "$T/r1.out"
say "ETRN client.example.net delivered its 5 messages, s2@notclient.example.net of the shared one" \
	"and client-example.net's (flush log client_example_net); not evil.test, notclient, example.org"
mkdir -p "$T/got/1" && mv "$T"/sink/new/* "$T/got/1/"

# -- ETRN @example.org: postqueue -s cannot, the shipped rule flushes each site
set +e
out=$(pf postqueue -c "$P/conf" -s @example.org 2>&1)
rc=$?
set -e
[ $rc -eq 69 ] && [ "$out" = 'postqueue: fatal: Cannot flush mail queue - invalid destination: "@example.org"' ] ||
	fail "postqueue -s @example.org: exit $rc: $out"
say "postqueue -s @example.org: exit 69: $out"
etrn_expect "$ETRN_PORT" @example.org "250 2.0.0 OK, queuing for node @example.org started"
runner "$T/bare.cdb" "$T/r2.log"
[ "$RC" -eq 1 ] && grep -q "run node=@example.org .*cmd=$PFSBIN/postqueue status=exit:69 " "$T/r2.log" &&
	grep -qF 'invalid destination: ?@example.org?' <<<"$(deliver_log "$T/r2.log")" ||
	{ cat "$T/r2.log"; fail "the bare rule for @example.org: runner exit $RC"; }
[ -f "$Q/new/@example.org" ] || fail "the failed run's trigger is not back in new/"
pf_settled "$P" 4 && [ "$(sink_count "$T/sink")" -eq 0 ] || fail "the bare @example.org rule moved mail"
say "bare rule, runner: $(runlog @example.org "$T/r2.log") (trigger back in new/, nothing moved)"
runner "$T/shipped.cdb" "$T/r3.log"
[ "$RC" -eq 0 ] && grep -q "run node=@example.org .*cmd=$ETC/etrnd-postqueue status=exit:0 " "$T/r3.log" ||
	{ cat "$T/r3.log"; fail "the shipped rule for @example.org: runner exit $RC"; }
[ "$(deliver_log "$T/r3.log")" = "etrnd-postqueue: postqueue -s example.org (queue files: 1)
etrnd-postqueue: postqueue -s sub.example.org (queue files: 1)" ] ||
	{ cat "$T/r3.log"; fail "the shipped rule for @example.org said something else"; }
wait_until 60 bash -c "[ \$(find '$T/sink/new' -type f | wc -l) -ge 2 ]" && wait_until 30 pf_settled "$P" 2 ||
	fail "the @example.org flush did not end"
sinkcheck "$T/sink" org=x@example.org sub=x@sub.example.org || fail "what ETRN @example.org delivered"
say "shipped rule, runner: $(runlog @example.org "$T/r3.log"): example.org and sub.example.org delivered"
mkdir -p "$T/got/2" && mv "$T"/sink/new/* "$T/got/2/"

# -- a rule whose command finds nothing to flush --------------------------------
etrn_expect "$ETRN_PORT" client.example.net "250 2.0.0 OK, queuing for node client.example.net started"
runner "$T/bare.cdb" "$T/r4.log"
[ "$RC" -eq 0 ] && grep -q "run node=client.example.net .*cmd=$PFSBIN/postqueue status=exit:0 " "$T/r4.log" ||
	{ cat "$T/r4.log"; fail "the bare rule with nothing queued: runner exit $RC"; }
say "nothing queued, bare rule: $(runlog client.example.net "$T/r4.log") (looks like a success)"
etrn_expect "$ETRN_PORT" client.example.net "250 2.0.0 OK, queuing for node client.example.net started"
runner "$T/shipped.cdb" "$T/r5.log"
[ "$RC" -eq 1 ] && grep -q "run node=client.example.net .*cmd=$ETC/etrnd-postqueue status=exit:1 " "$T/r5.log" &&
	[ "$(deliver_log "$T/r5.log")" = "etrnd-postqueue: nothing queued for client.example.net: nothing flushed" ] ||
	{ cat "$T/r5.log"; fail "the shipped rule with nothing queued: runner exit $RC"; }
say "nothing queued, shipped rule: $(runlog client.example.net "$T/r5.log"): $(deliver_log "$T/r5.log")"
rm -f "$Q/new/client.example.net"
pf_settled "$P" 2 && [ "$(sink_count "$T/sink")" -eq 0 ] || fail "mail moved without anything to flush"

# -- any plain queue run ends the hold -------------------------------------------
pf postqueue -c "$P/conf" -f || fail "postqueue -f"
wait_until 60 bash -c "[ \$(find '$T/sink/new' -type f | wc -l) -ge 2 ]" && wait_until 30 pf_settled "$P" 0 ||
	fail "postqueue -f did not deliver the rest"
sinkcheck "$T/sink" notclient=x@notclient.example.net evil=x@client.example.net.evil.test ||
	fail "what postqueue -f delivered"
say "postqueue -f, no ETRN: delivered notclient.example.net and client.example.net.evil.test; the queue is empty"

pf_untouched
echo "e2e postfix (flush recipe): PASS"
