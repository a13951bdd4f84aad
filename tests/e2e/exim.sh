#!/bin/bash
# SPDX-License-Identifier: ISC
# End to end with the real Exim 4.96 of Debian 12, unpacked into build/ext
# (never installed), each instance with its own -C configuration, spool and
# port on 127.0.0.1, all stopped by PID.
#
# Part 1, the hold recipe (etc/exim/hold-*.conf and etrn.rules, included
# verbatim): Exim pipes the held domains' mail into etrnd-store; nothing
# reaches the client's sink before an ETRN, not even after "exim -qf"; etrnd
# (user etrnd, under tcpserver) answers 253 with the exact count; the runner
# (root) runs etrnd-deliver as the held mail's owner, and the sink receives
# exactly the node's messages and recipients, byte for byte
# (tests/helpers/holdset); with the sink gone the mail is kept and the
# runner logs exit 75.
#
# Part 2, the flush recipe (etc/exim/flush-*.conf, etrn-flush.rules,
# etrnd-exim-flush): the same message set held in Exim's own queue. "exim
# -q", "-qf" and "-Rf NODE" release nothing; each shipped rule line releases
# exactly its node's recipients (the shared message's other recipient
# stays), an @domain rule asked for one host below it only that host; with
# the sink gone, and when nothing was queued, the runner's log shows no
# success, while a bare "exim -Rrf" line would log exit 0. Then the old
# recipe (hold_domains, "exim -Rf %n") on the same queue, for the record:
# its substring match and -qf release other nodes' mail.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EXT=${ETRND_EXTDIR:-$ROOT/build/ext}/exim/root
EXIM=$EXT/usr/sbin/exim4
HELPERS=${ETRND_HELPERS:-$ROOT/tests/helpers}
EXUSER=Debian-exim # compiled into Debian's exim4; it owns the held mail
[ -x "$EXIM" ] || fail "$EXIM is missing: sh scripts/ext.sh exim exim4-daemon-light (make check does)"
for p in /usr/bin/tcpserver /usr/bin/python3; do
	[ -x "$p" ] || fail "$p is missing (make check installs it as root)"
done
[ "$(id -u)" -eq 0 ] || fail "the Exim test needs root (Exim with -C, tcpserver -u, the runner)"
# The users of the deployment: etrnd (INSTALL) and Debian's Exim user, whom
# the binary looks up by name before it reads any configuration (exim4-base's
# postinst would create it). System users only, created when missing and left
# in place: another test may be using them.
need_user etrnd /var/spool/etrnd
need_user "$EXUSER" /var/spool/exim4

