# SPDX-License-Identifier: ISC
# postfix-lib.sh: sourced (after lib.sh) by postfix.sh, postfix_flush.sh and
# bench/deliver.sh. Runs Debian 12's Postfix UNPACKED from its .deb
# (scripts/ext.sh postfix postfix; never installed) as an instance of its
# own, "postfix -c DIR", on 127.0.0.1, and leaves /etc/postfix alone.
#
# What an unpacked Postfix needs (checked in /tmp/research/postfix):
# - its programs have RUNPATH /usr/lib/postfix, and postfix(1) and master(8)
#   clear the environment: LD_LIBRARY_PATH for every command we run, and
#   import_environment passes it on to the daemons;
# - daemon_directory, command_directory, shlib_directory, meta_directory
#   (postfix-files, else "no Postfix meta directory /etc/postfix") in main.cf;
# - the users postfix and postdrop; postqueue and postdrop are not setgid
#   in the unpacked tree, so only root can run them (the runner is root).

PF_EXT=${ETRND_EXTDIR:-$ROOT/build/ext}/postfix
PFROOT=$PF_EXT/root
PFLIB=$PFROOT/usr/lib/postfix
PFSBIN=$PFROOT/usr/sbin

# pf PROGRAM ARGS...: runs one of the unpacked Postfix commands.
pf() {
	local p=$1
	shift
	LD_LIBRARY_PATH=$PFLIB "$PFSBIN/$p" "$@"
}

# A fingerprint of /etc/postfix (or of its absence).
etc_postfix() { { ls -laR --time-style=+%s /etc/postfix 2>&1 || true; } | md5sum; }

pf_unpack() {
	if [ ! -x "$PFSBIN/postfix" ] && [ "$PF_EXT" = "$ROOT/build/ext/postfix" ]; then
		# the Postfix tests run in parallel: one unpacks, the other waits
		mkdir -p "$ROOT/build/ext"
		(cd "$ROOT" && flock build/ext/.postfix.lock sh scripts/ext.sh postfix postfix) >&2 ||
			fail "unable to unpack postfix (sh scripts/deps.sh e2e does it, as root)"
	fi
	[ -x "$PFSBIN/postfix" ] || fail "Postfix is not unpacked in $PFROOT (sh scripts/deps.sh e2e does it)"
	pf postconf -d mail_version >/dev/null 2>&1 ||
		fail "the unpacked Postfix does not run: $(pf postconf -d mail_version 2>&1 | head -1)" \
			"(its libraries: libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3, scripts/deps.sh e2e)"
	if dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q 'install ok installed'; then
		PF_INSTALLED=1
	else
		PF_INSTALLED=0
	fi
	PF_ETC_BEFORE=$(etc_postfix)
}

# The users of the deployment: postfix and postdrop for Postfix, etrnd for
# etrnd, etrnhold for the held mail. Created (system users, no login) when
# missing; the script says so.
pf_users() {
	need_group postdrop
	need_user postfix
	need_user etrnd
	need_user etrnhold
}

# pf_main DIR: the main.cf of an instance in DIR (conf/, queue/, data/).
pf_main() {
	cat <<EOF
compatibility_level = 3.6
# the unpacked tree
daemon_directory = $PFROOT/usr/lib/postfix/sbin
command_directory = $PFROOT/usr/sbin
shlib_directory = $PFLIB
meta_directory = $PFROOT/etc/postfix
sendmail_path = $PFROOT/usr/sbin/sendmail
newaliases_path = $PFROOT/usr/bin/newaliases
mailq_path = $PFROOT/usr/bin/mailq
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME LD_LIBRARY_PATH=$PFLIB
# this instance
queue_directory = $1/queue
data_directory = $1/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $1/maillog
maillog_file_prefixes = $1
myhostname = mx.etrnd-test.invalid
mydomain = etrnd-test.invalid
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_peername_lookup = no
biff = no
EOF
}

# pf_master PORT: the master.cf services, with smtpd on 127.0.0.1:PORT.
pf_master() {
	echo "127.0.0.1:$1 inet n - n - - smtpd"
	grep -v '^#' "$ROOT/tests/e2e/postfix-master.cf"
}

# pf_start DIR: checks and starts the instance; PF_MASTER is its pid.
pf_start() {
	local d=$1
	mkdir -p "$d/queue" "$d/data"
	chown postfix "$d/data"
	pf postfix -c "$d/conf" check >"$d/check.out" 2>&1 ||
		fail "postfix check: $(cat "$d/check.out"; tail -5 "$d/maillog" 2>/dev/null)"
	pf postfix -c "$d/conf" start >"$d/start.out" 2>&1 ||
		fail "postfix start: $(cat "$d/start.out"; tail -5 "$d/maillog" 2>/dev/null)"
	wait_until 10 test -s "$d/queue/pid/master.pid" || fail "no master.pid in $d"
	PF_MASTER=$(tr -d ' ' <"$d/queue/pid/master.pid")
	PF_DIRS="${PF_DIRS:-} $d"
}

# pf_stop DIR: stops the instance and waits for its master to be gone.
pf_stop() {
	local d=$1 p
	[ -s "$d/queue/pid/master.pid" ] || return 0
	p=$(tr -d ' ' <"$d/queue/pid/master.pid")
	pf postfix -c "$d/conf" stop >/dev/null 2>&1 || true
	wait_until 10 bash -c "! kill -0 $p 2>/dev/null" || kill -9 "$p" 2>/dev/null || true
}

pf_stop_all() {
	local d
	for d in ${PF_DIRS:-}; do pf_stop "$d"; done
	PF_DIRS=""
}

