#!/bin/bash
# SPDX-License-Identifier: ISC
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
spawn tcpserver -q -R -H -l mx.test -c 250 -b 250 127.0.0.1 "$PORT" "$BIN/etrnd" -n mx.test \
	-d "$T/etrn.cdb" -q "$T/queue" -l stderr 2>"$T/etrnd.log"
wait_port "$PORT" || fail "tcpserver did not start"

N=200
# 200 sockets connected at once (threads, a barrier), then all talk.
/usr/bin/python3 - "$PORT" "$N" <<'PY' || fail "concurrent sessions"
import socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
want = (b"220 mx.test ESMTP\r\n250-mx.test\r\n250-ETRN\r\n250-PIPELINING\r\n"
        b"250 ENHANCEDSTATUSCODES\r\n250 2.0.0 OK, queuing for node local.example.net started\r\n"
        b"459 4.7.1 Node far.example.net not allowed: client not authorized\r\n"
        b"221 2.0.0 mx.test closing connection\r\n")
barrier = threading.Barrier(n, timeout=60)
results = [None] * n
def client(i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        barrier.wait()
        s.sendall(b"EHLO c%d.test\r\nETRN local.example.net\r\nETRN far.example.net\r\nQUIT\r\n" % i)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        results[i] = got
    except Exception as e:
        results[i] = repr(e).encode()
threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join(90)
bad = [i for i in range(n) if results[i] != want]
for i in bad[:5]:
    print("session", i, results[i])
print("%d of %d concurrent sessions got the exact replies" % (n - len(bad), n))
sys.exit(1 if bad else 0)
PY
[ "$(ls "$T/queue/new" | wc -l)" -eq 1 ] || fail "the flood left more than one trigger"
[ "$(ls "$T/queue/tmp" | wc -l)" -eq 0 ] || fail "temp files left"
say "$N concurrent connections: every one got the exact replies; one trigger"

# One byte a second: cut at the 5 s deadline (-T 5) with 421.
PORT=$(free_port)
spawn tcpserver -q -R -H -l mx.test 127.0.0.1 "$PORT" "$BIN/etrnd" -n mx.test -T 5 \
	-d "$T/etrn.cdb" -q "$T/queue" -l stderr 2>>"$T/etrnd.log"
wait_port "$PORT" || fail "tcpserver did not start"
start=$(date +%s)
# The reply decides, not how the socket ended: etrnd closes while the
# client's bytes still arrive, so cat may see a reset after the 421
# instead of EOF, depending on timing.
out=$( (exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	for c in N O O P; do printf '%s' "$c" >&3 2>/dev/null || break; sleep 1; done
	for _ in $(seq 1 20); do printf 'x' >&3 2>/dev/null || break; sleep 1; done &
	timeout 20 cat <&3 2>/dev/null || true) )
took=$(($(date +%s) - start))
grep -q '^421 4.4.2 mx.test Error: timeout exceeded' <<<"$out" || fail "no 421 for the slow client: $out"
[ "$took" -le 12 ] || fail "the slow client kept etrnd for $took s (deadline 5 s)"
grep -q 'why=deadline' "$T/etrnd.log" || fail "no why=deadline in the log"
say "a client sending one byte a second was cut at the deadline with 421 after ${took}s"
echo "e2e stress: PASS"
