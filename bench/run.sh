#!/bin/bash
# SPDX-License-Identifier: ISC
# make bench: every figure of BENCHMARKS.md from one run, as ratios (the
# machines are shared and noisy; absolute times drift). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/bin
BB=$ROOT/build/bench
ROUNDS=${BENCH_ROUNDS:-20}
PER=${BENCH_PER:-25}
T=$(mktemp -d /var/tmp/etrnd-bench.XXXXXX)
chmod 755 "$T" # Postfix's own user reads its data directory below it
S=$(mktemp -d /dev/shm/etrnd-bench.XXXXXX)
PIDS=""
cleanup() {
	if [ -n "${PF:-}" ]; then /usr/sbin/postfix -c "$PF/conf" stop >/dev/null 2>&1 || true; fi
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T" "$S"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
OUT=$ROOT/BENCHMARKS.md
REPORT=$T/report.md
r() { echo "$*" | tee -a "$REPORT"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
free_port() { local p; while :; do p=$((20000 + RANDOM % 20000));
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }

mkq() { mkdir -p "$1/tmp" "$1/new" "$1/cur"; }
mkq "$T/q"; mkq "$S/q"
printf 'client.example.net\n@example.org\nlat.example run="%s/stamp %s/stamps"\nflood.example run="/bin/sleep 0.05"\n@bench.example run="/bin/true"\n' \
	"$BB" "$T" > "$T/etrn.rules"
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
printf 'EHLO bench.example\r\nETRN client.example.net\r\nQUIT\r\n' > "$T/known.in"
printf 'EHLO bench.example\r\nETRN unknown.example.com\r\nQUIT\r\n' > "$T/unknown.in"
E="$BIN/etrnd -n mx.bench -l stderr -d $T/etrn.cdb"

: > "$REPORT"
r "# etrnd benchmarks"
r ""
r "Produced by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,"
r "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r),"
r "$(gcc --version | head -1). Sessions are interleaved by round ($ROUNDS rounds x $PER"
r "sessions per program); times are medians; ratios are what to compare."
r ""

# -- 1. per session ---------------------------------------------------------
MTAS=""
PF=""
if [ -x /usr/sbin/postfix ] && [ "$(id -u)" -eq 0 ]; then
	PF=$T/postfix
	mkdir -p "$PF/conf" "$PF/queue" "$PF/data"
	chown postfix "$PF/data"
	cat > "$PF/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.invalid
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
relay_domains = client.example.net
fast_flush_domains = \$relay_domains
alias_maps =
alias_database =
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
CF
	# the services smtpd -S needs (no inet listener; nothing chrooted)
	grep -v '^#' tests/e2e/postfix-master.cf > "$PF/conf/master.cf"
	/usr/sbin/postfix -c "$PF/conf" check >/dev/null 2>&1 || true
	if /usr/sbin/postfix -c "$PF/conf" start >/dev/null 2>&1 &&
		timeout 10 /usr/sbin/sendmail -C "$PF/conf" -bs < "$T/known.in" >/dev/null 2>&1; then
		MTAS="postfix-bs /usr/sbin/sendmail -C $PF/conf -bs ::"
	fi
fi
skipped="Exim (exim -bs) and Sendmail (sendmail -bs): not measured; Debian installs one MTA at a time (mail-transport-agent), and Postfix is the one installed for the end-to-end tests."
# shellcheck disable=SC2086
"$BB/sessions" "$ROUNDS" "$PER" "$T/known.in" \
	floor "$BB/floor" :: \
	etrnd-tmpfs $E -q "$S/q" :: \
	etrnd-disk $E -q "$T/q" :: \
	$MTAS > "$T/known.txt"
# shellcheck disable=SC2086
"$BB/sessions" "$ROUNDS" "$PER" "$T/unknown.in" \
	floor "$BB/floor" :: \
	etrnd $E -q "$S/q" :: \
	$MTAS > "$T/unknown.txt"
floor_k=$(awk '$1 == "floor" { print $2 }' "$T/known.txt")
floor_u=$(awk '$1 == "floor" { print $2 }' "$T/unknown.txt")
r "## 1. Per session (spawn, session, exit)"
r ""
r "Session A: EHLO, ETRN client.example.net (rule found, trigger written), QUIT."
r "Session B: EHLO, ETRN unknown.example.com (458, nothing written), QUIT."
r ""
r "| program | session | median us | p10 us | p90 us | ratio to floor | failures |"
r "|---|---|---|---|---|---|---|"
while read -r name med p10 p90 n fail; do
	r "| $name | A | $med | $p10 | $p90 | $(ratio "$med" "$floor_k") | $fail/$n |"
done < "$T/known.txt"
while read -r name med p10 p90 n fail; do
	r "| $name | B | $med | $p10 | $p90 | $(ratio "$med" "$floor_u") | $fail/$n |"
done < "$T/unknown.txt"
r ""
r "etrnd-tmpfs keeps QUEUEDIR on tmpfs (/dev/shm), where fsync costs nothing: the"
r "code's own cost. etrnd-disk is the same on $(df --output=fstype "$T" | tail -1) under /var/tmp, paying for the"
r "fsync of the trigger and of new/ that make an accepted ETRN survive a crash."
if [ -n "$MTAS" ]; then
	r "postfix-bs is Postfix's \`sendmail -bs\` (smtpd -S) against its own running instance;"
	r "its ETRN goes to the flush service, as a real Postfix ETRN does."
else
	r "Postfix sendmail -bs: not measured (not installed, not root, or it did not answer)."
fi
r "$skipped"
r ""

# -- 2. instructions and memory --------------------------------------------
cg() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
	awk '/Collected/ { print $4 }'; }
ins_floor=$(cg "$BB/floor" < "$T/known.in")
ins_known=$(cg $E -q "$S/q" < "$T/known.in")
ins_unknown=$(cg $E -q "$S/q" < "$T/unknown.in")
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
rss_floor=$(rss "$BB/floor" < "$T/known.in")
rss_known=$(rss $E -q "$S/q" < "$T/known.in")
r "## 2. Instructions (callgrind) and peak RSS (/usr/bin/time -v)"
r ""
r "| program | session | instructions | ratio to floor | peak RSS KiB |"
r "|---|---|---|---|---|"
r "| floor | A | $ins_floor | 1.00 | $rss_floor |"
r "| etrnd | A | $ins_known | $(ratio "$ins_known" "$ins_floor") | $rss_known |"
r "| etrnd | B | $ins_unknown | $(ratio "$ins_unknown" "$ins_floor") | |"
r ""
r "Instructions include the dynamic loader's work for every shared library."
r ""

# -- 3. scale: rules and spools ---------------------------------------------
for n in 10 10000 1000000; do
	awk -v n="$n" 'BEGIN { for (i = 1; i < n; i++) printf "node%d.example.net\n", i;
		print "client.example.net" }' > "$T/r$n.rules"
	start=$(date +%s.%N)
	"$BIN/etrnd-rules" "$T/r$n.rules" "$T/r$n.cdb" >/dev/null
	echo "$n $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')" >> "$T/compile.txt"