# The machine's mail setup is as we found it.
pf_untouched() {
	[ "$(etc_postfix)" = "$PF_ETC_BEFORE" ] ||
		fail "/etc/postfix was changed"
	if [ "$PF_INSTALLED" = 0 ] && dpkg-query -W -f='${Status}' postfix 2>/dev/null |
		grep -q 'install ok installed'; then
		fail "the postfix package got installed"
	fi
}

# pf_queue_count DIR: queue files in the instance's incoming, active and
# deferred queues (what a flush or a queue run can still deliver).
pf_queue_count() {
	find "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" -type f 2>/dev/null | wc -l
}

# pf_settled DIR N: exactly N queue files, all in deferred/, none being
# worked on (incoming and active empty).
pf_settled() {
	[ "$(find "$1/queue/incoming" "$1/queue/active" -type f 2>/dev/null | wc -l)" -eq 0 ] &&
		[ "$(find "$1/queue/deferred" -type f 2>/dev/null | wc -l)" -eq "$2" ]
}

# The tests' SMTP sink (tests/helpers/smtpsink): sink_start DIR PORT ARGS...
# starts one on 127.0.0.1:PORT storing into DIR/new; SINK_PID is its pid.
sink_start() {
	local dir=$1 port=$2
	shift 2
	rm -f "$dir.ready"
	spawn python3 "$HELPERS/smtpsink" --dir "$dir" --listen "127.0.0.1:$port" \
		--ready-file "$dir.ready" "$@"
	SINK_PID=$LAST_PID
	wait_until 10 test -s "$dir.ready" || fail "smtpsink on port $port did not start"
}

sink_stop() {
	kill "$1" 2>/dev/null || true
	wait_until 10 bash -c "! kill -0 $1 2>/dev/null" || kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

sink_count() { find "$1/new" -type f 2>/dev/null | wc -l; }

# sinkcheck SINKDIR NAME=RCPT,RCPT... : the sink holds exactly these
# messages of the holdset set, each once, with exactly these recipients,
# the set's envelope sender, and the text sent (holdset's own check, with
# the recipients given instead of those of one ETRN node).
sinkcheck() {
	python3 - "$HELPERS/holdset" "$@" <<'PY'
import importlib.machinery, importlib.util, sys
loader = importlib.machinery.SourceFileLoader("holdset", sys.argv[1])
spec = importlib.util.spec_from_loader("holdset", loader)
hs = importlib.util.module_from_spec(spec)
loader.exec_module(hs)
d, want = sys.argv[2], {}
for a in sys.argv[3:]:
    n, _, r = a.partition("=")
    want[n] = sorted(r.split(","))
texts = {n: hs.text(n).replace(b"\r\n", b"\n") for n in want}
seen = set()
for f, mail, rcpts, data in hs.read_sink(d):
    plain = data.replace(b"\r\n", b"\n")
    match = [n for n in texts if plain.endswith(texts[n])]
    if len(match) != 1:
        others = [n for n in hs.SET if plain.endswith(hs.text(n).replace(b"\r\n", b"\n"))]
        sys.exit("sinkcheck: %s is %s, not one of %s" % (f, others or "unknown", sorted(want)))
    n = match[0]
    if n in seen:
        sys.exit("sinkcheck: %s delivered twice" % n)
    seen.add(n)
    if rcpts != want[n]:
        sys.exit("sinkcheck: %s went to %s, expected %s" % (n, rcpts, want[n]))
    if not mail.startswith(b"X-Sink-Mail: <%s>" % hs.SET[n][0].encode()):
        sys.exit("sinkcheck: %s has envelope %s" % (n, mail))
missing = set(want) - seen
if missing:
    sys.exit("sinkcheck: not delivered: %s" % sorted(missing))
print("sinkcheck: %d messages as expected" % len(seen))
PY
}

# joined_log RUNNERLOG: the runner's log with the lines its commands wrote
# put back together ("out: LINE"): it logs a command's longer line in
# pieces of 100 octets, so a piece of 100 octets continues on the next.
joined_log() {
	awk '
	/^etrnd-runner\[[0-9]*\]: output node=[^ ]* text=/ {
		t = $0
		sub(/^etrnd-runner\[[0-9]*\]: output node=[^ ]* text=/, "", t)
		if (t ~ /^".*"$/)
			t = substr(t, 2, length(t) - 2)
		line = line t
		if (length(t) != 100) { print "out: " line; line = "" }
		next
	}
	{ if (line != "") { print "out: " line; line = "" } print }
	END { if (line != "") print "out: " line }' "$1"
}

# deliver_log RUNNERLOG: only the lines the commands wrote.
deliver_log() { joined_log "$1" | sed -n 's/^out: //p'; }

# The trigger queue as INSTALL sets it up: root owns the queue and cur/,
# the etrnd user tmp/ and new/.
etrnq_setup() {
	install -d -o root -g root -m 0755 "$1" "$1/cur"
	install -d -o etrnd -g etrnd -m 0755 "$1/tmp" "$1/new"
}

# etrnd_start PORT CDB QUEUE LOG: etrnd under tcpserver as the etrnd user.
etrnd_start() {
	spawn tcpserver -q -R -H -l mx.etrnd-test.invalid -u "$(id -u etrnd)" -g "$(id -g etrnd)" \
		127.0.0.1 "$1" "$BIN/etrnd" -n etrn.etrnd-test.invalid -d "$2" -q "$3" -l stderr 2>>"$4"
	wait_port "$1" || fail "tcpserver did not start"
}

# etrn_expect PORT NODE REPLY: one ETRN through etrnd; the reply is REPLY.
etrn_expect() {
	local out
	out=$(smtp_session "$1" "EHLO client.test" "ETRN $2" "QUIT")
	grep -qxF "$3" <<<"$out" || fail "ETRN $2: expected '$3', got: $out"
	say "ETRN $2: $3"
}
