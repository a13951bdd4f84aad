#!/bin/bash
# SPDX-License-Identifier: ISC
# End to end with the real Sendmail (Debian 12's 8.17.1.9, unpacked into
# build/ext/sendmail by scripts/ext.sh, never installed), on 127.0.0.1:
#
#  1. The hold recipe (etc/sendmail/sendmail.mc.etrn, mailertable.etrn,
#     etrn.rules): Sendmail routes each held domain, by exact match in the
#     mailertable, to the mailer "etrnd", which runs etrnd-store as the user
#     etrnhold into the node's maildir. holdset's message set goes in over
#     SMTP; nothing reaches the client's sink before an ETRN, not even
#     after a plain "sendmail -q"; etrnd (tcpserver, user etrnd) answers
#     253 with the exact count; the runner (root) runs etrnd-deliver, and
#     the sink gets exactly the node's recipients, byte for byte. A
#     bounce Sendmail writes to a client user is held with the null sender.
#     ETRN @example.org delivers example.org and sub.example.org, first
#     with the sink gone (exit 75 logged, all kept), then for real.
#  2. The flush recipe (sendmail.mc.flush, mailertable.flush,
#     etrn.rules.flush, etrnd-sendmail-flush): the same set held in
#     Sendmail's own queue by the F=% mailer; each shipped rule line run by
#     the runner, and what it does measured: -qR is a substring match over
#     whole messages, a plain -q does not end this hold but any -qR run
#     does, Sendmail's own ETRN is refused. Sendmail's queue run exits 0
#     whether or not anything matched or was delivered (a bare
#     "sendmail -qf -qR@%n" rule logs status=exit:0 with nothing queued);
#     the shipped rules' etrnd-sendmail-flush logs exit:0 only for a flush
#     that left nothing queued, exit:1 and "nothing queued for NODE" when
#     nothing was, exit:75 when the node's server is down.
#
# Sendmail resolves the machine's host name before it reads its
# configuration and sleeps 60 s when that name is unqualified; every
# sendmail command therefore runs in private mount and UTS namespaces with
# a qualified host name and its own /etc/hosts and resolv.conf (the wrapper
# $T/smx, which execs, so $! is sendmail's PID). The machine's /etc is
# untouched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say() { echo "e2e: [${SECONDS}s] $*"; }

HELPERS=${ETRND_HELPERS:-$ROOT/tests/helpers}
EXTDIR=${ETRND_EXTDIR:-$ROOT/build/ext}
SMROOT=$EXTDIR/sendmail/root
SM=$SMROOT/usr/libexec/sendmail/sendmail
CFDIR=$SMROOT/usr/share/sendmail/cf
FQDN=mx.etrnd-test.invalid
# The system python (a pyenv shim in PATH costs seconds per start)
PY=$(command -v /usr/bin/python3 || command -v python3 || true)

[ "$(id -u)" -eq 0 ] || fail "the Sendmail test needs root (sendmail switches to etrnhold, tcpserver to etrnd)"
for prog in /usr/bin/tcpserver /usr/bin/m4 /usr/bin/unshare "$PY"; do
	command -v "$prog" >/dev/null || fail "$prog is missing (make check installs it, as root)"
done
if [ ! -x "$SM" ]; then
	(cd "$ROOT" && sh scripts/ext.sh sendmail sendmail-bin sendmail-cf) >&2 ||
		fail "unable to unpack sendmail-bin and sendmail-cf into $EXTDIR/sendmail"
fi
[ -x "$SM" ] && [ -f "$CFDIR/m4/cf.m4" ] || fail "no Sendmail in $SMROOT"

# The deployment's two users (INSTALL): etrnd answers ETRN, etrnhold owns
# the held mail.
need_user etrnd
need_user etrnhold

