#!/bin/bash
# SPDX-License-Identifier: ISC
# demo.sh: compile the sample rules, run one scripted ETRN session through
# bin/etrnd, show the transcript and the trigger files it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=/tmp/etrnd-demo
rm -rf "$demo"
mkdir -p "$demo/queue/tmp" "$demo/queue/new" "$demo/queue/cur" \
	"$demo/spool/client.example.net/new" "$demo/spool/client.example.net/cur" \
	"$demo/spool/client.example.net/tmp" "$demo/spool/quiet.example.net"
for m in 1 2; do echo "held message $m" > "$demo/spool/client.example.net/new/msg$m"; done
echo "held message 3" > "$demo/spool/client.example.net/cur/msg3"

echo "== bin/etrnd-rules cdb/etrn.rules cdb/etrn.cdb"
bin/etrnd-rules cdb/etrn.rules cdb/etrn.cdb
echo

echo "== an ETRN session from 192.0.2.10 (C: client, S: etrnd)"
coproc ETRND { TCPREMOTEIP=192.0.2.10 exec bin/etrnd -n mx.example.com \
	-d cdb/etrn.cdb -q "$demo/queue" -l stderr 2>"$demo/etrnd.log"; }
etrnd_pid=$ETRND_PID

# Prints every line of one reply; a reply ends at "NNN " (not "NNN-").
read_reply() {
	local line
	while IFS= read -r -t 10 line <&"${ETRND[0]}"; do
		printf 'S: %s\n' "${line%$'\r'}"
		[[ $line =~ ^[0-9]{3}\  ]] && return 0
	done
	echo "demo: no reply from etrnd" >&2
	return 1
}

read_reply
for cmd in "EHLO office.example.net" \
	"ETRN client.example.net" \
	"ETRN quiet.example.net" \
	"ETRN @example.org" \
	"ETRN unknown.example.com" \
	"ETRN legacy.example.com" \
	"ETRN #dialup" \
	"ETRN localname" \
	"QUIT"; do
	printf 'C: %s\n' "$cmd"
	printf '%s\r\n' "$cmd" >&"${ETRND[1]}"
	read_reply
done
wait "$etrnd_pid" 2>/dev/null || true
echo

echo "== etrnd's log"
cat "$demo/etrnd.log"
echo

echo "== trigger files in $demo/queue/new"
for f in "$demo"/queue/new/*; do
	echo "--- $(basename "$f")"
	cat "$f"
done
echo

echo "== bin/etrnd-runner -1: one pass over the queue (what cron would run)"
bin/etrnd-runner -1 -q "$demo/queue" -d cdb/etrn.cdb 2>&1 || true
echo
echo "== left in $demo/queue: new/ $(ls "$demo/queue/new" | wc -l), cur/ $(ls "$demo/queue/cur" | wc -l)"
