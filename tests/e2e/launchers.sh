#!/bin/bash
# SPDX-License-Identifier: ISC
# etrnd under the launchers users already run, each with its own config
# (made from the sample in etc/) and port on loopback: openbsd-inetd,
# xinetd, tcpserver with a tcprules cdb (127.0.0.1 and ::1), a daemontools
# service with multilog, a runit service with svlogd; the systemd units are
# checked with systemd-analyze verify. In each: a full ETRN session, the
# client address reaching the ACL (250 for an allowed, 459 for another
# network), and under inetd/xinetd only SMTP on the wire, logs in syslog.
# The TLS samples (tcpserver's run-tls, xinetd's etrnd-tls, systemd's
# etrnd-tls.socket and etrnd-tls@.service, the last run by
# systemd-socket-activate) each get a TLS session with AUTH through
# openssl s_client: the certificate verifies, 459 before AUTH, 250 after;
# etrnd starts as root, reads the key (0600 root), and writes its trigger
# as nobody.
#
# The syslog check reads what etrnd really sent: the script runs in a
# private mount namespace whose /dev is a copy (on tmpfs) where socat owns
# /dev/log, whether or not the host runs a logger; the host's /dev is not
# touched. Needs root; without it the script says so and exits 77 (skip).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pki.sh"

[ "$(id -u)" -eq 0 ] ||
	skip "the launcher tests need root (inetd, setuid programs, a private mount namespace)"
if [ -z "${ETRND_E2E_NS:-}" ]; then
	unshare --mount --propagation private true 2>/dev/null ||
		fail "unshare --mount failed: without a private mount namespace the syslog check cannot own /dev/log"
	exec unshare --mount --propagation private env ETRND_E2E_NS=1 bash "$0" "$@"
fi

EXT=${ETRND_EXT:-$ROOT/build/ext/inetd/root}
[ -x "$EXT/usr/sbin/inetd" ] && [ -x "$EXT/usr/sbin/xinetd" ] ||
	fail "inetd/xinetd not unpacked in $EXT (sh scripts/deps.sh e2e does it)"
for p in tcpserver tcprules svscan svc multilog setuidgid runsv sv svlogd chpst socat openssl; do
	command -v "$p" >/dev/null || fail "$p is missing (make check installs it as root)"
done
id -u nobody >/dev/null 2>&1 || skip "no user nobody to run etrnd as"

