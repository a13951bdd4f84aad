#!/bin/bash
# SPDX-License-Identifier: ISC
# End to end with a real Postfix: mail for hold.example is held by
# defer_transports until ETRN; etrnd (under tcpserver) takes the ETRN,
# etrnd-runner runs "postqueue -s hold.example", and Postfix delivers the
# held messages to a loopback smtp-sink. Uses its own Postfix instance
# (postfix -c DIR) and leaves /etc/postfix as it found it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for prog in /usr/sbin/postfix /usr/sbin/postqueue /usr/sbin/smtp-sink /usr/bin/tcpserver; do
	[ -x "$prog" ] || fail "$prog is missing: install postfix and ucspi-tcp-ipv6 (make check does, as root)"
done
[ "$(id -u)" -eq 0 ] || fail "the Postfix test needs root (Postfix's master runs as root)"

T=$(mktemp -d /tmp/etrnd-e2e-postfix.XXXXXX)
chmod 755 "$T"
etc_before=$(ls -la --time-style=+%s /etc/postfix 2>/dev/null | md5sum)
cleanup() {
	/usr/sbin/postfix -c "$T/conf" abort >/dev/null 2>&1 || true
	stop_all
	# Postfix's own daemons, by the PID file of this instance's master
	if [ -f "$T/queue/pid/master.pid" ]; then
		kill "$(tr -d ' ' < "$T/queue/pid/master.pid")" 2>/dev/null || true
	fi
	if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT

SMTP_PORT=$(free_port)
SINK_PORT=$(free_port)
ETRN_PORT=$(free_port)
mkdir -p "$T/conf" "$T/queue" "$T/data" "$T/sink" "$T/etrnq/tmp" "$T/etrnq/new" "$T/etrnq/cur"
chown postfix "$T/data" "$T/sink"

# -- Postfix, following etc/postfix/main.cf.etrn and master.cf.etrn -------
cat > "$T/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.etrnd-test.invalid
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = $T/maillog
maillog_file_prefixes = $T
relay_domains = hold.example
transport_maps = inline:{ hold.example=hold:[127.0.0.1]:$SINK_PORT }
CF
cat "$ROOT/etc/postfix/main.cf.etrn" | grep -v '^#' | grep -v '^transport_maps' >> "$T/conf/main.cf"
{ echo "127.0.0.1:$SMTP_PORT inet n - n - - smtpd"; grep -v '^#' "$ROOT/tests/e2e/postfix-master.cf"; } \
	> "$T/conf/master.cf"
grep -v '^#' "$ROOT/etc/postfix/master.cf.etrn" >> "$T/conf/master.cf"

spawn /usr/sbin/smtp-sink -u postfix -d "$T/sink/msg." "127.0.0.1:$SINK_PORT" 10
wait_port "$SINK_PORT" || fail "smtp-sink did not start"
/usr/sbin/postfix -c "$T/conf" check || fail "postfix check: $(tail -5 "$T/maillog" 2>/dev/null)"
/usr/sbin/postfix -c "$T/conf" start >/dev/null 2>&1 || { cat "$T/maillog" 2>/dev/null; fail "postfix start"; }
wait_port "$SMTP_PORT" || fail "Postfix smtpd did not start"

# -- hold three messages ----------------------------------------------------
for i in 1 2 3; do
	smtp_session "$SMTP_PORT" "EHLO client.test" "MAIL FROM:<sender@etrnd-test.invalid>" \
		"RCPT TO:<user$i@hold.example>" "DATA" \
		"Subject: etrnd e2e message $i"$'\r\n\r\n'"held message $i"$'\r\n'"." "QUIT" >/dev/null
done
deferred() { [ "$(count_files "$T/queue/deferred")" -eq 3 ]; }
wait_until 30 deferred || { cat "$T/maillog"; fail "the 3 messages were not deferred"; }
sleep 2
[ "$(count_files "$T/sink")" -eq 0 ] || fail "mail left before the ETRN"
say "3 messages held in the deferred queue, none delivered"

# -- ETRN through etrnd under tcpserver -------------------------------------
cat > "$T/etrn.rules" <<RULES
hold.example  allow=127.0.0.1  run="/usr/sbin/postqueue -c $T/conf -s %n"
RULES
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
spawn /usr/bin/tcpserver -q -R -H -l mx.test 127.0.0.1 "$ETRN_PORT" \
	"$BIN/etrnd" -n etrn.etrnd-test.invalid -d "$T/etrn.cdb" -q "$T/etrnq" -l stderr
wait_port "$ETRN_PORT" || fail "tcpserver did not start"
replies=$(smtp_session "$ETRN_PORT" "EHLO client.test" "ETRN hold.example" "QUIT")
echo "$replies" | grep -qx '250 2.0.0 OK, queuing for node hold.example started' ||
	fail "unexpected ETRN replies: $replies"
[ -f "$T/etrnq/new/hold.example" ] || fail "no trigger written"
[ "$(count_files "$T/sink")" -eq 0 ] || fail "mail left before the runner ran"
say "etrnd answered 250 and wrote the trigger"

# -- the runner starts the queue run ----------------------------------------
"$BIN/etrnd-runner" -1 -q "$T/etrnq" -d "$T/etrn.cdb" 2> "$T/runner.log" ||
	{ cat "$T/runner.log"; fail "etrnd-runner failed"; }
grep -q 'run node=hold.example rule=hold.example cmd=/usr/sbin/postqueue status=exit:0' \
	"$T/runner.log" || { cat "$T/runner.log"; fail "no successful run logged"; }
delivered() { [ "$(count_files "$T/sink")" -ge 3 ]; }
wait_until 30 delivered || { cat "$T/maillog"; fail "held mail was not delivered"; }
sleep 1
n=$(count_files "$T/sink")
[ "$n" -eq 3 ] || fail "the sink received $n messages, expected 3"
for i in 1 2 3; do
	grep -lq "Subject: etrnd e2e message $i" "$T"/sink/* || fail "message $i missing"
done
[ "$(count_files "$T/queue/deferred")" -eq 0 ] || fail "mail still deferred"
[ "$(ls -la --time-style=+%s /etc/postfix 2>/dev/null | md5sum)" = "$etc_before" ] ||
	fail "/etc/postfix was changed"
say "after ETRN the sink received exactly the 3 held messages"

# -- etrn(1) against Postfix's own smtpd, and against a server without ETRN
out=$("$BIN/etrn" -p "$SMTP_PORT" 127.0.0.1 hold.example) || fail "etrn vs Postfix: $out"
echo "$out" | grep -q '^hold.example 250 ' || fail "etrn vs Postfix: $out"
set +e
out=$("$BIN/etrn" -p "$SMTP_PORT" 127.0.0.1 other.example); rc=$?
set -e
[ $rc -eq 1 ] && echo "$out" | grep -q '^other.example 459 ' ||
	fail "etrn vs Postfix, a domain it does not flush: exit $rc: $out"
set +e
"$BIN/etrn" -p "$SINK_PORT" 127.0.0.1 hold.example 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || fail "etrn vs smtp-sink (no ETRN offered): exit $rc, want 2"
say "etrn: 250 from Postfix smtpd (exit 0), 459 (exit 1), no ETRN offered (exit 2)"
echo "e2e postfix: PASS"
