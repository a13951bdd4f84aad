#!/bin/bash
# Greedy and slow clients against etrnd under tcpserver on loopback:
# 200 concurrent connections all get correct replies; a client that sends
# one byte a second is cut at the session deadline with 421.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v tcpserver >/dev/null || fail "tcpserver is missing"
T=$(mktemp -d /tmp/etrnd-e2e-stress.XXXXXX)
cleanup() { stop_all; if [ "${KEEP:-}" != 1 ]; then rm -rf "$T"; fi; }
trap cleanup EXIT

mkdir -p "$T/queue/tmp" "$T/queue/new" "$T/queue/cur" "$T/out"
printf 'local.example.net allow=127.0.0.1\nfar.example.net allow=192.0.2.0/24\n' > "$T/etrn.rules"
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
PORT=$(free_port)
spawn tcpserver -q -R -H -c 250 -b 250 127.0.0.1 "$PORT" "$BIN/etrnd" -n mx.test -T 5 \
	-d "$T/etrn.cdb" -q "$T/queue" -l stderr 2>"$T/etrnd.log"
wait_port "$PORT" || fail "tcpserver did not start"

N=200
client() {
	local i=$1
	# hold the connection open until all are connected, then talk
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
	while [ ! -e "$T/go" ]; do sleep 0.05; done
	printf 'EHLO c%s.test\r\nETRN local.example.net\r\nETRN far.example.net\r\nQUIT\r\n' "$i" >&3
	timeout 20 cat <&3 > "$T/out/$i"
}
pids=""
for i in $(seq 1 $N); do client "$i" & pids="$pids $!"; done
sleep 1
touch "$T/go"
for p in $pids; do wait "$p" || true; done
ok=0
want=$'220 mx.test ESMTP\r\n250-mx.test\r\n250-ETRN\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n250 2.0.0 OK, queuing for node local.example.net started\r\n459 4.7.1 Node far.example.net not allowed: client not authorized\r\n221 2.0.0 mx.test closing connection\r'
for i in $(seq 1 $N); do
	[ "$(cat "$T/out/$i")" = "$want" ] && ok=$((ok + 1))
done
[ "$ok" -eq "$N" ] || fail "$ok of $N concurrent sessions got the right replies"
[ "$(ls "$T/queue/new" | wc -l)" -eq 1 ] || fail "the flood left more than one trigger"
[ "$(ls "$T/queue/tmp" | wc -l)" -eq 0 ] || fail "temp files left"
say "$N concurrent connections: every one got the exact replies; one trigger"

# One byte a second: cut at the 5 s deadline (-T 5) with 421.
start=$(date +%s)
out=$( (exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	for c in N O O P; do printf '%s' "$c" >&3 2>/dev/null || break; sleep 1; done
	for _ in $(seq 1 20); do printf 'x' >&3 2>/dev/null || break; sleep 1; done &
	timeout 20 cat <&3) )
took=$(($(date +%s) - start))
echo "$out" | grep -q '^421 4.4.2 mx.test Error: timeout exceeded' || fail "no 421 for the slow client: $out"
[ "$took" -le 12 ] || fail "the slow client kept etrnd for $took s (deadline 5 s)"
grep -q 'why=deadline' "$T/etrnd.log" || fail "no why=deadline in the log"
say "a client sending one byte a second was cut at the deadline with 421 after ${took}s"
echo "e2e stress: PASS"
