#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/deliver.sh: delivering held mail, etrnd-deliver against Postfix's
# own flush (issue 13 item 5). Run as root, after make and
# "sh scripts/deps.sh e2e" (which unpacks Postfix into build/ext/postfix).
#
# For one node, client.example.net, N held messages (DELIVER_N, 1000) of
# 10 kB go to one sink on 127.0.0.1, Postfix's own smtp-sink (C, event
# driven, stores nothing; it runs outside the measured processes):
#   etrnd-deliver   a maildir filled once by etrnd-store and copied afresh
#                   for each run; "etrnd-deliver DIR [127.0.0.1]:PORT NODE",
#                   from its start to its exit (every message sent and
#                   durably removed)
#   postfix flush   the same N messages queued through Postfix's smtpd and
#                   held by defer_transports (the flush recipe, main.cf.etrn);
#                   "postqueue -s client.example.net", from its start until
#                   Postfix's queue is empty (polled every 20 ms)
# Both spools are under one directory on the same disk (DELIVER_DIR,
# default /var/tmp), so both pay that disk's fsync; the runs alternate,
# DELIVER_REPS (5) rounds of each, and the medians are printed, with the
# ratio of each round (the disk's fsync latency varies from run to run on
# shared machines).
#
# CPU: each side runs in a cgroup of its own (cgroup v1 cpuacct, else
# cgroup v2), and its CPU is the growth of the cgroup's usage over the run:
# every process in it, children and exited processes included. For
# etrnd-deliver that is the one process; for Postfix the whole instance
# (master, qmgr, flush, the smtp clients, trivial-rewrite, scache, anvil,
# postqueue itself, and its periodic pickup wakeups), started inside its
# cgroup. The totals (cpuacct.usage, cpu.stat usage_usec) are exact
# scheduler time; the user/system split is tick-based and shown for
# information. getrusage(2) of etrnd-deliver (GNU time) is printed as a
# cross-check of the cgroup figure.
#
# A third line runs etrnd-deliver on a maildir in /dev/shm (tmpfs, where
# fsync costs nothing): the difference is what durability costs on disk.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/tests/e2e/lib.sh"
ROOT=$HERE
BIN=${ETRND_BIN:-$ROOT/bin}
. "$ROOT/tests/e2e/postfix-lib.sh"

N=${DELIVER_N:-1000}
REPS=${DELIVER_REPS:-5}
SIZE=10240
NODE=client.example.net

[ "$(id -u)" -eq 0 ] || fail "bench/deliver.sh needs root (Postfix's master, cgroups)"
[ -x "$BIN/etrnd-deliver" ] && [ -x "$BIN/etrnd-store" ] || fail "run make first"
pf_unpack
pf_users