done
"$BB/sessions" "$ROUNDS" "$PER" "$T/known.in" \
	rules-10 "$BIN/etrnd" -n mx.bench -d "$T/r10.cdb" -q "$S/q" :: \
	rules-10000 "$BIN/etrnd" -n mx.bench -d "$T/r10000.cdb" -q "$S/q" :: \
	rules-1000000 "$BIN/etrnd" -n mx.bench -d "$T/r1000000.cdb" -q "$S/q" > "$T/rules.txt"
base=$(awk '$1 == "rules-10" { print $2 }' "$T/rules.txt")
r "## 3. Scale"
r ""
r "| rules | cdb size | compile s | session median us | ratio to 10 rules |"
r "|---|---|---|---|---|"
while read -r name med _; do
	n=${name#rules-}
	r "| $n | $(du -h "$T/r$n.cdb" | cut -f1) | $(awk -v n="$n" '$1 == n { print $2 }' "$T/compile.txt") | $med | $(ratio "$med" "$base") |"
done < "$T/rules.txt"
r ""
for n in 10 10000 100000; do
	mkdir -p "$T/spool$n"
	(cd "$T/spool$n" && seq 1 "$n" | xargs touch)
	echo "held$n.example spool=$T/spool$n" >> "$T/spool.rules"
	printf 'EHLO bench.example\r\nETRN held%s.example\r\nQUIT\r\n' "$n" > "$T/held$n.in"
done
"$BIN/etrnd-rules" "$T/spool.rules" "$T/spool.cdb" >/dev/null
for n in 10 10000 100000; do
	"$BB/sessions" "$ROUNDS" "$PER" "$T/held$n.in" \
		"spool-$n" "$BIN/etrnd" -n mx.bench -d "$T/spool.cdb" -q "$S/q" >> "$T/spool.txt"
done
sbase=$(awk '$1 == "spool-10" { print $2 }' "$T/spool.txt")
r "| files in spool= | reply | session median us | ratio to 10 files |"
r "|---|---|---|---|"
while read -r name med _; do
	n=${name#spool-}
	reply=$(printf 'ETRN held%s.example\r\n' "$n" | "$BIN/etrnd" -n b -d "$T/spool.cdb" -q "$S/q" 2>/dev/null | sed -n 2p | cut -c1-3)
	r "| $n | $reply | $med | $(ratio "$med" "$sbase") |"
done < "$T/spool.txt"
r ""
r "Counting stops at 10,001 files (252), so a spool's size beyond that costs nothing more."
r ""

# -- 4. over TCP --------------------------------------------------------------
P1=$(free_port)
tcpserver -q -R -H -l mx.bench -c 64 127.0.0.1 "$P1" $E -q "$S/q" 2>/dev/null & PIDS="$PIDS $!"
P2=$(free_port)
tcpserver -q -R -H -l mx.bench -c 64 127.0.0.1 "$P2" "$BB/floor" 2>/dev/null & PIDS="$PIDS $!"
sleep 0.5
tcp_e=0; tcp_f=0
for round in 1 2 3; do
	read -r s _ < <("$BB/tcpload" "$P2" 2 4 "$T/known.in"); tcp_f=$((tcp_f + s))
	read -r s _ < <("$BB/tcpload" "$P1" 2 4 "$T/known.in"); tcp_e=$((tcp_e + s))
done
r "## 4. Over TCP (tcpserver on 127.0.0.1, 4 concurrent clients, 3 x 2 s interleaved)"
r ""
r "| program | sessions/s | ratio to floor |"
r "|---|---|---|"
r "| floor | $((tcp_f / 3)) | 1.00 |"
r "| etrnd (session A, tmpfs queue) | $((tcp_e / 3)) | $(ratio "$tcp_e" "$tcp_f") |"
r ""

# -- 5. runner ------------------------------------------------------------------
mkq "$T/rq"
"$BIN/etrnd-runner" -q "$T/rq" -d "$T/etrn.cdb" -r 3600 2>/dev/null & RP=$!; PIDS="$PIDS $RP"
sleep 0.5
read -r lat_med lat_p99 lat_max < <("$BB/latency" "$T/rq" "$T/stamps" 200)
# flood: 1,000 ETRNs for one node while its 50 ms command runs
FL=$T/flood.log
kill "$RP"; wait "$RP" 2>/dev/null || true
"$BIN/etrnd-runner" -q "$T/rq" -d "$T/etrn.cdb" -r 3600 2>"$FL" & RP=$!; PIDS="$PIDS $RP"
sleep 0.3
script=$(for i in $(seq 1 31); do printf 'ETRN flood.example\r\n'; done)
for s in $(seq 1 32); do
	printf '%s\r\nQUIT\r\n' "$script" | $E -q "$T/rq" >/dev/null 2>&1 &
done
wait_jobs() { local j; for j in $(jobs -p); do case " $PIDS " in *" $j "*) ;; *) wait "$j" || true;; esac; done; }
wait_jobs
sleep 1
flood_runs=$(grep -c 'run node=flood.example' "$FL" || true)
kill "$RP"; wait "$RP" 2>/dev/null || true
# 10,000 triggers with /bin/true
mkq "$T/tq"
for b in $(seq 0 312); do
	for i in $(seq 1 32); do n=$((b * 32 + i)); [ $n -le 10000 ] && printf 'ETRN n%d.bench.example\r\n' $n; done
	printf 'QUIT\r\n'