T=$(mktemp -d /tmp/etrnd-e2e-launch.XXXXXX)
chmod 755 "$T"
# The PIDs of the processes working in a directory under DIR: what svscan
# and runsv started there (supervise, tcpserver, multilog, svlogd).
working_in() {
	local p d
	for p in /proc/[0-9]*; do
		d=$(readlink "$p/cwd" 2>/dev/null) || continue
		case $d in "$1" | "$1"/*) echo "${p#/proc/}" ;; esac
	done
}
cleanup() {
	[ -d "$T/svscan" ] && svc -dx "$T"/svscan/etrnd "$T"/svscan/etrnd/log "$T"/svscan/etrnd-tls \
		"$T"/svscan/etrnd-tls/log 2>/dev/null || true
	[ -d "$T/runit" ] && sv -w 5 force-stop "$T/runit" "$T/runit/log" >/dev/null 2>&1 || true
	stop_all
	# supervise outlives svscan, and once (CI, 2026-11-30) it kept its
	# service up after svc -dx, holding the test's output pipe open: wait
	# for them, then stop by PID whatever still works in the service dirs
	local d p
	for d in "$T/svscan" "$T/runit"; do
		[ -d "$d" ] || continue
		wait_until 5 test -z "$(working_in "$d")" && continue
		for p in $(working_in "$d"); do kill -9 "$p" 2>/dev/null || true; done
	done
	# the namespace's mounts end with it; unmount first so that $T can go
	umount -l /dev 2>/dev/null || true
	umount -l "$T/dev" 2>/dev/null || true
	if [ "${KEEP:-}" != 1 ]; then rm -rf --one-file-system "$T"; fi
}
trap cleanup EXIT

mkdir -p "$T/queue/tmp" "$T/queue/new" "$T/queue/cur"
chown nobody "$T/queue/tmp" "$T/queue/new"
mkdir "$T/tls"
chmod 755 "$T/tls"
make_pki "$T/tls" mx.test
chown root:root "$T/tls/server.key" # 0600: only etrnd's start as root reads it
hash=$(printf 'secret\n' | "$BIN/etrnd-rules" -p)
cat > "$T/etrn.rules" <<RULES
local.example.net  allow=127.0.0.1,::1
far.example.net    allow=192.0.2.0/24
user:office        $hash
tls.example.net    users=office
RULES
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
AUTH64=$(printf '\0office\0secret' | base64)

# Syslog: this namespace's /dev is a copy in which /dev/log is our socat.
mkdir "$T/dev"
mount -t tmpfs -o mode=755 etrnd-e2e-dev "$T/dev"
cp -a --one-file-system /dev/. "$T/dev/"
rm -f "$T/dev/log"
mount --bind "$T/dev" /dev
spawn socat -u UNIX-RECV:/dev/log,mode=666 "OPEN:$T/syslog,creat,append"
wait_until 5 test -S /dev/log || fail "socat did not bind /dev/log"
logger -u /dev/log "etrnd-e2e syslog probe" || fail "logger could not write to /dev/log"
wait_until 5 grep -q "etrnd-e2e syslog probe" "$T/syslog" ||
	fail "a line sent to /dev/log did not reach $T/syslog"

# From a sample in etc/: our paths, the test port, nobody for etrnd.
localize() {
	sed -e "s|/usr/local/sbin/etrnd|$BIN/etrnd|g" -e "s|/etc/etrnd/etrn.cdb|$T/etrn.cdb|g" \
		-e "s|/etc/etrnd/tcp.cdb|$T/tcp.cdb|g" -e "s|/var/spool/etrnd|$T/queue|g" \
		-e "s|/etc/etrnd/cert.pem|$T/tls/server.crt|g" -e "s|/etc/etrnd/key.pem|$T/tls/server.key|g" \
		-e "s|2525|$PORT|g" -e "s|2465|$PORT|g" -e "s|-u etrnd|-u nobody|g" -e "s|= etrnd$|= nobody|" \
		-e "s|id -u etrnd|id -u nobody|; s|id -g etrnd|id -g nobody|" "$1"
}

# check NAME PORT [HOST]: a session through the launcher.
check() {
	local name=$1 port=$2 host=${3:-127.0.0.1} out
	out=$(SMTP_HOST=$host smtp_session "$port" "EHLO client.test" "ETRN local.example.net" \
		"ETRN far.example.net" "QUIT") || fail "$name: session failed"
	grep -qx '250 2.0.0 OK, queuing for node local.example.net started' <<<"$out" ||
		fail "$name: no 250 for the allowed client: $out"
	grep -qx '459 4.7.1 Node far.example.net not allowed: client not authorized' <<<"$out" ||
		fail "$name: no 459 for the other network: $out"
	if grep -vqE '^[0-9]{3}[ -]' <<<"$out"; then
		fail "$name: something other than SMTP reached the client: $out"
	fi
	say "$name: 250 for $host, 459 for 192.0.2.0/24, only SMTP on the wire"
}

# check_tls NAME PORT starttls|implicit: a session with TLS and AUTH.
check_tls() {
	local name=$1 port=$2 out args=(-name client.test)
	[ "$3" = starttls ] && args+=(-starttls smtp)
	rm -f "$T/queue/new/tls.example.net"
	out=$(printf 'EHLO client.test\nETRN tls.example.net\nAUTH PLAIN %s\nETRN tls.example.net\nQUIT\n' \
		"$AUTH64" | timeout 30 openssl s_client -connect "127.0.0.1:$port" "${args[@]}" \
		-CAfile "$T/tls/ca.crt" -verify_return_error -crlf -ign_eof 2>&1) ||
		fail "$name: openssl s_client failed: $out"
	grep -q '^459 4.7.1 Node tls.example.net not allowed: authentication required' <<<"$out" ||
		fail "$name: no 459 before AUTH: $out"
	grep -q '^235 2.7.0 Authentication successful' <<<"$out" || fail "$name: AUTH: $out"
	grep -q '^250 2.0.0 OK, queuing for node tls.example.net started' <<<"$out" ||
		fail "$name: no 250 after AUTH: $out"
	[ "$(stat -c %U "$T/queue/new/tls.example.net")" = nobody ] ||
		fail "$name: the trigger was not written by nobody"
	say "$name: $3 TLS verified, 459 before AUTH, 250 after, trigger written as nobody"
}

syslog_has() {
	wait_until 5 grep -q "$1" "$T/syslog"
}

# -- openbsd-inetd ----------------------------------------------------------
PORT=$(free_port)
localize "$ROOT/etc/inetd/inetd.conf" > "$T/inetd.conf"
spawn "$EXT/usr/sbin/inetd" -d "$T/inetd.conf" 2>"$T/inetd.err"
wait_port "$PORT" || fail "inetd did not listen: $(cat "$T/inetd.err")"
check inetd "$PORT"
syslog_has "etrnd\[[0-9]*\]: etrn client=127.0.0.1 node=far.example.net" ||
	fail "inetd: etrnd's log did not reach syslog"
say "inetd: log lines in syslog"

# -- xinetd -----------------------------------------------------------------
PORT=$(free_port)
{ echo "defaults"; echo "{"; echo "}"; localize "$ROOT/etc/xinetd/etrnd"; } > "$T/xinetd.conf"
XPORT=$PORT
PORT=$(free_port)
localize "$ROOT/etc/xinetd/etrnd-tls" >> "$T/xinetd.conf"
XTLS=$PORT
PORT=$XPORT
spawn "$EXT/usr/sbin/xinetd" -dontfork -pidfile "$T/xinetd.pid" -f "$T/xinetd.conf"
wait_port "$PORT" && wait_port "$XTLS" || fail "xinetd did not listen"
check xinetd "$PORT"
syslog_has "etrnd\[[0-9]*\]: end client=127.0.0.1 helo=client.test" ||
	fail "xinetd: etrnd's log did not reach syslog"
say "xinetd: log lines in syslog"
check_tls xinetd-tls "$XTLS" implicit
syslog_has "etrnd\[[0-9]*\]: end client=127.0.0.1 helo=client.test tls=TLSv1.3 cipher=TLS_.* user=office" ||
	fail "xinetd-tls: no end line with tls= in syslog"

# -- daemontools: tcpserver + tcprules + multilog -------------------------
PORT=$(free_port)
tcprules "$T/tcp.cdb" "$T/tcp.tmp" < "$ROOT/etc/tcpserver/tcp.rules"
mkdir -p "$T/svscan/etrnd/log"
localize "$ROOT/etc/tcpserver/run" > "$T/svscan/etrnd/run"
cp "$ROOT/etc/tcpserver/log/run" "$T/svscan/etrnd/log/run"
chmod +x "$T/svscan/etrnd/run" "$T/svscan/etrnd/log/run"
chown nobody "$T/svscan/etrnd/log"
DPORT=$PORT
PORT=$(free_port)
mkdir -p "$T/svscan/etrnd-tls/log"
localize "$ROOT/etc/tcpserver/run-tls" > "$T/svscan/etrnd-tls/run"
cp "$ROOT/etc/tcpserver/log/run" "$T/svscan/etrnd-tls/log/run"
chmod +x "$T/svscan/etrnd-tls/run" "$T/svscan/etrnd-tls/log/run"
chown nobody "$T/svscan/etrnd-tls/log"
DTLS=$PORT
PORT=$DPORT
spawn svscan "$T/svscan"
wait_port "$PORT" && wait_port "$DTLS" || fail "tcpserver (daemontools) did not listen"
check daemontools "$PORT"
wait_until 10 grep -q "etrnd\[[0-9]*\]: etrn client=127.0.0.1 node=local.example.net" \
	"$T/svscan/etrnd/log/main/current" || fail "daemontools: no etrnd line in multilog"
grep -q "tcpserver: ok" "$T/svscan/etrnd/log/main/current" || fail "no tcpserver line in multilog"
say "daemontools: tcpserver and etrnd lines in multilog's main/current"
check_tls daemontools-tls "$DTLS" starttls
wait_until 10 grep -q "etrnd\[[0-9]*\]: end client=127.0.0.1 helo=client.test tls=TLSv1.3 cipher=TLS_" \
	"$T/svscan/etrnd-tls/log/main/current" || fail "daemontools-tls: no end line with tls= in multilog"

# tcprules: the sample denies 198.51.100.x; here only loopback can connect,
# so a second database that denies 127.0.0.1 shows the rules are applied.
PORT=$(free_port)
printf '127.0.0.1:deny\n:allow\n' | tcprules "$T/deny.cdb" "$T/deny.tmp"
spawn tcpserver -q -R -H -l mx.test -x "$T/deny.cdb" 127.0.0.1 "$PORT" "$BIN/etrnd" -d "$T/etrn.cdb" -q "$T/queue"
wait_port "$PORT" || true
out=$(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && timeout 5 cat <&3 || true)
[ -z "$out" ] || fail "tcprules deny: etrnd answered: $out"
say "tcpserver: a tcprules deny closes the connection before etrnd runs"

# -- tcpserver over ::1 ----------------------------------------------------
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	PORT=$(free_port)
	printf '::1:allow\n:deny\n' | tcprules "$T/tcp6.cdb" "$T/tcp6.tmp"
	spawn tcpserver -q -R -H -l mx.test -x "$T/tcp6.cdb" ::1 "$PORT" "$BIN/etrnd" -d "$T/etrn.cdb" \
		-q "$T/queue" -l stderr
	wait_until 10 bash -c "exec 3<>/dev/tcp/::1/$PORT" 2>/dev/null || fail "tcpserver ::1"
	check tcpserver-ipv6 "$PORT" ::1
else
	say "tcpserver over ::1: SKIPPED, this host has no ::1 on lo"
fi

# -- runit: runsv with svlogd ---------------------------------------------
PORT=$(free_port)
mkdir -p "$T/runit/log"
localize "$ROOT/etc/runit/run" > "$T/runit/run"
cp "$ROOT/etc/runit/log/run" "$T/runit/log/run"
chmod +x "$T/runit/run" "$T/runit/log/run"
chown nobody "$T/runit/log"
spawn runsv "$T/runit"
wait_port "$PORT" || fail "tcpserver (runit) did not listen"
check runit "$PORT"
wait_until 10 grep -q "etrnd\[[0-9]*\]: etrn client=127.0.0.1" "$T/runit/log/main/current" ||
	fail "runit: no etrnd line in svlogd's log"
say "runit: etrnd lines in svlogd's main/current"

# -- systemd units ---------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	units="etrnd.socket etrnd@.service etrnd-runner.service etrnd-tls.socket etrnd-tls@.service"
	for u in $units; do
		sed -e "s|/usr/local/sbin/|$BIN/|g" "$ROOT/etc/systemd/$u" > "$T/units/$u"
	done
	out=$(cd "$T/units" && systemd-analyze verify --man=no $(printf './%s ' $units) 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	say "systemd: $units verify clean"
else
	say "systemd: systemd-analyze not installed, units not verified"
fi
# The TLS unit's command as systemd runs it: one process per connection
# (Accept=yes) with the socket as stdin and stdout, started as root.
if command -v systemd-socket-activate >/dev/null; then
	PORT=$(free_port)
	read -r -a cmd <<< "$(localize "$ROOT/etc/systemd/etrnd-tls@.service" | sed -n 's/^ExecStart=//p')"
	[ "${cmd[0]}" = "$BIN/etrnd" ] || fail "etrnd-tls@.service: ExecStart is ${cmd[*]}"
	spawn systemd-socket-activate -l "127.0.0.1:$PORT" -a --inetd "${cmd[@]}" \
		2>>"$T/systemd-tls.log"
	wait_port "$PORT" || fail "systemd-socket-activate did not listen"
	check_tls systemd-tls "$PORT" implicit
	wait_until 10 grep -q "end client=127.0.0.1 helo=client.test tls=TLSv1.3" "$T/systemd-tls.log" ||
		fail "systemd-tls: no end line with tls=: $(cat "$T/systemd-tls.log")"
else
	say "systemd: systemd-socket-activate not installed, etrnd-tls@.service not run"
fi
echo "e2e launchers: PASS"