T=$(mktemp -d /tmp/etrnd-e2e-sendmail.XXXXXX)
chmod 755 "$T"
cleanup() {
	local rc=$?
	stop_all
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/etrnd.log "$T"/sm-*/daemon.err; do
			[ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
		done
		# the reason again, last, where a log cut to its end shows it
		[ -z "${FAILED:-}" ] || echo "FAIL: $FAILED" >&2
	fi
	if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; else echo "kept $T" >&2; fi
}
trap cleanup EXIT

SM_PORT=$(free_port)
FLUSH_PORT=$(free_port)
SINK_PORT=$(free_port)
OTHER_PORT=$(free_port)
ETRN_PORT=$(free_port)

# -- the namespace wrapper and a reaper for sendmail's forked queue runners --
printf '127.0.0.1\tlocalhost\n127.0.0.1\t%s mx\n' "$FQDN" > "$T/hosts"
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' > "$T/resolv.conf"
cat > "$T/smx" <<EOF
#!/bin/sh
# sendmail ARGS..., with a qualified host name and its own hosts/resolv.conf
exec unshare -m -u sh -c 'mount --bind "\$1" /etc/hosts && mount --bind "\$2" /etc/resolv.conf && hostname "\$3" && shift 3 && exec "\$@"' \\
	sh "$T/hosts" "$T/resolv.conf" "$FQDN" "$SM" "\$@"
EOF
chmod 755 "$T/smx"
# reap SECONDS COMMAND...: runs the command as a child subreaper and waits
# for it and for every process it forked (sendmail -q forks the queue run
# and returns at once). After SECONDS it kills, by PID, each process it
# still has (every second: their orphans reparent to it) and exits 124;
# otherwise it exits with the command's status.
cat > "$T/reap" <<'EOF'
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
late = []
def expire(*_):
    late.append(1)
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and int(open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                os.kill(int(p), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            pass
    signal.alarm(1)
signal.signal(signal.SIGALRM, expire)
signal.alarm(int(sys.argv[1]))
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
rc = 1
while True:
    try:
        p, st = os.wait()
    except ChildProcessError:
        break
    except InterruptedError:
        continue
    if p == pid:
        rc = os.waitstatus_to_exitcode(st)
sys.exit(124 if late else rc)
EOF

# -- sinks: the client's (both nodes deliver to the address that asked) and
#    one for every other domain, which must never reach the client's -------
start_sink() { # start_sink VAR DIR PORT ARGS...
	local var=$1 dir=$2 port=$3; shift 3
	rm -f "$dir.ready"
	spawn "$PY" "$HELPERS/smtpsink" --dir "$dir" --listen "127.0.0.1:$port" \
		--ready-file "$dir.ready" "$@"
	printf -v "$var" %s "$LAST_PID"
	wait_until 20 test -s "$dir.ready" || fail "smtpsink on $port did not start"
}
stop_pid() { # stop_pid PID: one process this script started
	kill "$1" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
start_sink SINK_PID "$T/sink" "$SINK_PORT"
start_sink OTHER_PID "$T/other" "$OTHER_PORT" \
	--rcpt-reply "bounceme@notclient.example.net=550 5.1.1 no such user"
n_sink() { find "$T/sink/new" -type f | wc -l; }

# What reached the other sink: "NAME:RCPT,..." per message, sorted.
other_got() {
	local f
	for f in "$T"/other/new/*; do
		[ -f "$f" ] || continue
		printf '%s:%s\n' "$(sed -n 's/^Subject: etrnd-hold \(.*\)\r$/\1/p' "$f" | head -1)" \
			"$(sed -n '/^$/q; s/^X-Sink-Rcpt: <\(.*\)>$/\1/p' "$f" | sort | paste -sd,)"
	done | sort | paste -sd' '
}

# -- etrnd under tcpserver as the user etrnd; the runner is root -------------
mkdir -p "$T/etrnq/tmp" "$T/etrnq/new" "$T/etrnq/cur"
chown etrnd:etrnd "$T/etrnq/tmp" "$T/etrnq/new"
install -d -o etrnhold -g etrnhold -m 0755 "$T/spool"
spawn /usr/bin/tcpserver -q -R -H -l etrn.test -u "$(id -u etrnd)" -g "$(id -g etrnd)" \
	127.0.0.1 "$ETRN_PORT" "$BIN/etrnd" -n etrn.etrnd-test.invalid -d "$T/etrn.cdb" \
	-q "$T/etrnq" -l stderr 2> "$T/etrnd.log"
wait_port "$ETRN_PORT" || fail "tcpserver did not start"

etrn() { # etrn NODE EXPECTED-REPLY
	local replies
	replies=$(smtp_session "$ETRN_PORT" "EHLO client.test" "ETRN $1" "QUIT")
	grep -qxF "$2" <<<"$replies" || fail "ETRN $1: expected '$2', got: $replies"
}
RUNS=0
runner() { # runner EXPECTED-EXIT [CDB]: one pass; its log in $T/runner.N.log
	RUNS=$((RUNS + 1))
	RLOG=$T/runner.$RUNS.log
	local rc=0
	"$BIN/etrnd-runner" -1 -q "$T/etrnq" -d "${2:-$T/etrn.cdb}" 2> "$RLOG" || rc=$?
	[ "$rc" -eq "$1" ] || { cat "$RLOG" >&2; fail "etrnd-runner exited $rc, expected $1"; }
}
# The flush rules say interval=60: a node's runs start at most once a
# minute, from the time stamp of etrnq/last/NODE. Make that minute pass.
minute_passed() {
	local f
	for f in "$T"/etrnq/last/*; do [ ! -f "$f" ] || touch -d '-1 hour' "$f"; done
}
runlog() { # runlog PATTERN: the last runner pass logged a line matching it
	grep -qE "$1" "$RLOG" || { cat "$RLOG" >&2; fail "the runner's log has no '$1'"; }
}
# runout NODE TEXT...: what the last pass's command said, exactly these
# lines in this order (the runner logs each as output node=NODE text="...")
runout() {
	local node=$1 got want
	shift
	got=$(sed -n "s/.* output node=$node text=\"\(.*\)\"\$/\1/p" "$RLOG")
	want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] || { cat "$RLOG" >&2; fail "the command for $node said: $got"; }
}

# -- Sendmail: the test's own mc around the shipped fragment ----------------
# part N of a shipped .mc fragment (its "dnl ---- part N" sections),
# with the paths of this test
mc_part() {
	mc_shipped "$1" "$2" | sed -e "s|/usr/local/sbin/|$BIN/|g" -e "s|/var/spool/etrnd-hold|$T/spool|g"
}
mc_shipped() { # mc_shipped FRAGMENT N: part N as shipped
	awk -v want="$2" '/^dnl ---- part /{part = $4 + 0; next} part==want' "$ROOT/etc/sendmail/$1"
}
# Sendmail only queues above a load average of 8 (QueueLA) and stops
# listening above 12 (RefuseLA); test machines are shared and busy.
mc_common() { # mc_common NAME PORT
	cat <<EOF
divert(-1)
# tests/e2e/sendmail.sh: a test instance, nothing from /etc/mail
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`MAIL_SETTINGS_DIR', \`$T/$1/')dnl
define(\`confDOMAIN_NAME', \`$FQDN')dnl
define(\`QUEUE_DIR', \`$T/$1/mqueue')dnl
define(\`confPID_FILE', \`$T/$1/sendmail.pid')dnl
undefine(\`STATUS_FILE')dnl
undefine(\`ALIAS_FILE')dnl
define(\`confSERVICE_SWITCH_FILE', \`$T/$1/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confQUEUE_LA', \`10000')dnl
define(\`confREFUSE_LA', \`10000')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$2, Addr=127.0.0.1, Name=MTA')dnl
EOF
}
# A copy of Sendmail's esmtp mailer that connects to PORT: the test's
# stand-in for the other domains' own mail servers.
relay_mailer() { # relay_mailer NAME PORT
	printf 'M%s,\tP=[IPC], F=mDFMuXa, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, E=\\r\\n, L=990,\n\t\tT=DNS/RFC822/SMTP, A=TCP $h %s\n' "$1" "$2"
}
setup_sendmail() { # setup_sendmail NAME PORT MC-PART-1 MC-PART-2 MAILERTABLE
	local d=$T/$1
	mkdir -p "$d/mqueue"
	chmod 700 "$d/mqueue"
	printf 'hosts\tfiles\naliases\tfiles\n' > "$d/service.switch"
	{
		mc_common "$1" "$2"
		printf '%s\n' "$3"
		echo "MAILER(\`smtp')dnl"
		printf '%s\n' "$4"
	} > "$d/sendmail.mc"
	m4 -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$d/sendmail.mc" > "$d/sendmail.cf" 2> "$d/m4.err" ||
		{ cat "$d/m4.err" >&2; fail "m4 $1"; }
	[ ! -s "$d/m4.err" ] || { cat "$d/m4.err" >&2; fail "m4 $1 complained"; }
	printf '%s\n' "$5" > "$d/mailertable"
	cp "$ROOT/etc/sendmail/access.etrn" "$d/access"
	# (makemap warns that /tmp, above the test's directory, is world-writable)
	local map
	for map in mailertable access; do
		"$SMROOT/usr/libexec/sendmail/makemap" -C "$d/sendmail.cf" hash "$d/$map" \
			< "$d/$map" 2> "$d/makemap.err" || { cat "$d/makemap.err" >&2; fail "makemap $1 $map"; }
	done
}
# relay_check NAME: what Sendmail's check_rcpt says (address test mode) to
# a client on the Internet for a recipient in each node's domains and in
# one that is not held: the access entries let it take only the former.
relay_check() {
	local r
	r=$(printf '%s\n' '.D{client_addr}198.51.100.7' '.D{client_name}outside.test' \
		'.D{client_resolve}OK' 'check_rcpt <x@client.example.net>' \
		'check_rcpt <x@example.org>' 'check_rcpt <x@sub.example.org>' \
		'check_rcpt <x@notclient.example.net>' |
		"$T/smx" -C "$T/$1/sendmail.cf" -bt 2>&1 | sed -n 's/^check_rcpt *returns: //p' | paste -sd'|')
	[ "$r" = 'RELAY|RELAY|RELAY|$# error $@ 5 . 7 . 1 $: "550 Relaying denied"' ] ||
		fail "$1: check_rcpt from the Internet: $r"
}
start_sendmail() { # start_sendmail NAME PORT: the daemon in the foreground (-bD)
	spawn "$T/smx" -C "$T/$1/sendmail.cf" -bD 2> "$T/$1/daemon.err"
	SM_PID=$LAST_PID
	wait_port "$2" 30 || { cat "$T/$1/daemon.err" >&2; fail "sendmail ($1) did not start"; }
	[ "$(head -1 "$T/$1/sendmail.pid" 2>/dev/null)" = "$SM_PID" ] ||
		fail "sendmail's pid file does not name $SM_PID"
}
qf_count() { find "$T/$1/mqueue" -name 'qf*' | wc -l; }
# check_mailers CF: Sendmail's mailer table, read from CF in address test
# mode (=M), has every mailer CF defines and its three built-in ones. It
# leaves the table in $MAILERS, one "NAME U=UID:GID" line per mailer.
# Sendmail 8.17 can lose a mailer while it reads its cf, without a word
# (U= with a group name, etc/sendmail/README): the symptom would come
# only at RCPT, as "554 5.3.5 buildaddr: unknown mailer".
check_mailers() {
	local want got
	MAILERS=$(echo '=M' | "$T/smx" -C "$1" -bt 2>&1 |
		sed -n 's/^\(> \)\{0,1\}mailer [0-9]\{1,\} (\([^)]*\)):.* U=\([^ ]*\) .*/\2 U=\3/p' | sort)
	want=$({ printf '%s\n' prog '*file*' '*include*'
		sed -n 's/^M\([^,[:space:]]*\).*/\1/p' "$1"; } | sort -u | paste -sd' ')
	got=$(echo "$MAILERS" | cut -d' ' -f1 | paste -sd' ')
	[ "$got" = "$want" ] || fail "$1: Sendmail's mailer table ($got) is not the cf's ($want)"
}

# ===========================================================================
# 1. The hold recipe: Sendmail -> etrnd-store -> maildir -> etrnd-deliver
# ===========================================================================
MT=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ROOT/etc/sendmail/mailertable.etrn")
[ "$(echo "$MT" | wc -l)" -eq 3 ] || fail "mailertable.etrn: expected 3 entries: $MT"
setup_sendmail sm-hold "$SM_PORT" "$(mc_part sendmail.mc.etrn 1)" \
	"$(mc_part sendmail.mc.etrn 2; relay_mailer relay-test "$OTHER_PORT")" "$MT
notclient.example.net		relay-test:[127.0.0.1]
client.example.net.evil.test	relay-test:[127.0.0.1]
client-example.net		relay-test:[127.0.0.1]"
grep -q "^Metrnd,.*P=$BIN/etrnd-store" "$T/sm-hold/sendmail.cf" || fail "no etrnd mailer in the cf"
# The etrnd mailer is in Sendmail's table, and runs as etrnhold
HOLD_U="etrnd U=$(id -u etrnhold):$(id -g etrnhold)"
check_mailers "$T/sm-hold/sendmail.cf"
grep -qxF "$HOLD_U" <<<"$MAILERS" || fail "not $HOLD_U: $(echo "$MAILERS" | grep '^etrnd ')"
# Whether Sendmail keeps a mailer can depend on its P= path (the README's
# "U= with a group"): the same configuration with other paths, short,
# long, with and without a "/" late in them (-bt only: none has to exist);
mkdir -p "$T/sm-paths"
for p in /x /opt/etrnd/sbin/etrnd-store /a/b/c/d/e/f/g/h/i/j/k/l/m/etrnd-store \
	/nonexistent-long-directory-name-with-no-other-slash/etrnd-store; do
	sed "s|^Metrnd,\([[:space:]]*\)P=[^,]*,|Metrnd,\1P=$p,|" "$T/sm-hold/sendmail.cf" > "$T/sm-paths/sendmail.cf"
	grep -q "^Metrnd,[[:space:]]*P=$p," "$T/sm-paths/sendmail.cf" || fail "no P=$p in the cf"
	check_mailers "$T/sm-paths/sendmail.cf"
	grep -qxF "$HOLD_U" <<<"$MAILERS" || fail "P=$p: not $HOLD_U"
done
# ... and the shipped fragment as it is, /usr/local/sbin/etrnd-store
setup_sendmail sm-shipped "$SM_PORT" "$(mc_shipped sendmail.mc.etrn 1)" \
	"$(mc_shipped sendmail.mc.etrn 2; relay_mailer relay-test "$OTHER_PORT")" "$MT"
grep -q '^Metrnd,[[:space:]]*P=/usr/local/sbin/etrnd-store,' "$T/sm-shipped/sendmail.cf" ||
	fail "no shipped etrnd mailer in the cf"
check_mailers "$T/sm-shipped/sendmail.cf"
grep -qxF "$HOLD_U" <<<"$MAILERS" || fail "shipped mailer: not $HOLD_U"
# Never a group name in U= in a shipped mailer
bad=$(grep -hv '^dnl' "$ROOT"/etc/sendmail/sendmail.mc.* | grep -E '(^|[[:space:],])U=[^,:[:space:]]*:[^0-9]' || true)
[ -z "$bad" ] || fail "a shipped mailer has U= with a group name: $bad"
say "hold: Sendmail has the etrnd mailer, as etrnhold, with the test's, the shipped and 4 other etrnd-store paths"

sed -e "s|/usr/local/sbin/|$BIN/|g" -e "s|/var/spool/etrnd-hold|$T/spool|g" \
	-e "s|:25 |:$SINK_PORT |" -e 's|allow=[^ ]*|allow=127.0.0.1|' \
	"$ROOT/etc/sendmail/etrn.rules" > "$T/etrn.rules"
[ "$(grep -c "run=\"$BIN/etrnd-deliver -u etrnhold $T/spool/[a-z.]* \[%c\]:$SINK_PORT %n\"" "$T/etrn.rules")" -eq 2 ] ||
	fail "etrn.rules: unexpected rules: $(cat "$T/etrn.rules")"
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null

relay_check sm-hold
say "hold: with access.etrn, Sendmail relays the held domains' mail from the Internet, and only theirs"
start_sendmail sm-hold "$SM_PORT"

"$PY" "$HELPERS/holdset" send 127.0.0.1 "$SM_PORT" || fail "holdset send (hold)"
maildir_n() { find "$T/spool/$1/new" "$T/spool/$1/cur" -type f 2>/dev/null | wc -l; }
OTHER_WANT="evil:x@client.example.net.evil.test hyphen:x@client-example.net notclient:x@notclient.example.net shared:s2@notclient.example.net"
stored() {
	[ "$(maildir_n client.example.net)" -eq 5 ] && [ "$(maildir_n example.org)" -eq 2 ] &&
		[ "$(qf_count sm-hold)" -eq 0 ] && [ "$(other_got)" = "$OTHER_WANT" ]
}
wait_until 60 stored || fail "not stored as expected: client=$(maildir_n client.example.net) org=$(maildir_n example.org) queued=$(qf_count sm-hold) other='$(other_got)'"
[ "$(n_sink)" -eq 0 ] || fail "mail reached the client's sink before any ETRN"
[ "$(stat -c %U "$T/spool/client.example.net")" = etrnhold ] || fail "the maildir is not etrnhold's"
say "hold: 5 messages in client.example.net's maildir, 2 in example.org's (as etrnhold); the other domains relayed elsewhere; nothing at the client's sink"

rc=0
"$PY" "$T/reap" 30 "$T/smx" -C "$T/sm-hold/sendmail.cf" -q || rc=$?
[ "$rc" -eq 0 ] || fail "sendmail -q exited $rc"
[ "$(n_sink)" -eq 0 ] && [ "$(maildir_n client.example.net)" -eq 5 ] ||
	fail "a plain sendmail -q released held mail"
say "hold: a plain sendmail -q (waited for, with its forked queue run) delivers nothing"

# ETRN client.example.net: 253 with the exact count, then the runner
etrn client.example.net "253 2.0.0 OK, 5 pending messages for node client.example.net started"
[ "$(n_sink)" -eq 0 ] || fail "mail reached the sink before the runner ran"
runner 0
runlog "run node=client.example.net rule=client.example.net cmd=$BIN/etrnd-deliver status=exit:0 "
"$PY" "$HELPERS/holdset" expect "$T/sink" client.example.net || fail "the client's sink"
[ "$(find "$T/spool/client.example.net" -type f | wc -l)" -eq 0 ] || fail "client.example.net's maildir is not empty"
[ "$(other_got)" = "$OTHER_WANT" ] || fail "the other sink changed: $(other_got)"
say "hold: ETRN client.example.net -> 253 (5), the runner delivered exactly its recipients, byte for byte; maildir empty"
mkdir -p "$T/seen/hold-client"
mv "$T"/sink/new/* "$T/seen/hold-client/"

# A bounce that Sendmail writes to a client user is held with the null
# sender (the mailer's S=EtrndEnvFrom), not refused by etrnd-store.
"$PY" - "$SM_PORT" <<'EOF' || fail "sending the message that bounces"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60) as s:
    s.sendmail("u5@client.example.net", ["bounceme@notclient.example.net"],
               b"From: u5@client.example.net\r\nSubject: etrnd-hold bounce\r\n\r\nto bounce\r\n")
EOF
bounced() { [ "$(maildir_n client.example.net)" -eq 1 ] && [ "$(qf_count sm-hold)" -eq 0 ]; }
wait_until 30 bounced || fail "the bounce was not held: maildir=$(maildir_n client.example.net) queued=$(qf_count sm-hold)"
f=$(find "$T/spool/client.example.net/new" -type f)
[ "$(head -4 "$f" | tr '\n' '|')" = "etrnd-envelope 1|from |to u5@client.example.net||" ] ||
	fail "the bounce's envelope: $(head -4 "$f")"
grep -q '^Subject: Returned mail' "$f" || fail "not Sendmail's bounce"
rm -f "$f"
say "hold: Sendmail's own bounce to a client user is held with the null sender"

# ETRN @example.org: first with the client's sink gone (kept, exit 75)
stop_pid "$SINK_PID"
etrn @example.org "253 2.0.0 OK, 2 pending messages for node @example.org started"
runner 1
runlog "run node=@example.org rule=@example.org cmd=$BIN/etrnd-deliver status=exit:75 "
[ "$(maildir_n example.org)" -eq 2 ] && [ "$(find "$T/spool/example.org/failed" -type f | wc -l)" -eq 0 ] ||
	fail "the held mail of example.org was not kept"
say "hold: ETRN @example.org with the sink gone: exit 75 logged, both messages kept"
start_sink SINK_PID "$T/sink" "$SINK_PORT"
runner 0
runlog "run node=@example.org rule=@example.org cmd=$BIN/etrnd-deliver status=exit:0 "
"$PY" "$HELPERS/holdset" expect "$T/sink" @example.org || fail "the sink after ETRN @example.org"
[ "$(find "$T/spool/example.org" -type f | wc -l)" -eq 0 ] || fail "example.org's maildir is not empty"
[ "$(other_got)" = "$OTHER_WANT" ] || fail "the other sink changed: $(other_got)"
say "hold: the sink back, the next pass delivered example.org and sub.example.org"
mkdir -p "$T/seen/hold-org" "$T/seen/hold-other"
mv "$T"/sink/new/* "$T/seen/hold-org/"
mv "$T"/other/new/* "$T/seen/hold-other/"
stop_pid "$SM_PID"

# ===========================================================================
# 2. The flush recipe: held in Sendmail's own queue (F=%), released by -qR
# ===========================================================================
FMT=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/\[[^]]*\]/[127.0.0.1]/' \
	"$ROOT/etc/sendmail/mailertable.flush")
[ "$(echo "$FMT" | grep -c 'esmtp-hold:\[127.0.0.1\]$')" -eq 3 ] || fail "mailertable.flush: $FMT"
# The shipped mailer, connecting to the client's sink, and the same mailer
# under another name for the other held domains, to the other sink.
HOLD_MAILER=$(mc_part sendmail.mc.flush 2 | sed "s/A=TCP \$h\$/A=TCP \$h $SINK_PORT/")
OTHER_MAILER=$(echo "$HOLD_MAILER" | sed -n '/^Mesmtp-hold,/,$p' |
	sed -e 's/^Mesmtp-hold,/Mesmtp-hold-other,/' -e "s/ $SINK_PORT\$/ $OTHER_PORT/")
setup_sendmail sm-flush "$FLUSH_PORT" "$(mc_part sendmail.mc.flush 1)" \
	"$HOLD_MAILER
$OTHER_MAILER" "$FMT
notclient.example.net		esmtp-hold-other:[127.0.0.1]
client.example.net.evil.test	esmtp-hold-other:[127.0.0.1]
client-example.net		esmtp-hold-other:[127.0.0.1]"
grep -q "^Mesmtp-hold,.*F=[A-Za-z]*%" "$T/sm-flush/sendmail.cf" &&
	grep -q "A=TCP \$h $SINK_PORT\$" "$T/sm-flush/sendmail.cf" &&
	grep -q "A=TCP \$h $OTHER_PORT\$" "$T/sm-flush/sendmail.cf" || fail "the hold mailers are not in the cf"
grep -q '^O PrivacyOptions=.*noetrn' "$T/sm-flush/sendmail.cf" || fail "no noetrn in the cf"
check_mailers "$T/sm-flush/sendmail.cf"

# The shipped rules, etrnd-sendmail-flush from the tree run through the
# test's sendmail; notclient.example.net gets the shipped host rule too.
FCMD="$T/smx -C $T/sm-flush/sendmail.cf"
SMF=$ROOT/etc/sendmail/etrnd-sendmail-flush
sed -e "s|/usr/local/sbin/etrnd-sendmail-flush |$SMF -x $T/smx -C $T/sm-flush/sendmail.cf |" \
	-e 's|allow=[^ ]*|allow=127.0.0.1|' "$ROOT/etc/sendmail/etrn.rules.flush" > "$T/etrn.rules"
sed -n 's/^client\.example\.net /notclient.example.net /p' "$T/etrn.rules" >> "$T/etrn.rules"
[ "$(grep -c "^[^#].*" "$T/etrn.rules")" -eq 3 ] &&
	grep -qxF "client.example.net  allow=127.0.0.1  run=\"$SMF -x $FCMD %n\"  interval=60  timeout=600" "$T/etrn.rules" &&
	grep -qxF "@example.org        allow=127.0.0.1  run=\"$SMF -x $FCMD %n\"  interval=60  timeout=600" "$T/etrn.rules" &&
	[ "$(grep -c "^notclient.example.net .*run=\"$SMF -x $FCMD %n\"" "$T/etrn.rules")" -eq 1 ] ||
	fail "etrn.rules.flush: unexpected rules: $(grep -v '^#' "$T/etrn.rules")"
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
# The bare sendmail line of etrn.rules.flush's comments, for the record
sed -n 's|^#   \(client\.example\.net  run="\)/usr/sbin/sendmail \(-qf -qR@%n"\)$|\1'"$FCMD"' \2|p' \
	"$ROOT/etc/sendmail/etrn.rules.flush" > "$T/bare.rules"
[ "$(wc -l < "$T/bare.rules")" -eq 1 ] || fail "etrn.rules.flush: no bare sendmail line in its comments"
"$BIN/etrnd-rules" "$T/bare.rules" "$T/bare.cdb" >/dev/null

relay_check sm-flush
start_sendmail sm-flush "$FLUSH_PORT"
FLUSH_PID=$SM_PID
# The queue as "RCPT RCPT ..." (recipients not yet delivered), and whether
# any queue file is locked (a delivery under way: sendmail -bp marks it *).
queued() { "$T/smx" -C "$T/sm-flush/sendmail.cf" -bp 2>/dev/null | sed -n 's/^[[:space:]]\{1,\}<\(.*\)>$/\1/p' | sort | paste -sd' '; }
idle() { ! grep -q '^[[:alnum:]]\{1,\}\*' <<<"$("$T/smx" -C "$T/sm-flush/sendmail.cf" -bp 2>/dev/null)"; }
ALL_Q="s1@client.example.net s2@notclient.example.net u1@client.example.net u2@client.example.net u3@client.example.net u4@client.example.net x@client-example.net x@client.example.net.evil.test x@example.org x@notclient.example.net x@sub.example.org"
Q=$(printf '%s\n' $ALL_Q | sort | paste -sd' ')

"$PY" "$HELPERS/holdset" send 127.0.0.1 "$FLUSH_PORT" || fail "holdset send (flush)"
held() { [ "$(qf_count sm-flush)" -eq 10 ] && idle; }
wait_until 60 held || fail "not held in the queue: $(qf_count sm-flush) queue files"
[ "$(queued)" = "$Q" ] || fail "queued: $(queued)"
[ "$(n_sink)" -eq 0 ] && [ -z "$(other_got)" ] || fail "F=% did not hold: mail reached a sink"
say "flush: all 10 messages held in Sendmail's queue by F=% (no delivery at receipt)"

rc=0
"$PY" "$T/reap" 30 "$T/smx" -C "$T/sm-flush/sendmail.cf" -q || rc=$?
[ "$rc" -eq 0 ] || fail "sendmail -q exited $rc"
[ "$(queued)" = "$Q" ] && [ "$(n_sink)" -eq 0 ] && [ -z "$(other_got)" ] ||
	fail "a plain sendmail -q released held mail: $(queued)"
say "flush: a plain sendmail -q leaves it all held"

# Sendmail's own ETRN, open to any client on its port, is refused (noetrn)
replies=$(smtp_session "$FLUSH_PORT" "EHLO client.test" "ETRN client.example.net" "QUIT")
grep -qx '502 5.7.0 Sorry, we do not allow this operation' <<<"$replies" ||
	fail "Sendmail's own ETRN was not refused: $replies"
say "flush: Sendmail's own ETRN answers 502 (noetrn)"

# etrnd-sendmail-flush alone: a node that is not a host or @domain is
# refused (64); a sendmail that cannot list the queue is not a success (75).
rc=0
"$SMF" -x "$T/smx" -C "$T/sm-flush/sendmail.cf" '#queue' 2>/dev/null || rc=$?
[ "$rc" -eq 64 ] || fail "etrnd-sendmail-flush '#queue' exited $rc, expected 64"
rc=0
"$SMF" -x /bin/false client.example.net >/dev/null || rc=$?
[ "$rc" -eq 75 ] || fail "etrnd-sendmail-flush with a failing sendmail exited $rc, expected 75"
[ "$(queued)" = "$Q" ] || fail "etrnd-sendmail-flush moved mail: $(queued)"

# ETRN client.example.net: the shipped host rule; etrnd-sendmail-flush runs
# -qf -qR@client.example.net, which selects the node's 5 messages and
# client.example.net.evil.test's (a substring match)
minute_passed
etrn client.example.net "250 2.0.0 OK, queuing for node client.example.net started"
runner 0
runlog "run node=client.example.net rule=client.example.net cmd=$SMF status=exit:0 "
runout client.example.net "etrnd-sendmail-flush: node=client.example.net messages=6 left=0 sendmail=0"
"$PY" "$HELPERS/holdset" expect "$T/sink" client.example.net || fail "the client's sink (flush)"
# ... and what else it released: the substring match took the evil.test
# domain, the whole-message selection the shared message's other recipient
[ "$(other_got)" = "evil:x@client.example.net.evil.test shared:s2@notclient.example.net" ] ||
	fail "the other sink after ETRN client.example.net: $(other_got)"
Q="x@client-example.net x@example.org x@notclient.example.net x@sub.example.org"
[ "$(queued)" = "$Q" ] || fail "queued after ETRN client.example.net: $(queued)"
say "flush: ETRN client.example.net -> status=exit:0 (6 messages selected, none left): the node's 5 messages, and also client.example.net.evil.test and the shared message's notclient.example.net recipient"
mkdir -p "$T/seen/flush-client"
mv "$T"/sink/new/* "$T/seen/flush-client/"

# The same ETRN again, with nothing queued for the node: the bare sendmail
# line logs exit 0; the shipped rule exit 1 and "nothing queued", and the
# runner keeps the trigger for a later try (removed here).
minute_passed
etrn client.example.net "250 2.0.0 OK, queuing for node client.example.net started"
runner 0 "$T/bare.cdb"
runlog "run node=client.example.net rule=client.example.net cmd=$T/smx status=exit:0 "
[ "$(n_sink)" -eq 0 ] && [ "$(queued)" = "$Q" ] || fail "the bare rule's run moved mail"
minute_passed
etrn client.example.net "250 2.0.0 OK, queuing for node client.example.net started"
runner 1
runlog "run node=client.example.net rule=client.example.net cmd=$SMF status=exit:1 "
runout client.example.net "etrnd-sendmail-flush: nothing queued for client.example.net: nothing flushed"
[ -f "$T/etrnq/new/client.example.net" ] || fail "the failed run's trigger is not back in new/"
rm -f "$T/etrnq/new/client.example.net"
[ "$(n_sink)" -eq 0 ] && [ "$(queued)" = "$Q" ] || fail "the shipped rule's run moved mail"
say "flush: the same ETRN with nothing queued for the node: a bare sendmail line logs status=exit:0, the shipped rule status=exit:1 and 'nothing queued for client.example.net'"

# The form the older docs gave for @domain, -qR@%n, is -qR@@example.org
rc=0
"$PY" "$T/reap" 30 $FCMD -qf -qR@@example.org || rc=$?
[ "$rc" -eq 0 ] && [ "$(n_sink)" -eq 0 ] && [ "$(queued)" = "$Q" ] ||
	fail "-qR@@example.org: exit $rc, queued $(queued)"
say "flush: -qR@@example.org matches nothing and exits 0"

# ETRN @example.org: the shipped rule; etrnd-sendmail-flush runs
# -qf -qR@example.org -qR.example.org
minute_passed
etrn @example.org "250 2.0.0 OK, queuing for node @example.org started"
runner 0
runlog "run node=@example.org rule=@example.org cmd=$SMF status=exit:0 "
runout @example.org "etrnd-sendmail-flush: node=@example.org messages=2 left=0 sendmail=0"
"$PY" "$HELPERS/holdset" expect "$T/sink" @example.org || fail "the sink after ETRN @example.org (flush)"
Q="x@client-example.net x@notclient.example.net"
[ "$(queued)" = "$Q" ] || fail "queued after ETRN @example.org: $(queued)"
say "flush: ETRN @example.org -> example.org and sub.example.org, status=exit:0"
# ... and again, with nothing left below example.org: exit 1
minute_passed
etrn @example.org "250 2.0.0 OK, queuing for node @example.org started"
runner 1
runlog "run node=@example.org rule=@example.org cmd=$SMF status=exit:1 "
runout @example.org "etrnd-sendmail-flush: nothing queued for @example.org: nothing flushed"
rm -f "$T/etrnq/new/@example.org"
# ... and a name below it, which the same rule answers: the command is for
# that name alone
minute_passed
etrn sub.example.org "250 2.0.0 OK, queuing for node sub.example.org started"
runner 1
runlog "run node=sub.example.org rule=@example.org cmd=$SMF status=exit:1 "
runout sub.example.org "etrnd-sendmail-flush: nothing queued for sub.example.org: nothing flushed"
rm -f "$T/etrnq/new/sub.example.org"
[ "$(n_sink)" -eq 2 ] && [ "$(queued)" = "$Q" ] || fail "the second @example.org run moved mail"
say "flush: ETRN @example.org again and ETRN sub.example.org, nothing queued: status=exit:1 and 'nothing queued for @example.org' ('for sub.example.org')"

# A run that delivers nothing because the destination is down: Sendmail
# exits 0, etrnd-sendmail-flush sees the message still queued: 75
stop_pid "$OTHER_PID"
etrn notclient.example.net "250 2.0.0 OK, queuing for node notclient.example.net started"
runner 1
runlog "run node=notclient.example.net rule=notclient.example.net cmd=$SMF status=exit:75 "
runout notclient.example.net "etrnd-sendmail-flush: node=notclient.example.net messages=1 left=1 sendmail=0"
[ "$(queued)" = "$Q" ] || fail "queued after the failed run: $(queued)"
grep -q 'Deferred: Connection refused by \[127.0.0.1\]' <<<"$("$T/smx" -C "$T/sm-flush/sendmail.cf" -bp 2>/dev/null)" ||
	fail "no delivery attempt recorded: $("$T/smx" -C "$T/sm-flush/sendmail.cf" -bp 2>&1)"
say "flush: ETRN notclient.example.net with its server down: deferred (sendmail exited 0), status=exit:75 in the runner's log"
stop_pid "$FLUSH_PID"

echo "e2e sendmail: PASS"