done > "$T/tq.in"
awk 'BEGIN { RS = "QUIT\r\n" } { printf "%s", $0 "QUIT\r\n" > ("'"$T"'/tq." NR ".in") }' "$T/tq.in"
for f in "$T"/tq.*.in; do $E -q "$T/tq" < "$f" >/dev/null 2>&1; done
queued=$(ls "$T/tq/new" | wc -l)
cp -a "$T/tq" "$T/tq2"
t0=$(date +%s.%N); "$BIN/etrnd-runner" -1 -j 1 -q "$T/tq" -d "$T/etrn.cdb" 2>/dev/null; t1=$(date +%s.%N)
t2=$(date +%s.%N); "$BIN/etrnd-runner" -1 -j 2 -q "$T/tq2" -d "$T/etrn.cdb" 2>/dev/null; t3=$(date +%s.%N)
thr1=$(awk -v a="$t0" -v b="$t1" -v n="$queued" 'BEGIN { printf "%.0f", n / (b - a) }')
thr2=$(awk -v a="$t2" -v b="$t3" -v n="$queued" 'BEGIN { printf "%.0f", n / (b - a) }')
r "## 5. Runner"
r ""
r "| measure | result |"
r "|---|---|"
r "| trigger in new/ + FIFO byte -> command's first instruction, 200 runs | median $lat_med ms, p99 $lat_p99 ms, max $lat_max ms |"
r "| $queued triggers, command /bin/true, -j 1 | $thr1 runs/s |"
r "| $queued triggers, command /bin/true, -j 2 | $thr2 runs/s |"
r "| 992 ETRNs for one node in 32 concurrent sessions, 50 ms command | $flood_runs runs started |"
r ""