W=$(mktemp -d "${DELIVER_DIR:-/var/tmp}/etrnd-bench-deliver.XXXXXX")
chmod 755 "$W"
SHM=""
CGS=""
cleanup() {
	pf_stop_all
	stop_all
	local c
	for c in $CGS; do
		# (cgroup files have no size: read them)
		wait_until 10 bash -c "[ -z \"\$(cat $c/cgroup.procs)\" ]" || true
		rmdir "$c" 2>/dev/null || true
	done
	if [ "${DELIVER_KEEP:-}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
	rm -rf ${SHM:+"$SHM"}
}
trap cleanup EXIT

# -- cgroups ----------------------------------------------------------------
if [ -d /sys/fs/cgroup/cpuacct ] && [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
	CGBASE=/sys/fs/cgroup/cpuacct
	CGKIND=v1
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	CGBASE=/sys/fs/cgroup
	CGKIND=v2
elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
	CGBASE=/sys/fs/cgroup/unified
	CGKIND=v2
else
	fail "no cgroup v1 cpuacct or cgroup v2 hierarchy to account CPU with"
fi
# cg_new NAME: creates the cgroup CGBASE/etrnd-bench-NAME-PID, sets CG to it.
cg_new() {
	CG=$CGBASE/etrnd-bench-$1-$$
	mkdir "$CG" || fail "cannot create cgroup $CG"
	CGS="$CGS $CG"
}
# cg_cpu CG: "TOTAL_NS USER_NS SYS_NS"
cg_cpu() {
	if [ $CGKIND = v1 ]; then
		echo "$(cat "$1/cpuacct.usage") $(cat "$1/cpuacct.usage_user") $(cat "$1/cpuacct.usage_sys")"
	else
		awk '$1 == "usage_usec" { t = $2 } $1 == "user_usec" { u = $2 }
			$1 == "system_usec" { s = $2 } END { print t * 1000, u * 1000, s * 1000 }' "$1/cpu.stat"
	fi
}
# in_cg CG COMMAND...: runs the command inside the cgroup.
in_cg() {
	local c=$1
	shift
	(
		echo "$BASHPID" >"$c/cgroup.procs"
		exec "$@"
	)
}
cg_new etrnd
CG_ETRND=$CG
cg_new postfix
CG_PF=$CG
now_ns() { date +%s%N; }

# -- the sink: Postfix's smtp-sink, outside both cgroups ----------------------
SINK=$(free_port)
spawn env LD_LIBRARY_PATH="$PFLIB" "$PFSBIN/smtp-sink" -u postfix 127.0.0.1:"$SINK" 256
wait_port "$SINK" || fail "smtp-sink did not start"

# -- the message: 10 kB, CRLF-free text, as an MTA would hand it over ---------
python3 - "$W/msg" "$SIZE" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
head = ("From: Bench <bench@origin.test>\nTo: <u@client.example.net>\n"
        "Subject: etrnd deliver bench\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n"
        "Message-ID: <bench@origin.test>\n\n")
line = "The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrs\n"
body = (line * (size // len(line) + 1))[: size - len(head) - 1] + "\n"
open(path, "w").write(head + body)
PY
[ "$(wc -c <"$W/msg")" -eq "$SIZE" ] || fail "message size"

# -- etrnd: a maildir with N held messages, stored once by etrnd-store --------
# (into tmpfs when there is one, where its fsyncs cost nothing, then copied)
if [ -d /dev/shm ]; then
	SHM=$(mktemp -d /dev/shm/etrnd-bench-deliver.XXXXXX)
fi
STORE=${SHM:-$W}/store
for i in $(seq 1 "$N"); do
	"$BIN/etrnd-store" -f bench@origin.test -- "$STORE" u@$NODE <"$W/msg" ||
		fail "etrnd-store"
done
[ "$STORE" = "$W/store" ] || cp -a "$STORE" "$W/store"
mv "$W/store" "$W/template"
rm -rf "$STORE"
[ "$(count_files "$W/template/new")" -eq "$N" ] || fail "template maildir"

# run_etrnd DIR: one etrnd-deliver run on DIR (a fresh copy of the template);
# sets WALL_NS, CPU (total user sys, ns), RU (GNU time: user sys seconds).
run_etrnd() {
	local d=$1 t0 t1 c0 c1
	rm -rf "$d"
	cp -a "$W/template" "$d"
	sync
	c0=$(cg_cpu "$CG_ETRND")
	t0=$(now_ns)
	in_cg "$CG_ETRND" /usr/bin/time -f '%U %S' -o "$W/ru" \
		"$BIN/etrnd-deliver" "$d" "[127.0.0.1]:$SINK" "$NODE" 2>"$W/deliver.log" ||
		{ tail -3 "$W/deliver.log"; fail "etrnd-deliver failed"; }
	t1=$(now_ns)
	c1=$(cg_cpu "$CG_ETRND")
	WALL_NS=$((t1 - t0))
	CPU=$(echo "$c0 $c1" | awk '{ print $4 - $1, $5 - $2, $6 - $3 }')
	RU=$(cat "$W/ru")
	grep -q "done node=$NODE messages=$N sent=$N deferred=0 failed=0 status=0" "$W/deliver.log" ||
		{ tail -3 "$W/deliver.log"; fail "etrnd-deliver did not deliver all $N"; }
	[ "$(count_files "$d/new")" -eq 0 ] || fail "messages left in $d"
}

# -- Postfix: its own instance, the flush recipe, started in its cgroup --------
P=$W/postfix
PORT=$(free_port)
mkdir -p "$P/conf"
{
	pf_master "$PORT"
	grep -v '^#' "$ROOT/etc/postfix/master.cf.etrn"
} >"$P/conf/master.cf"
{
	pf_main "$P"
	echo "relay_domains = $NODE"
	echo "transport_maps = inline:{ $NODE=hold:[127.0.0.1]:$SINK }"
	grep -v '^#' "$ROOT/etc/postfix/main.cf.etrn"
} >"$P/conf/main.cf"
mkdir -p "$P/queue" "$P/data"
chown postfix "$P/data"
in_cg "$CG_PF" env LD_LIBRARY_PATH="$PFLIB" "$PFSBIN/postfix" -c "$P/conf" start >/dev/null 2>&1 ||
	fail "postfix start: $(tail -5 "$P/maillog")"
PF_DIRS="$P"
wait_port "$PORT" || fail "Postfix smtpd did not listen"

pf_fill() {
	python3 - "$PORT" "$W/msg" "$N" <<'PY' || fail "queueing $N messages into Postfix"
import smtplib, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
msg = open(path, "rb").read().replace(b"\n", b"\r\n")
with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
    for _ in range(n):
        s.sendmail("bench@origin.test", ["u@client.example.net"], msg)
PY
	wait_until 300 pf_settled "$P" "$N" || fail "the $N messages were not all held"
	sync
}
pf_left() {
	local f
	shopt -s nullglob
	f=("$P"/queue/incoming/* "$P"/queue/active/* "$P"/queue/deferred/*/*)
	shopt -u nullglob
	echo "${#f[@]}"
}
# run_postfix: one flush of the N held messages; sets WALL_NS and CPU.
run_postfix() {
	local t0 t1 c0 c1
	c0=$(cg_cpu "$CG_PF")
	t0=$(now_ns)
	in_cg "$CG_PF" env LD_LIBRARY_PATH="$PFLIB" "$PFSBIN/postqueue" -c "$P/conf" -s "$NODE" ||
		fail "postqueue -s"
	local n=0
	while [ "$(pf_left)" -gt 0 ]; do
		sleep 0.02
		n=$((n + 1))
		[ $n -lt 15000 ] || fail "Postfix did not deliver the $N messages within 300 s"
	done
	t1=$(now_ns)
	c1=$(cg_cpu "$CG_PF")
	WALL_NS=$((t1 - t0))
	CPU=$(echo "$c0 $c1" | awk '{ print $4 - $1, $5 - $2, $6 - $3 }')
}

# -- the runs, alternating --------------------------------------------------------
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$W/results"
for r in $(seq 1 "$REPS"); do
	pf_fill
	run_postfix
	echo "postfix $r $WALL_NS $CPU" >>"$W/results"
	run_etrnd "$W/run"
	echo "etrnd $r $WALL_NS $CPU $RU" >>"$W/results"
	if [ -n "$SHM" ]; then
		run_etrnd "$SHM/run"
		echo "tmpfs $r $WALL_NS $CPU $RU" >>"$W/results"
	fi
	echo "bench deliver: round $r of $REPS done ($(date +%T))" >&2
done
grep -q "status=sent" "$P/maillog" || fail "Postfix logged no delivery"

# -- report -------------------------------------------------------------------------
awk -v n="$N" -v reps="$REPS" -v cg="$CGKIND" -v load="$LOAD0 -> $(cut -d' ' -f1-3 /proc/loadavg)" -v disk="$(df -T "$W" | awk 'NR == 2 { print $2 " (" $7 ")" }')" '
function median(a, k,   i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{
	k = ++cnt[$1]
	rate[$1, k] = n / ($3 / 1e9)
	cpu[$1, k] = $4 / 1e6 / n
	usr[$1, k] = $5 / 1e6 / n
	sys[$1, k] = $6 / 1e6 / n
	if (NF >= 8) ru[$1, k] = ($7 + $8) * 1000 / n
	runs[$1] = runs[$1] sprintf(" %.0f", n / ($3 / 1e9))
}
function med(arr, w,   a, i) {
	for (i = 1; i <= cnt[w]; i++) a[i] = arr[w, i]
	return median(a, cnt[w])
}
END {
	printf "deliver bench: %d messages of 10 kB for one node to smtp-sink on 127.0.0.1, %d rounds, medians;\n", n, reps
	printf "spools on %s; CPU from cgroup %s accounting of each side (user/sys split tick-based);\n", disk, cg
	printf "machine load average (1, 5, 15 min) at start and end: %s\n", load
	for (w in cnt) {
		R[w] = med(rate, w); C[w] = med(cpu, w); U[w] = med(usr, w); S[w] = med(sys, w)
	}
	# (rows are printed by name below)
	printf "| delivery | msg/s (median) | per round | CPU ms/msg | user | sys | getrusage ms/msg |\n"
	printf "|---|---|---|---|---|---|---|\n"
	printf "| etrnd-deliver | %.0f |%s | %.3f | %.3f | %.3f | %.3f |\n", R["etrnd"], runs["etrnd"], C["etrnd"], U["etrnd"], S["etrnd"], med(ru, "etrnd")
	printf "| postfix flush (postqueue -s) | %.0f |%s | %.3f | %.3f | %.3f | |\n", R["postfix"], runs["postfix"], C["postfix"], U["postfix"], S["postfix"]
	if ("tmpfs" in cnt)
		printf "| etrnd-deliver, maildir on tmpfs | %.0f |%s | %.3f | %.3f | %.3f | %.3f |\n", R["tmpfs"], runs["tmpfs"], C["tmpfs"], U["tmpfs"], S["tmpfs"], med(ru, "tmpfs")
	sp = R["etrnd"] / R["postfix"]
	cr = C["etrnd"] / C["postfix"]
	printf "deliver: etrnd-deliver %.0f msg/s, %.3f ms CPU/msg; postfix flush %.0f msg/s, %.3f ms CPU/msg; " \
		"ratio %.2fx, target at least 1.0x: %s; CPU ratio %.2fx, target at most 1.0x: %s\n",
		R["etrnd"], C["etrnd"], R["postfix"], C["postfix"], sp, (sp >= 1 ? "met" : "not met"),
		cr, (cr <= 1 ? "met" : "not met")
	lo = hi = ""
	for (i = 1; i <= cnt["etrnd"] && i <= cnt["postfix"]; i++) {
		q = rate["etrnd", i] / rate["postfix", i]
		pr["r", i] = q
		cnt["r"] = i
		rr = rr sprintf(" %.2f", q)
		if (lo == "" || q < lo) lo = q
		if (hi == "" || q > hi) hi = q
	}
	printf "deliver, ratio etrnd-deliver/postfix flush per round (msg/s):%s (from %.2fx to %.2fx, median %.2fx)\n", rr, lo, hi, med(pr, "r")
	if ("tmpfs" in cnt)
		printf "deliver (tmpfs maildir, no fsync cost): etrnd-deliver %.0f msg/s, %.3f ms CPU/msg; ratio to postfix flush on disk %.2fx\n",
			R["tmpfs"], C["tmpfs"], R["tmpfs"] / R["postfix"]
}' "$W/results"