T=$(mktemp -d /tmp/etrnd-e2e-exim.XXXXXX)
chmod 755 "$T"
cleanup() {
	stop_all
	if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

ETRN_PORT=$(free_port)
SINK_PORT=$(free_port)
OTHER_PORT=$(free_port)
HOLD_PORT=$(free_port)
FLUSH_PORT=$(free_port)

# -- helpers ----------------------------------------------------------------

# sink NAME PORT: an smtpsink storing into $T/NAME; waits for its ready file.
sink() {
	rm -f "$T/$1.ready"
	spawn python3 "$HELPERS/smtpsink" --dir "$T/$1" --listen "127.0.0.1:$2" \
		--ready-file "$T/$1.ready" --hostname "$1.test"
	eval "PID_$1=$LAST_PID"
	wait_until 10 test -s "$T/$1.ready" || fail "smtpsink $1 did not start"
}
# unsink NAME: stops that sink and waits until it is gone.
unsink() {
	local pid
	eval "pid=\$PID_$1"
	kill "$pid"
	gone() { ! kill -0 "$1" 2>/dev/null; }
	wait_until 10 gone "$pid" || fail "smtpsink $1 did not stop"
	wait "$pid" || fail "smtpsink $1 exited $?"
}
sink_count() { count_files "$T/$1/new"; }

# exim_start NAME PORT: exim -bdf (the daemon in the foreground, so that its
# PID is ours) with $T/NAME/exim.conf; waits for its "daemon started" line.
exim_start() {
	spawn "$EXIM" -C "$T/$1/exim.conf" -bdf
	eval "PID_$1=$LAST_PID"
	started() {
		kill -0 "$2" 2>/dev/null || { cat "$T/$1/log/"* 2>/dev/null; fail "exim $1 exited"; }
		grep -q "daemon started: pid=$2, .*\[127.0.0.1\]:$3" "$T/$1/log/mainlog" 2>/dev/null
	}
	wait_until 10 started "$1" "$LAST_PID" "$2" || fail "exim $1 did not start"
}
# ex NAME ARGS...: an exim command with that instance's configuration.
ex() { local n=$1; shift; timeout 120 "$EXIM" -C "$T/$n/exim.conf" "$@"; }
holdset() { timeout 120 python3 "$HELPERS/holdset" "$@"; }
# hold_one RCPT: one short message through the flush instance; waits until
# Exim has deferred it.
hold_one() {
	smtp_session "$FLUSH_PORT" "EHLO origin.test" "MAIL FROM:<sender@origin.test>" \
		"RCPT TO:<$1>" "DATA" "Subject: for $1"$'\r\n\r\n'"one more"$'\r\n'"." "QUIT" >/dev/null
	wait_until 10 grep -qF "== $1 R=etrnd_held defer" "$T/flush/log/mainlog" || fail "$1 was not held"
}

# The main section both Exim instances share: this test's paths and port.
exim_main() {
	cat <<EOF
primary_hostname = mx.etrnd-test.invalid
exim_path = $EXIM
# Exim re-executes itself as its own user, and Debian's exim4 trusts a -C
# file from that user only if /etc/exim4/trusted_configs lists it: with
# deliver_drop_privilege it runs as its own user throughout and needs none.
exim_user = $EXUSER
exim_group = $EXUSER
deliver_drop_privilege = true
spool_directory = $T/$1/spool
log_file_path = $T/$1/log/%slog
pid_file_path = $T/$1/exim.pid
daemon_smtp_ports = $2
local_interfaces = 127.0.0.1
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
keep_environment =
acl_smtp_rcpt = acl_rcpt
EOF
}
exim_dirs() {
	mkdir -p "$T/$1/spool" "$T/$1/log"
	chown -R "$EXUSER:$EXUSER" "$T/$1/spool" "$T/$1/log"
}

# The rules of an etc/exim sample with this test's paths, ports and client.
localize_rules() {
	sed -e "s|/usr/local/sbin/etrnd-exim-flush|$ROOT/etc/exim/etrnd-exim-flush -x $EXIM -C $T/flush/exim.conf|g" \
		-e "s|/usr/local/sbin/etrnd-|$BIN/etrnd-|g" -e "s|/var/spool/etrnd-hold|$T/hold|g" \
		-e "s|\[%c\]:25|[%c]:$SINK_PORT|g" -e "s|allow=[^ ]*|allow=127.0.0.1|" \
		-e "s|timeout=[0-9]*|timeout=120|" "$1"
}

# etrn NODE: one ETRN through etrnd; prints etrnd's reply to it.
etrn() { smtp_session "$ETRN_PORT" "EHLO client.test" "ETRN $1" "QUIT" | grep -i ' node '; }

# runner LOG: one pass of the runner, as root; its exit status is returned.
runner() { "$BIN/etrnd-runner" -1 -t 120 -q "$T/etrnq" -d "$T/etrn.cdb" 2> "$T/$1"; }

# -- etrnd under tcpserver as user etrnd ------------------------------------
mkdir -p "$T/etrnq/tmp" "$T/etrnq/new" "$T/etrnq/cur"
chown etrnd:etrnd "$T/etrnq/tmp" "$T/etrnq/new"
spawn /usr/bin/tcpserver -q -R -H -l mx.test -u "$(id -u etrnd)" -g "$(id -g etrnd)" \
	127.0.0.1 "$ETRN_PORT" "$BIN/etrnd" -n etrn.etrnd-test.invalid -d "$T/etrn.cdb" \
	-q "$T/etrnq" -l stderr
wait_port "$ETRN_PORT" || fail "tcpserver did not start"

sink client "$SINK_PORT"
sink other "$OTHER_PORT"

# == Part 1: the hold recipe =================================================
# The spool root belongs to the user Exim's pipe runs as; etrnd-store makes
# each node's maildir on first use.
install -d -o "$EXUSER" -g "$EXUSER" -m 0755 "$T/hold"
exim_dirs hold
{
	exim_main hold "$HOLD_PORT"
	cat <<EOF
ETRND_STORE = $BIN/etrnd-store
ETRND_SPOOL = $T/hold

begin acl
acl_rcpt:
  require verify = recipient
  accept hosts = 127.0.0.1
  deny

begin routers
.include $ROOT/etc/exim/hold-routers.conf
# every other domain (and any bounce) to the other sink
others:
  driver = manualroute
  route_list = * 127.0.0.1
  self = send
  transport = to_other

begin transports
.include $ROOT/etc/exim/hold-transports.conf
to_other:
  driver = smtp
  port = $OTHER_PORT
  hosts_avoid_tls = *
  allow_localhost

begin retry
*  *  F,1h,10m
EOF
} > "$T/hold/exim.conf"
chmod 644 "$T/hold/exim.conf"
exim_start hold "$HOLD_PORT"
say "exim (hold recipe) pid $PID_hold on 127.0.0.1:$HOLD_PORT"

holdset send 127.0.0.1 "$HOLD_PORT" || fail "holdset send"
# Exim delivers on arrival; done once its queue is empty and every message
# is where it belongs.
settled() {
	[ "$(ex hold -bpc)" = 0 ] && [ "$(count_files "$T/hold/client.example.net/new")" = 5 ] &&
		[ "$(count_files "$T/hold/example.org/new")" = 2 ] && [ "$(sink_count other)" = 4 ]
}
wait_until 30 settled || { cat "$T/hold/log/mainlog"; ex hold -bp; fail "the set did not settle"; }
[ "$(sink_count client)" = 0 ] || fail "mail reached the client's sink before any ETRN"
[ "$(stat -c %U "$T/hold/client.example.net/new")" = "$EXUSER" ] || fail "maildir not owned by $EXUSER"
! grep -q "=>.*@client\.example\.net .*T=to_other\|=>.*example\.org .*T=to_other" "$T/hold/log/mainlog" ||
	fail "a held domain went to the other sink"
rcpts=$(cat "$T/other/new/"* | sed -n 's/^X-Sink-Rcpt: //p' | sort | tr '\n' ' ')
[ "$rcpts" = "<s2@notclient.example.net> <x@client-example.net> <x@client.example.net.evil.test> <x@notclient.example.net> " ] ||
	fail "the other sink got: $rcpts"
ex hold -qf
[ "$(sink_count client)" = 0 ] && [ "$(count_files "$T/hold/client.example.net/new")" = 5 ] ||
	fail "exim -qf moved held mail"
say "held: 5 messages for client.example.net, 2 for @example.org (maildirs of $EXUSER);" \
	"the 4 others relayed; nothing at the client's sink, not after exim -qf either"

localize_rules "$ROOT/etc/exim/etrn.rules" > "$T/etrn.rules"
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
chmod 644 "$T/etrn.cdb"
reply=$(etrn client.example.net)
[ "$reply" = "253 2.0.0 OK, 5 pending messages for node client.example.net started" ] ||
	fail "ETRN client.example.net: $reply"
[ "$(sink_count client)" = 0 ] || fail "mail left before the runner ran"
runner runner1.log || { cat "$T/runner1.log"; fail "etrnd-runner failed"; }
grep -q "run node=client.example.net rule=client.example.net cmd=$BIN/etrnd-deliver status=exit:0" \
	"$T/runner1.log" || { cat "$T/runner1.log"; fail "no successful run logged"; }
holdset expect "$T/client" client.example.net || fail "the client's sink"
[ "$(count_files "$T/hold/client.example.net")" = 0 ] || fail "the maildir is not empty"
reply=$(etrn client.example.net)
[ "$reply" = "251 2.0.0 OK, no messages waiting for node client.example.net" ] ||
	fail "second ETRN client.example.net: $reply"
say "ETRN client.example.net: 253 (5), the runner delivered exactly them; then 251"

# The sink gone: the mail stays, the runner logs 75, the next pass delivers.
unsink client
reply=$(etrn @example.org)
[ "$reply" = "253 2.0.0 OK, 2 pending messages for node @example.org started" ] ||
	fail "ETRN @example.org: $reply"
if runner runner2.log; then cat "$T/runner2.log"; fail "the runner succeeded without a sink"; fi
grep -q "run node=@example.org rule=@example.org cmd=$BIN/etrnd-deliver status=exit:75" \
	"$T/runner2.log" || { cat "$T/runner2.log"; fail "exit 75 not logged"; }
[ "$(count_files "$T/hold/example.org/new")" = 2 ] || fail "mail lost with the sink gone"
say "sink gone: kept 2 messages, the runner logged status=exit:75"
mkdir "$T/client.before" && mv "$T/client/new/"* "$T/client.before/"
sink client "$SINK_PORT"
runner runner3.log || { cat "$T/runner3.log"; fail "etrnd-runner failed"; }
grep -q "run node=@example.org rule=@example.org cmd=$BIN/etrnd-deliver status=exit:0" \
	"$T/runner3.log" || { cat "$T/runner3.log"; fail "no successful run logged"; }
holdset expect "$T/client" @example.org || fail "the client's sink"
[ "$(count_files "$T/hold/example.org")" = 0 ] || fail "the maildir is not empty"
say "ETRN @example.org: the next pass delivered example.org and sub.example.org"

# == Part 2: the flush recipe ================================================
# The same set, held in Exim's queue: all six domains are held, as nodes of
# their own; released mail goes to the client's sink, and so would any bounce.
mkdir -p "$T/flush" "$T/client.part1"
mv "$T/client/new/"* "$T/client.before/"* "$T/client.part1/"
exim_dirs flush
held="client.example.net : notclient.example.net : client.example.net.evil.test : client-example.net : example.org : *.example.org"
sed "s|^domainlist etrnd_held = .*|domainlist etrnd_held = $held|" "$ROOT/etc/exim/flush-main.conf" \
	> "$T/flush/main.conf"
grep -qxF "domainlist etrnd_held = $held" "$T/flush/main.conf" || fail "flush-main.conf has no etrnd_held list"
{
	exim_main flush "$FLUSH_PORT"
	cat <<EOF
.include $T/flush/main.conf

begin acl
acl_rcpt:
  require verify = recipient
  accept hosts = 127.0.0.1
  deny

begin routers
.include $ROOT/etc/exim/flush-routers.conf
to_client:
  driver = manualroute
  route_list = * 127.0.0.1
  self = send
  transport = to_client

begin transports
to_client:
  driver = smtp
  port = $SINK_PORT
  hosts_avoid_tls = *
  allow_localhost

begin retry
.include $ROOT/etc/exim/flush-retry.conf
*  *  F,1h,10m
EOF
} > "$T/flush/exim.conf"
chmod 644 "$T/flush/exim.conf" "$T/flush/main.conf"
exim_start flush "$FLUSH_PORT"
say "exim (flush recipe) pid $PID_flush on 127.0.0.1:$FLUSH_PORT"

holdset send 127.0.0.1 "$FLUSH_PORT" || fail "holdset send"
# 11 recipients in 10 messages, each deferred on arrival.
defers() { grep -c "== .* R=etrnd_held defer (-1): held for ETRN" "$T/flush/log/mainlog" || true; }
all_held() { [ "$(defers)" -ge 11 ]; }
wait_until 30 all_held || { cat "$T/flush/log/mainlog"; fail "the set was not held"; }
[ "$(defers)" = 11 ] || fail "$(defers) deferrals, expected 11"
[ "$(ex flush -bpc)" = 10 ] || fail "exim holds $(ex flush -bpc) messages, expected 10"
# A plain queue run skips them (retry time), a forced one defers them again;
# -Rf's substring match looks at 8 addresses in the 7 messages with a
# recipient containing "client.example.net".
ex flush -q
[ "$(defers)" = 11 ] || fail "exim -q routed held mail"
ex flush -qf
[ "$(defers)" = 22 ] || fail "exim -qf deferred $(($(defers) - 11)) addresses, expected 11"
ex flush -Rf client.example.net
[ "$(defers)" = 30 ] || fail "exim -Rf client.example.net deferred $(($(defers) - 22)), expected 8"
[ "$(sink_count client)" = 0 ] || fail "held mail left Exim's queue"
[ "$(ex flush -bpc)" = 10 ] || fail "the queue changed"
say "held in Exim's queue: 11 recipients in 10 messages; exim -q, -qf and -Rf client.example.net released none"

# Exim's queue run exits 0 even when it selected nothing.
rc=0
ex flush -DETRND_NODE=nothing.example.net -Rrf '@nothing\.example\.net$' || rc=$?
[ "$rc" = 0 ] || fail "exim -Rrf selecting nothing exited $rc"
# etrnd-exim-flush: only host and @domain nodes; exim failing is temporary.
rc=0
"$ROOT/etc/exim/etrnd-exim-flush" -x "$EXIM" -C "$T/flush/exim.conf" '#queue' 2>/dev/null || rc=$?
[ "$rc" = 64 ] || fail "etrnd-exim-flush #queue exited $rc, expected 64"
rc=0
"$ROOT/etc/exim/etrnd-exim-flush" -x /bin/false client.example.net >/dev/null || rc=$?
[ "$rc" = 75 ] || fail "etrnd-exim-flush with a failing exim exited $rc, expected 75"

localize_rules "$ROOT/etc/exim/etrn-flush.rules" > "$T/etrn.rules"
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
reply=$(etrn client.example.net)
[ "$reply" = "250 2.0.0 OK, queuing for node client.example.net started" ] ||
	fail "ETRN client.example.net: $reply"
FLUSH=$ROOT/etc/exim/etrnd-exim-flush
# The sink gone: Exim defers, its queue run exits 0 all the same, and
# etrnd-exim-flush sees the node's mail still queued: 75, retried.
unsink client
if runner runner4a.log; then cat "$T/runner4a.log"; fail "the runner succeeded without a sink"; fi
grep -q "run node=client.example.net rule=client.example.net cmd=$FLUSH status=exit:75" \
	"$T/runner4a.log" || { cat "$T/runner4a.log"; fail "exit 75 not logged"; }
grep -q 'text="etrnd-exim-flush: node=client.example.net queued=5 left=5 exim=0"' \
	"$T/runner4a.log" || { cat "$T/runner4a.log"; fail "no count logged"; }
[ "$(ex flush -bpc)" = 10 ] || fail "mail lost with the sink gone"
say "sink gone: Exim kept the 5 messages, exim exited 0, the runner logged status=exit:75"
sink client "$SINK_PORT"
runner runner4.log || { cat "$T/runner4.log"; fail "etrnd-runner failed"; }
grep -q "run node=client.example.net rule=client.example.net cmd=$FLUSH status=exit:0" \
	"$T/runner4.log" || { cat "$T/runner4.log"; fail "no successful run logged"; }
grep -q 'text="etrnd-exim-flush: node=client.example.net queued=5 left=0 exim=0"' \
	"$T/runner4.log" || { cat "$T/runner4.log"; fail "no count logged"; }
holdset expect "$T/client" client.example.net || fail "the client's sink"
grep -qx ' *s2@notclient.example.net' <<<"$(ex flush -bpru)" || fail "the shared message's other recipient left"
[ "$(ex flush -bpc)" = 6 ] || fail "exim holds $(ex flush -bpc) messages, expected 6"
say "ETRN client.example.net: 250; the runner's flush delivered exactly its 5 messages, s2@notclient stays"

# ETRN @example.org releases the domain and what is below it.
mkdir "$T/client.flush1"
mv "$T/client/new/"* "$T/client.flush1/"
reply=$(etrn @example.org)
[ "$reply" = "250 2.0.0 OK, queuing for node @example.org started" ] || fail "ETRN @example.org: $reply"
runner runner5.log || { cat "$T/runner5.log"; fail "etrnd-runner failed"; }
grep -q "run node=@example.org rule=@example.org cmd=$FLUSH status=exit:0" \
	"$T/runner5.log" || { cat "$T/runner5.log"; fail "no successful run logged"; }
holdset expect "$T/client" @example.org || fail "the client's sink"
say "ETRN @example.org: 250; the flush delivered example.org and sub.example.org"

# The @example.org rule asked for one host below it releases that host only.
mkdir "$T/client.flush2"
mv "$T/client/new/"* "$T/client.flush2/"
hold_one a@example.org
hold_one b@sub.example.org
reply=$(etrn sub.example.org)
[ "$reply" = "250 2.0.0 OK, queuing for node sub.example.org started" ] || fail "ETRN sub.example.org: $reply"
runner runner6.log || { cat "$T/runner6.log"; fail "etrnd-runner failed"; }
grep -q "run node=sub.example.org rule=@example.org cmd=$FLUSH status=exit:0" \
	"$T/runner6.log" || { cat "$T/runner6.log"; fail "no successful run logged"; }
[ "$(sink_count client)" = 1 ] && grep -qx 'X-Sink-Rcpt: <b@sub.example.org>' "$T/client/new/"* ||
	fail "ETRN sub.example.org delivered: $(cat "$T/client/new/"* | grep X-Sink-Rcpt)"
grep -qx ' *a@example.org' <<<"$(ex flush -bpru)" || fail "a@example.org left with sub.example.org"
say "ETRN sub.example.org, under @example.org: only sub.example.org's message"

# Nothing queued: the shipped rule logs exit 1 and "nothing queued", as the
# Postfix and Sendmail wrappers do; a bare exim line exit 0.
mkdir "$T/client.flush3"
mv "$T/client/new/"* "$T/client.flush3/"
etrn client.example.net >/dev/null
if runner runner7.log; then cat "$T/runner7.log"; fail "the runner succeeded with nothing queued"; fi
grep -q "run node=client.example.net rule=client.example.net cmd=$FLUSH status=exit:1 " \
	"$T/runner7.log" || { cat "$T/runner7.log"; fail "exit 1 not logged"; }
grep -q 'text="etrnd-exim-flush: nothing queued for client.example.net: nothing flushed"' "$T/runner7.log" ||
	{ cat "$T/runner7.log"; fail "no reason logged"; }
echo "client.example.net  run=\"$EXIM -C $T/flush/exim.conf -DETRND_NODE=%n -Rrf @client[.]example[.]net\$\"" \
	> "$T/bare.rules"
"$BIN/etrnd-rules" "$T/bare.rules" "$T/etrn.cdb" >/dev/null
etrn client.example.net >/dev/null
runner runner8.log || { cat "$T/runner8.log"; fail "etrnd-runner failed"; }
grep -q "run node=client.example.net rule=client.example.net cmd=$EXIM status=exit:0" "$T/runner8.log" ||
	{ cat "$T/runner8.log"; fail "a bare exim line: not exit 0"; }
[ "$(sink_count client)" = 0 ] || fail "mail left"
say "nothing queued: the runner logged etrnd-exim-flush's status=exit:1 and 'nothing queued for client.example.net'; a bare exim -Rrf line logs exit:0"

# The old recipe on the same queue (hold_domains, no etrnd_held router):
# "exim -Rf %n" is a substring match, and -qf ignores hold_domains.
mkdir -p "$T/old"
sed -e "s|^spool_directory = .*|spool_directory = $T/flush/spool|" \
	-e "s|^\.include $ROOT/etc/exim/flush-routers.conf\$||" \
	-e "s|^\.include $T/flush/main.conf\$|domainlist etrnd_held = $held\nhold_domains = +etrnd_held|" \
	"$T/flush/exim.conf" > "$T/old/exim.conf"
chmod 644 "$T/old/exim.conf"
grep -q etrnd_held <<<"$(ex old -bP hold_domains)" || fail "the old configuration has no hold_domains"
ex old -q
[ "$(sink_count client)" = 0 ] || fail "hold_domains did not hold"
ex old -Rf client.example.net
rcpts=$(cat "$T/client/new/"* | sed -n 's/^X-Sink-Rcpt: //p' | sort | tr '\n' ' ')
[ "$rcpts" = "<s2@notclient.example.net> <x@client.example.net.evil.test> <x@notclient.example.net> " ] ||
	fail "old exim -Rf client.example.net delivered: $rcpts"
# "exim -Rf @example.org" (the node as ETRN gives it) misses sub.example.org.
hold_one c@sub.example.org
ex old -Rf @example.org
[ "$(sink_count client)" = 4 ] && grep -qx 'X-Sink-Rcpt: <a@example.org>' "$T/client/new/"* ||
	fail "old exim -Rf @example.org: $(sink_count client) messages at the sink, expected a@example.org's"
ex old -qf
[ "$(sink_count client)" = 6 ] && grep -qx 'X-Sink-Rcpt: <x@client-example.net>' "$T/client/new/"* &&
	grep -qx 'X-Sink-Rcpt: <c@sub.example.org>' "$T/client/new/"* ||
	fail "old exim -qf: $(sink_count client) messages at the sink"
[ "$(ex flush -bpc)" = 0 ] || fail "the queue is not empty"
say "old recipe: -Rf client.example.net delivered notclient and evil.test mail," \
	"-Rf @example.org not sub.example.org's; -qf everything"
for n in hold flush; do
	[ ! -s "$T/$n/log/paniclog" ] || fail "exim $n paniclog: $(cat "$T/$n/log/paniclog")"
done

echo "e2e exim: PASS"