# -- targets ----------------------------------------------------------------
med() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
r "## Targets"
r ""
r "| target | measured | met |"
r "|---|---|---|"
met() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v <= lim ? "yes" : "no") }'; }
w_tmp=$(ratio "$(med etrnd-tmpfs "$T/known.txt")" "$floor_k")
w_disk=$(ratio "$(med etrnd-disk "$T/known.txt")" "$floor_k")
w_unk=$(ratio "$(med etrnd "$T/unknown.txt")" "$floor_u")
r "| wall per session <= 1.3x floor (A, tmpfs) | ${w_tmp}x | $(met "$w_tmp" 1.3) |"
r "| wall per session <= 1.3x floor (B) | ${w_unk}x | $(met "$w_unk" 1.3) |"
r "| wall per session <= 1.3x floor (A, on disk, with fsync) | ${w_disk}x | $(met "$w_disk" 1.3) |"
i_r=$(ratio "$ins_known" "$ins_floor")
r "| instructions <= 2x floor | ${i_r}x | $(met "$i_r" 2) |"
r "| peak RSS < 2 MiB | $rss_known KiB | $(met "$rss_known" 2047) |"
s_r=$(ratio "$(med rules-1000000 "$T/rules.txt")" "$base")
r "| 1,000,000 rules within 1.1x of 10 | ${s_r}x | $(met "$s_r" 1.1) |"
r "| runner latency < 10 ms | median $lat_med ms, p99 $lat_p99 ms | $(met "$lat_p99" 10) |"
r ""
r "Reproduce: \`make bench\` (BENCH_ROUNDS and BENCH_PER set the sample size)."
cp "$REPORT" "$OUT"
echo "bench: wrote $OUT"
