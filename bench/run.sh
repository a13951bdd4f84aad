#!/bin/bash
# SPDX-License-Identifier: ISC
# make bench: every figure of BENCHMARKS.md from one run, as ratios measured
# in the same run (the machines are shared and noisy; absolute times drift):
# the commands compared take turns session by session in one bench/sessions
# call, and each figure comes with its p10 and p90, or with the spread of
# its ratio over the rounds. Loopback only. The issue 12 targets are
# printed at the end, each with its figure and "met" or "not met".
#
# Builds (make bench makes them): the default one (bin/), STATIC=1
# (build/static/bin, its floor linked the same way: static-pie) and, for
# comparison only, TLS=no (build/notls/bin: what a plain session would cost
# if libtls were loaded only for TLS) and STATIC=1 TLS=no
# (build/static-notls/bin).
#
# etrnd runs as it is deployed, as an unprivileged user (tcpserver -u):
# when this runs as root, the sessions run as nobody (setpriv), except the
# MTA comparison, where every program (etrnd with -u nobody) is started as
# root, as inetd starts "-bs" servers.
set -euo pipefail
cd "$(dirname "$0")/.."
# the end-to-end tests' helpers, for the MTAs (they set ROOT, BIN, PIDS)
. tests/e2e/lib.sh
ROOT=$PWD
. tests/e2e/postfix-lib.sh
. bench/mta.sh
BIN=$ROOT/bin
SBIN=$ROOT/build/static/bin
NBIN=$ROOT/build/static-notls/bin
DBIN=$ROOT/build/notls/bin
BB=$ROOT/build/bench
FLOOR=$BB/floor
SFLOOR=$ROOT/build/static/bench/floor
ROUNDS=${BENCH_ROUNDS:-20}
PER=${BENCH_PER:-25}
for p in "$BIN/etrnd" "$SBIN/etrnd" "$NBIN/etrnd" "$DBIN/etrnd" "$FLOOR" "$SFLOOR" "$BB/sessions" "$BB/waitfor"; do
	[ -x "$p" ] || {
		echo "bench: $p is missing: run make bench" >&2
		exit 1
	}
done
T=$(mktemp -d /var/tmp/etrnd-bench.XXXXXX) # on disk
S=$(mktemp -d /dev/shm/etrnd-bench.XXXXXX) # tmpfs
chmod 755 "$T" "$S"
# The programs run from copies made as make install makes them (install(1)
# writes a file with write(2)), not from the files the linker wrote: the
# page cache can hold a freshly linked file in small pieces, and its
# sessions then take more page faults (here: the static etrnd 2 more and
# about 50 us, its floor 2 more and about 30 us). The floors are copied
# alike. Where a copy's pages landed is that copy's luck, too: six copies
# of one static etrnd differed by up to 40 us a session (3%). So the
# sessions of each program take COPIES copies in turn (bench/sessions'
# copy=), and a ratio compares programs, not two copies' luck.
COPIES=4
installed() { # installed FILE...: copies them into $T/inst/N/ and N/2..COPIES/
	local d i
	d=$T/inst/$(($(find "$T/inst" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) + 1))
	for ((i = 1; i <= COPIES; i++)); do
		mkdir -p "$d/$i"
		install -m 755 "$@" "$d/$i/"
	done
	echo "$d/1"
}
# copies PATH: the copy= options for PATH's other copies (one per line)
copies() {
	local i
	for ((i = 2; i <= COPIES; i++)); do echo "copy=${1%/*/*}/$i/${1##*/}"; done
}
BIN=$(installed "$BIN"/*)
SBIN=$(installed "$SBIN"/*)
NBIN=$(installed "$NBIN"/*)
DBIN=$(installed "$DBIN"/*)
FLOOR=$(installed "$FLOOR")/floor
SFLOOR=$(installed "$SFLOOR")/floor
mapfile -t CF < <(copies "$FLOOR")
mapfile -t CSF < <(copies "$SFLOOR")
mapfile -t CE < <(copies "$BIN/etrnd")
mapfile -t CS < <(copies "$SBIN/etrnd")
mapfile -t CN < <(copies "$NBIN/etrnd")
mapfile -t CD < <(copies "$DBIN/etrnd")
PIDS=""
PF_DIRS=""
cleanup() {
	if [ -n "${PF_DIRS:-}" ]; then pf_stop_all || true; fi
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T" "$S"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
OUT=$ROOT/BENCHMARKS.md
REPORT=$T/report.md
TARGETS=$T/targets.md
r() { echo "$*" | tee -a "$REPORT"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
WAITFOR=$BB/waitfor

# As whom the sessions run.
if [ "$(id -u)" -eq 0 ]; then
	OWN=nobody
	AS=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups --)
else
	OWN=$(id -un)
	AS=()
fi
own() { chown -R "$OWN" "$@" 2>/dev/null || true; }
# mkq DIR: a queue for etrnd as the session user; mkq DIR root: one for
# the runner (root, as INSTALL has it) and etrnd started by this script
mkq() {
	mkdir -p "$1/tmp" "$1/new" "$1/cur"
	[ "${2:-}" = root ] || own "$1"
}

# -- figures ------------------------------------------------------------------
# A sessions output line: NAME median p10 p90 n failures round1 round2 ...
col() { awk -v k="$1" -v c="$2" '$1 == k { print $c }' "$3"; }
med() { col "$1" 2 "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# per_round FILE ratio A B        -> "p10 median p90" of A/B over the rounds
# per_round FILE premium A B C D  -> the same of (A-B)/(C-D)
per_round() {
	awk -v mode="$2" -v a="$3" -v b="$4" -v c="${5:-}" -v d="${6:-}" '
	{ for (i = 7; i <= NF; i++) v[$1, i - 6] = $i; n[$1] = NF - 6 }
	END {
		k = n[a]
		for (i = 1; i <= k; i++) {
			if (mode == "ratio")
				x[i] = v[b, i] > 0 ? v[a, i] / v[b, i] : 0
			else
				x[i] = v[c, i] - v[d, i] != 0 ? (v[a, i] - v[b, i]) / (v[c, i] - v[d, i]) : 0
		}
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
		if (k == 0) { print "0 0 0"; exit }
		printf "%.2f %.2f %.2f\n", x[int(0.1 * (k - 1) + 0.5) + 1], x[int(0.5 * (k - 1) + 0.5) + 1],
			x[int(0.9 * (k - 1) + 0.5) + 1]
	}' "$1"
}
# verdict VALUE LIMIT [min]: "met" when VALUE <= LIMIT (>= with min)
verdict() {
	awk -v v="$1" -v l="$2" -v m="${3:-max}" \
		'BEGIN { ok = m == "min" ? v >= l : v <= l; print (ok ? "met" : "not met") }'
}
# target TEXT FIGURE VERDICT: one line of the targets table, and on stdout
target() {
	echo "| $1 | $2 | $3 |" >>"$TARGETS"
	printf 'bench: target %s: %s: %s\n' "$1" "$2" "$3" >&2
}
# table FILE REF [EXTRA LABEL]: the sessions of FILE, wall and CPU, with
# ratios to REF's medians; EXTRA names a function giving one more column
# (LABEL) per program
table() {
	local f=$1 ref=$2 extra=${3:-} label=${4:-} rm rc
	rm=$(med "$ref" "$f")
	rc=$(med "$ref.cpu" "$f")
	r "| program | median us | p10 us | p90 us | ratio to $ref | CPU median us | CPU ratio | failures |${extra:+ $label |}"
	r "|---|---|---|---|---|---|---|---|${extra:+---|}"
	while read -r name m p10 p90 n fail _; do
		case $name in *.cpu) continue ;; esac
		local c
		c=$(med "$name.cpu" "$f")
		r "| $name | $m | $p10 | $p90 | $(ratio "$m" "$rm") | $c | $(ratio "$c" "$rc") | $fail/$n |${extra:+ $("$extra" "$name") |}"
	done <"$f"
}
sessions() { "${AS[@]}" "$BB/sessions" "$ROUNDS" "$PER" "$@"; }

# -- the rules, the queues, the scripts ----------------------------------------
mkq "$T/q"
mkq "$S/q"
mkdir -p "$T/fl" && own "$T/fl"
for n in 10 10000 100000; do
	for where in "$T" "$S"; do
		mkdir -p "$where/spool$n"
		(cd "$where/spool$n" && seq 1 "$n" | xargs touch)
	done
done
cat >"$T/etrn.rules" <<EOF
client.example.net
pend.example.net
@example.org
held10.example spool=$T/spool10
held10000.example spool=$T/spool10000
held100000.example spool=$T/spool100000
shm10.example spool=$S/spool10
shm10000.example spool=$S/spool10000
lat.example run="$BB/stamp $T/stamps"
flood.example run="/bin/sleep 0.05"
@bench.example run="/bin/true"
EOF
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
script() { printf 'EHLO bench.example\r\nETRN %s\r\nQUIT\r\n' "$1" >"$T/$2.in"; }
script client.example.net known
script unknown.example.com unknown
script pend.example.net pending
for n in 10 10000 100000; do script "held$n.example" "held$n"; done
script shm10.example shm10
script shm10000.example shm10000
# a trigger pending for pend.example.net, in each queue, for good
for q in "$T/q" "$S/q"; do
	"${AS[@]}" "$BIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$q" <"$T/pending.in" >/dev/null 2>&1
	[ -f "$q/new/pend.example.net" ] || {
		echo "bench: no pending trigger in $q" >&2
		exit 1
	}
done
EA=(-n mx.bench -l stderr -d "$T/etrn.cdb")
NEWS=$S/q/new/client.example.net
NEWT=$T/q/new/client.example.net

: >"$REPORT"
: >"$TARGETS"
LOAD0=$(load)
r "# etrnd benchmarks"
r ""
r "Produced by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,"
r "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r),"
r "$(gcc --version | head -1), $(ldd --version | head -1 | sed 's/^ldd //')."
r "The machine is shared: its load average (1, 5, 15 min) was $LOAD0 at the start;"
r "each section gives its own. Sessions: $ROUNDS rounds x $PER sessions of each program,"
r "the programs taking turns session by session; times are medians with p10 and p90;"
r "ratios are what to compare, and per-round ratios show how steady they are."
r "Sessions run as $OWN (etrnd as deployed, under a launcher's -u), except in section 6."
r "Every program and floor runs from copies made with install(1), as make install makes"
r "them, not from the file the linker wrote (the page cache can hold that one in small"
r "pieces, which costs a static session 2 page faults more); its sessions take $COPIES such"
r "copies in turn, since where one copy's pages landed moves its sessions by up to 3%."
r ""

# -- 1. per session, CPU: the queue on tmpfs -------------------------------------
L=$(load)
sessions "$T/known.in" \
	floor "${CF[@]}" "$FLOOR" :: \
	etrnd pre="$NEWS" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	etrnd-pending in="$T/pending.in" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	etrnd-unknown in="$T/unknown.in" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	notls-etrnd pre="$NEWS" "${CD[@]}" "$DBIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	static-floor "${CSF[@]}" "$SFLOOR" :: \
	static-etrnd pre="$NEWS" "${CS[@]}" "$SBIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	static-etrnd-unknown in="$T/unknown.in" "${CS[@]}" "$SBIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	static-notls-etrnd pre="$NEWS" "${CN[@]}" "$NBIN/etrnd" "${EA[@]}" -q "$S/q" :: >"$T/cpu.txt"
# A page fault's weight, in a run of its own: the session that follows one
# which wrote 100 pages pays for part of that (a static etrnd session 2.5%
# more), so the heavy floor is kept apart from the programs compared.
sessions "$T/known.in" \
	static-floor "${CSF[@]}" "$SFLOOR" :: \
	static-floor-100faults "${CSF[@]}" "$SFLOOR" -p 100 :: >"$T/weigh.txt"
# the page faults of one session of each (GNU time's minor faults)
faults() { # faults NAME INPUT CMD...
	local name=$1 in=$2
	shift 2
	rm -f "$NEWS"
	echo "$name $("${AS[@]}" /usr/bin/time -f %R "$@" <"$in" 2>&1 >/dev/null | tail -1)" >>"$T/faults.txt"
}
: >"$T/faults.txt"
faults floor "$T/known.in" "$FLOOR"
faults etrnd "$T/known.in" "$BIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q"
faults etrnd-pending "$T/pending.in" "$BIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q"
faults etrnd-unknown "$T/unknown.in" "$BIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q"
faults notls-etrnd "$T/known.in" "$DBIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q"
faults static-floor "$T/known.in" "$SFLOOR"
faults static-etrnd "$T/known.in" "$SBIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q"
faults static-etrnd-unknown "$T/unknown.in" "$SBIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q"
faults static-notls-etrnd "$T/known.in" "$NBIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q"
flt() { awk -v k="$1" '$1 == k { print $2 }' "$T/faults.txt"; }
r "## 1. Per session: spawn, session, exit (queue on tmpfs)"
r ""
r "Load average before: $L. Session A: EHLO, ETRN client.example.net (rule found, a new"
r "trigger written: the one left by the previous session is removed first, untimed), QUIT."
r "pending: the same for a node whose trigger is in new/ already (nothing written). unknown:"
r "ETRN unknown.example.com (458). floor: bench/floor, fixed replies (fork + exec + read +"
r "write). static-: \`make STATIC=1\` (static-pie) and its floor, linked the same way;"
r "etrnd links no TLS library in any build (etrnd-tlsproxy does TLS for it), so these"
r "differ from the TLS=no builds only in what TLS=no leaves out of etrnd's own code."
r "notls-, static-notls-: TLS=no, STATIC=1 TLS=no, for comparison (libtls, libssl and"
r "libcrypto not linked). Faults: GNU time's minor page faults of one session."
r ""
table "$T/cpu.txt" floor flt faults
r ""
read -r d10 dmed d90 < <(per_round "$T/cpu.txt" ratio etrnd floor)
read -r s10 smed s90 < <(per_round "$T/cpu.txt" ratio static-etrnd static-floor)
read -r n10 nmed n90 < <(per_round "$T/cpu.txt" ratio static-notls-etrnd static-floor)
read -r o10 omed o90 < <(per_round "$T/cpu.txt" ratio notls-etrnd floor)
fault_us=$(awk -v a="$(med static-floor-100faults.cpu "$T/weigh.txt")" \
	-v b="$(med static-floor.cpu "$T/weigh.txt")" 'BEGIN { printf "%.1f", (a - b) / 100 }')
share() { # share PROGRAM FLOOR: how much of PROGRAM's CPU gap to FLOOR its extra faults explain
	awk -v fa="$(flt "$1")" -v fb="$(flt "$2")" -v u="$fault_us" -v a="$(med "$1.cpu" "$T/cpu.txt")" \
		-v b="$(med "$2.cpu" "$T/cpu.txt")" 'BEGIN { x = (fa - fb) * u; g = a - b
		printf "%d faults more: %.0f us of a %.0f us CPU gap", fa - fb, x, g }'
}
r "Ratio per round (p10 / median / p90): default etrnd to the floor $d10 / $dmed / $d90;"
r "static etrnd to the static floor $s10 / $smed / $s90; TLS=no etrnd to the floor $o10 /"
r "$omed / $o90; static TLS=no etrnd to the static floor $n10 / $nmed / $n90."
r ""
read -r c10 cmed c90 < <(per_round "$T/cpu.txt" ratio etrnd.cpu floor.cpu)
read -r e10 emed e90 < <(per_round "$T/cpu.txt" ratio static-etrnd.cpu static-floor.cpu)
r "CPU time per round: default etrnd to the floor $c10 / $cmed / $c90; static etrnd to the"
r "static floor $e10 / $emed / $e90. CPU time is what a session cost, without the time it"
r "waited for a CPU: on a busy machine the wall ratios understate the difference."
r ""
r "A page fault costs $fault_us us of CPU here: the static floor writing to 100 fresh pages"
r "first, less the static floor, / 100 (CPU medians of a run of the two alone, as the session"
r "after one that wrote 100 pages pays for part of them)."
r "Against its floor: default etrnd $(share etrnd floor); TLS=no etrnd $(share notls-etrnd floor);"
r "static etrnd $(share static-etrnd static-floor); static TLS=no etrnd"
r "$(share static-notls-etrnd static-floor)."
r ""
target "default build: wall per session (A) <= 1.2x the dynamic floor" \
	"${dmed}x (rounds p10 ${d10}x, p90 ${d90}x; CPU ${cmed}x)" "$(verdict "$dmed" 1.2)"
target "static build: wall per session (A, queue on tmpfs) <= 1.1x the static floor" \
	"${smed}x (rounds p10 ${s10}x, p90 ${s90}x; CPU ${emed}x)" "$(verdict "$smed" 1.1)"
target "(comparison, TLS=no) the same <= 1.2x the dynamic floor" \
	"${omed}x (rounds p10 ${o10}x, p90 ${o90}x)" "$(verdict "$omed" 1.2)"
target "(comparison, STATIC=1 TLS=no) the same <= 1.1x the static floor" \
	"${nmed}x (rounds p10 ${n10}x, p90 ${n90}x)" "$(verdict "$nmed" 1.1)"

# -- 2. instructions ------------------------------------------------------------
CG=$T/cg
mkdir -p "$CG" && own "$CG"
# cg NAME INPUT CMD...: callgrind's count of one session; the profile in $CG/NAME
cg() {
	local name=$1 in=$2
	shift 2
	rm -f "$NEWS"
	"${AS[@]}" valgrind --tool=callgrind --callgrind-out-file="$CG/$name" "$@" <"$in" 2>&1 >/dev/null |
		awk '/Collected/ { print $4 }'
}
L=$(load)
i_floor=$(cg floor "$T/known.in" "$FLOOR")
i_sfloor=$(cg static-floor "$T/known.in" "$SFLOOR")
i_dyn=$(cg etrnd "$T/known.in" "$BIN/etrnd" "${EA[@]}" -q "$S/q")
i_dynu=$(cg etrnd-unknown "$T/unknown.in" "$BIN/etrnd" "${EA[@]}" -q "$S/q")
i_st=$(cg static-etrnd "$T/known.in" "$SBIN/etrnd" "${EA[@]}" -q "$S/q")
i_stu=$(cg static-etrnd-unknown "$T/unknown.in" "$SBIN/etrnd" "${EA[@]}" -q "$S/q")
i_nt=$(cg static-notls-etrnd "$T/known.in" "$NBIN/etrnd" "${EA[@]}" -q "$S/q")
i_dn=$(cg notls-etrnd "$T/known.in" "$DBIN/etrnd" "${EA[@]}" -q "$S/q")
rss() { "${AS[@]}" /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
rm -f "$NEWS"
rss_floor=$(rss "$FLOOR" <"$T/known.in")
rss_dyn=$(rss "$BIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q" <"$T/known.in")
rm -f "$NEWS"
rss_st=$(rss "$SBIN/etrnd" -n mx.bench -d "$T/etrn.cdb" -q "$S/q" <"$T/known.in")
r "## 2. Instructions per session (callgrind) and peak RSS (GNU time)"
r ""
r "Load average before: $L (instruction counts do not depend on it)."
r ""
r "| program | session | instructions | ratio to its floor | peak RSS KiB |"
r "|---|---|---|---|---|"
r "| floor | A | $i_floor | 1.00 | $rss_floor |"
r "| etrnd | A | $i_dyn | $(ratio "$i_dyn" "$i_floor") | $rss_dyn |"
r "| etrnd | unknown | $i_dynu | $(ratio "$i_dynu" "$i_floor") | |"
r "| notls-etrnd | A | $i_dn | $(ratio "$i_dn" "$i_floor") | |"
r "| static-floor | A | $i_sfloor | 1.00 | |"
r "| static-etrnd | A | $i_st | $(ratio "$i_st" "$i_sfloor") | $rss_st |"
r "| static-etrnd | unknown | $i_stu | $(ratio "$i_stu" "$i_sfloor") | |"
r "| static-notls-etrnd | A | $i_nt | $(ratio "$i_nt" "$i_sfloor") | |"
r ""
i_r=$(ratio "$i_st" "$i_sfloor")
target "static build: instructions per session (A) <= 2x the static floor" \
	"${i_r}x ($i_st / $i_sfloor)" "$(verdict "$i_r" 2)"
i_n=$(ratio "$i_nt" "$i_sfloor")
target "(comparison, STATIC=1 TLS=no) the same <= 2x the static floor" \
	"${i_n}x ($i_nt / $i_sfloor)" "$(verdict "$i_n" 2)"

# where NAME: what one session's instructions go to, from its callgrind
# profile. callgrind_annotate's lines are normalised to "COUNT PCT
# FILE:FUNCTION" first (its percentages are padded with blanks).
where() {
	local f=$CG/$1 total main reloc ldso
	norm() { sed -nE 's/^ *([0-9,]+) +\( *([0-9.]+)%\) +([^ ]+).*/\1 \2 \3/p' | tr -d ,; }
	callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null | norm >"$f.incl"
	callgrind_annotate --threshold=100 "$f" 2>/dev/null | norm >"$f.self"
	total=$(awk '$3 == "PROGRAM" { print $1; exit }' "$f.incl")
	pick() { awk -v re="$1" '$3 ~ re { print $1; exit }' "$f.incl"; }
	main=$(pick 'src/etrnd[.]c:main$')
	reloc=$(pick ':_dl_relocate_static_pie$')
	ldso=$(pick 'rtld[.]c:_dl_start$')
	pct() { awk -v a="${1:-0}" -v t="$total" 'BEGIN { printf "%.1f%%", 100 * a / t }'; }
	r "| part | instructions | share |"
	r "|---|---|---|"
	r "| the whole session | $total | 100% |"
	if [ -n "$reloc" ]; then
		r "| before main: relocating the static-pie image (_dl_relocate_static_pie) | $reloc | $(pct "$reloc") |"
	fi
	if [ -n "$ldso" ]; then
		r "| before main: the dynamic loader (_dl_start: loading, relocating, binding) | $ldso | $(pct "$ldso") |"
	fi
	local rest=$((total - ${main:-0} - ${reloc:-0} - ${ldso:-0}))
	r "| the rest of libc's start and exit (tunables, CPU features, IRELATIVE, stdio) | $rest | $(pct "$rest") |"
	r "| main(): etrnd's own work, the libc calls it makes included | ${main:-0} | $(pct "${main:-0}") |"
	r ""
	r "Inside main(), callgrind's top entries in etrnd's own code (inclusive: with what they call):"
	r ""
	r "| function | instructions | share |"
	r "|---|---|---|"
	awk -v root="$ROOT/" '{ f = $3; if (index(f, root) == 1) f = substr(f, length(root) + 1) }
		f ~ /^src\// && f !~ /^src\/etrnd[.]c:main$/ && !seen[f]++ && shown++ < 15 {
			printf "| %s | %s | %s%% |\n", f, $1, $2 }' "$f.incl" | tee -a "$REPORT"
	r ""
	r "callgrind's top entries by their own instructions (without what they call):"
	r ""
	r "| function | instructions | share |"
	r "|---|---|---|"
	awk -v root="$ROOT/" '$3 != "PROGRAM" && shown++ < 12 { f = $3; sub(/^[?][?][?]:/, "", f)
		if (index(f, root) == 1) f = substr(f, length(root) + 1); else sub(/^\/.*\//, "", f)
		printf "| %s | %s | %s%% |\n", f, $1, $2 }' "$f.self" | tee -a "$REPORT"
	r ""
}
r "### Where the instructions go: the static build, session A"
r ""
where static-etrnd
r "### The default build, session A"
r ""
where etrnd
r "### STATIC=1 TLS=no, session A (for comparison)"
r ""
where static-notls-etrnd
{
	echo "Profiles: valgrind --tool=callgrind --callgrind-out-file=F PROGRAM ARGS < INPUT, then"
	echo "callgrind_annotate --inclusive=yes F (and without --inclusive for the own counts)."
	echo "callgrind counts each iteration of a string instruction (rep stosb: memset of a large"
	echo "buffer) as one instruction: a zeroed 16 KiB buffer counts 16,000 where the CPU takes a"
	echo "few hundred cycles."
	echo ""
} | tee -a "$REPORT"

# -- 3. on disk: what durability costs ---------------------------------------------
L=$(load)
sessions "$T/known.in" \
	floor "${CF[@]}" "$FLOOR" :: \
	floor-fsync pre="$T/fl/floor" "${CF[@]}" "$FLOOR" "$T/fl" :: \
	etrnd-tmpfs pre="$NEWS" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	etrnd-disk pre="$NEWT" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$T/q" :: \
	etrnd-disk-pending in="$T/pending.in" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$T/q" :: \
	etrnd-disk-unknown in="$T/unknown.in" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$T/q" :: >"$T/disk.txt"
# the system calls: fsyncs of a new trigger and of a pending node
rm -f "$NEWT"
strace -f -qq -c -o "$T/strace-new" -e trace=fsync,fdatasync,sync,syncfs,sync_file_range \
	"${AS[@]}" "$BIN/etrnd" "${EA[@]}" -q "$T/q" <"$T/known.in" >/dev/null 2>&1
strace -f -qq -c -o "$T/strace-pend" -e trace=fsync,fdatasync,sync,syncfs,sync_file_range \
	"${AS[@]}" "$BIN/etrnd" "${EA[@]}" -q "$T/q" <"$T/pending.in" >/dev/null 2>&1
syncs() { awk '$NF ~ /sync/ && $4 ~ /^[0-9]+$/ { n += $4 } END { print n + 0 }' "$1"; }
fs_new=$(syncs "$T/strace-new")
fs_pend=$(syncs "$T/strace-pend")
DISK=$(df --output=fstype "$T" | tail -1)
r "## 3. On disk ($DISK under /var/tmp): what durability costs"
r ""
r "Load average before: $L. floor-fsync: the floor that also creates a file in a directory on"
r "the same disk and fsyncs the directory before its ETRN reply (the file removed between"
r "sessions, untimed): the floor plus one measured fsync. etrnd-disk writes a new trigger"
r "each session (the previous one removed first, untimed); etrnd-disk-pending asks for a"
r "node whose trigger is pending; etrnd-disk-unknown is answered 458."
r ""
table "$T/disk.txt" floor
r ""
read -r p10 pmed p90 < <(per_round "$T/disk.txt" premium etrnd-disk etrnd-tmpfs floor-fsync floor)
read -r q10 qmed q90 < <(per_round "$T/disk.txt" ratio etrnd-disk-pending etrnd-disk-unknown)
fsync_us=$(awk -v a="$(med floor-fsync "$T/disk.txt")" -v b="$(med floor "$T/disk.txt")" 'BEGIN { printf "%.0f", a - b }')
prem_us=$(awk -v a="$(med etrnd-disk "$T/disk.txt")" -v b="$(med etrnd-tmpfs "$T/disk.txt")" 'BEGIN { printf "%.0f", a - b }')
r "One fsync of a directory here: $fsync_us us (floor-fsync - floor). What the disk adds to an"
r "ETRN that writes a trigger: $prem_us us (etrnd-disk - etrnd-tmpfs): per round, that over"
r "the fsync is $p10 / $pmed / $p90 (p10 / median / p90). strace counts $fs_new fsync for a"
r "new trigger and $fs_pend for a pending node. A pending node's session to an unknown"
r "node's, per round: $q10 / $qmed / $q90."
r ""
ok=$(verdict "$pmed" 1.25)
[ "$fs_new" -eq 1 ] || ok="not met"
target "on disk: a new trigger costs at most the floor plus one measured fsync" \
	"disk premium ${pmed}x one fsync (rounds p10 ${p10}x, p90 ${p90}x; $prem_us us vs $fsync_us us), $fs_new fsync (strace); met at <= 1.25x with one fsync" "$ok"
ok=$(verdict "$qmed" 1.1)
[ "$fs_pend" -eq 0 ] || ok="not met"
target "on disk: an ETRN for a pending node within 1.1x of the unknown-node session" \
	"${qmed}x (rounds p10 ${q10}x, p90 ${q90}x), $fs_pend fsync (strace)" "$ok"

# -- 4. spool counting -------------------------------------------------------------------
L=$(load)
sessions "$T/held10.in" \
	spool-10 "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	spool-10000 in="$T/held10000.in" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	spool-100000 in="$T/held100000.in" "${CE[@]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	static-spool-10 "${CS[@]}" "$SBIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	static-spool-10000 in="$T/held10000.in" "${CS[@]}" "$SBIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	static-shm-10 in="$T/shm10.in" "${CS[@]}" "$SBIN/etrnd" "${EA[@]}" -q "$S/q" :: \
	static-shm-10000 in="$T/shm10000.in" "${CS[@]}" "$SBIN/etrnd" "${EA[@]}" -q "$S/q" :: >"$T/spool.txt"
"${AS[@]}" "$BB/spoolscan" 200 "$T/spool10" "$T/spool10000" "$T/spool100000" "$S/spool10" \
	"$S/spool10000" >"$T/scan.txt"
reply() { "${AS[@]}" "$BIN/etrnd" -n b -d "$T/etrn.cdb" -q "$S/q" <"$T/$1.in" 2>/dev/null | tr -d '\r' | grep ' node ' | cut -c1-3; }
r "## 4. Spool counting ($DISK and tmpfs)"
r ""
r "Load average before: $L. spool=DIR with N files (a plain directory on $DISK under /var/tmp,"
r "shm-: on tmpfs); the count stops at 10,001 files (252), so 100,000 cost what 10,001 do."
r "Replies: 10: $(reply held10); 10,000: $(reply held10000); 100,000: $(reply held100000)."
r ""
table "$T/spool.txt" spool-10
r ""
read -r sp10 spmed sp90 < <(per_round "$T/spool.txt" ratio spool-10000 spool-10)
read -r ss10 ssmed ss90 < <(per_round "$T/spool.txt" ratio static-spool-10000 static-spool-10)
read -r sh10 shmed sh90 < <(per_round "$T/spool.txt" ratio static-shm-10000 static-shm-10)
r "10,000 files to 10, per round (p10 / median / p90): default build $sp10 / $spmed / $sp90;"
r "static build $ss10 / $ssmed / $ss90; static build, spool on tmpfs $sh10 / $shmed / $sh90."
r ""
r "The count alone (bench/spoolscan: etrnd's spool_count() in a loop, 200 times each, the"
r "directories taking turns; user and system time from getrusage over all of them):"
r ""
r "| spool | count | median us | p10 us | p90 us | user us | system us |"
r "|---|---|---|---|---|---|---|"
while read -r dir n m p10 p90 u s; do
	r "| $(echo "$dir" | sed "s|^$T/||; s|^$S/|tmpfs:|") | $n | $m | $p10 | $p90 | $u | $s |"
done <"$T/scan.txt"
r ""
c10=$(awk -v d="$T/spool10" '$1 == d { print $3 }' "$T/scan.txt")
c10k=$(awk -v d="$T/spool10000" '$1 == d { print $3 }' "$T/scan.txt")
sys10k=$(awk -v d="$T/spool10000" '$1 == d { print $7 }' "$T/scan.txt")
best=$(awk -v s="$(med static-spool-10 "$T/spool.txt")" -v a="$c10" -v b="$c10k" 'BEGIN { printf "%.2f", (s + b - a) / s }')
r "Counting 10,000 files costs $c10k us here, $sys10k us of it in the kernel (ext4's readdir:"
r "getdents64 fills 64 KiB at a time; etrnd looks at the name and d_type of each record and"
r "makes no other call). A static session with 10 files takes $(med static-spool-10 "$T/spool.txt") us, so even a"
r "count that cost nothing in user space would make 10,000 files ${best}x of 10 files."
r ""
target "spool counting: 10,000 files within 2x of 10 files (default build)" \
	"${spmed}x (rounds p10 ${sp10}x, p90 ${sp90}x)" "$(verdict "$spmed" 2)"
target "spool counting: 10,000 files within 2x of 10 files (static build)" \
	"${ssmed}x (rounds p10 ${ss10}x, p90 ${ss90}x); the kernel's readdir alone: ${best}x" "$(verdict "$ssmed" 2)"

# -- 5. over TCP --------------------------------------------------------------------------
TCPU=$(id -u "$OWN")
TCPG=$(id -g "$OWN")
tcpserve() { # tcpserve PORT CMD...: a tcpserver as the session user
	local port=$1
	shift
	tcpserver -q -R -H -l mx.bench -c 64 -u "$TCPU" -g "$TCPG" 127.0.0.1 "$port" "$@" 2>/dev/null &
	PIDS="$PIDS $!"
	"$WAITFOR" 10 port "$port" || {
		echo "bench: tcpserver on $port did not start" >&2
		exit 1
	}
}
# (tcpserver -u needs root; as another user it runs as that user anyway)
if [ "$(id -u)" -ne 0 ]; then tcpserve() {
	local port=$1
	shift
	tcpserver -q -R -H -l mx.bench -c 64 127.0.0.1 "$port" "$@" 2>/dev/null &
	PIDS="$PIDS $!"
	"$WAITFOR" 10 port "$port" || exit 1
}; fi
declare -A TP
TCP_NAMES="floor etrnd notls-etrnd static-floor static-etrnd static-notls-etrnd"
TP[floor]=$(free_port)
tcpserve "${TP[floor]}" "$FLOOR"
TP[etrnd]=$(free_port)
tcpserve "${TP[etrnd]}" "$BIN/etrnd" "${EA[@]}" -q "$S/q"
TP[notls-etrnd]=$(free_port)
tcpserve "${TP[notls-etrnd]}" "$DBIN/etrnd" "${EA[@]}" -q "$S/q"
TP[static-notls-etrnd]=$(free_port)
tcpserve "${TP[static-notls-etrnd]}" "$NBIN/etrnd" "${EA[@]}" -q "$S/q"
TP[static-floor]=$(free_port)
tcpserve "${TP[static-floor]}" "$SFLOOR"
TP[static-etrnd]=$(free_port)
tcpserve "${TP[static-etrnd]}" "$SBIN/etrnd" "${EA[@]}" -q "$S/q"

# (Postfix's smtpd, with a real ETRN, joins when section 6 has started it)
TCP_ROUNDS=${BENCH_TCP_ROUNDS:-10}
# one round: 2 s of 4 concurrent clients on each server, in turn; round R
# starts with the Rth server, so that no server always follows the same one
tcp_round() {
	local names i n
	read -r -a names <<<"$TCP_NAMES"
	n=${#names[@]}
	for ((i = 0; i < n; i++)); do
		local name=${names[$((($1 + i) % n))]}
		read -r s _ < <("$BB/tcpload" "${TP[$name]}" 2 4 "$T/known.in")
		echo "$name $1 $s" >>"$T/tcp.raw"
	done
}
L=$(load)
: >"$T/tcp.raw"

# -- 6. MTAs in their -bs modes (started now: Postfix's smtpd joins section 5) ------
MTA_ROWS=""
MTA_SKIPPED=""
if [ "$(id -u)" -eq 0 ]; then
	ns_prepare
	MTA_ARGS=()
	for mta in postfix exim sendmail; do
		"mta_$mta"
		if [ ${#MTA_CMD[@]} -gt 0 ]; then
			MTA_ARGS+=("$mta-bs" talk "${MTA_CMD[@]}" ::)
			MTA_ROWS="$MTA_ROWS $mta"
			[ -z "$MTA_NOTE" ] || echo "$mta: $MTA_NOTE" >>"$T/mta.notes"
		else
			MTA_SKIPPED="$MTA_SKIPPED$mta: not measured: $MTA_WHY. "
		fi
	done
	if [ -n "${PF_PORT:-}" ]; then
		TP[postfix-smtpd]=$PF_PORT
		TCP_NAMES="$TCP_NAMES postfix-smtpd"
	fi
fi
for round in $(seq 1 "$TCP_ROUNDS"); do tcp_round "$round"; done
awk '{ v[$1] = v[$1] " " $3 } END { for (k in v) print k v[k] }' "$T/tcp.raw" >"$T/tcp.txt"
tcp_med() { awk -v k="$1" '$1 == k { n = split($0, a, " "); for (i = 2; i <= n; i++) x[i - 1] = a[i]; m = n - 1
	for (i = 2; i <= m; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
	print x[int((m - 1) / 2 + 0.5) + 1] }' "$T/tcp.txt"; }
tcp_ratio() { # per-round ratios of A to B: p10 median p90
	awk -v a="$1" -v b="$2" '$1 == a { for (i = 2; i <= NF; i++) x[i - 1] = $i; n = NF - 1 }
		$1 == b { for (i = 2; i <= NF; i++) y[i - 1] = $i }
		END { for (i = 1; i <= n; i++) q[i] = y[i] > 0 ? x[i] / y[i] : 0
			for (i = 2; i <= n; i++) for (j = i; j > 1 && q[j - 1] > q[j]; j--) { t = q[j]; q[j] = q[j - 1]; q[j - 1] = t }
			printf "%.2f %.2f %.2f\n", q[int(0.1 * (n - 1) + 0.5) + 1], q[int(0.5 * (n - 1) + 0.5) + 1], q[int(0.9 * (n - 1) + 0.5) + 1] }' "$T/tcp.txt"
}
r "## 5. Over TCP (tcpserver on 127.0.0.1, session A)"
r ""
r "Load average before: $L. $TCP_ROUNDS rounds; in each, 2 s of 4 concurrent clients on each"
r "server in turn, each round starting one server further on (bench/tcpload sends the script"
r "and reads until the server closes). Queue on tmpfs; tcpserver -u $OWN."
r ""
r "| server | sessions/s (median of rounds) | per round |"
r "|---|---|---|"
for name in $TCP_NAMES; do
	r "| $name | $(tcp_med "$name") |$(awk -v k="$name" '$1 == k { $1 = ""; print }' "$T/tcp.txt") |"
done
r ""
read -r t10 tmed t90 < <(tcp_ratio etrnd floor)
read -r u10 umed u90 < <(tcp_ratio static-etrnd static-floor)
read -r v10 vmed v90 < <(tcp_ratio notls-etrnd floor)
read -r w10 wmed w90 < <(tcp_ratio static-notls-etrnd static-floor)
r "etrnd to the floor, per round (p10 / median / p90): default build $t10 / $tmed / $t90;"
r "static build $u10 / $umed / $u90; TLS=no $v10 / $vmed / $v90; static TLS=no $w10 / $wmed / $w90."
if [ -n "${PF_PORT:-}" ]; then
	r "postfix-smtpd is Postfix's own smtpd under its master (long-lived processes, each taking"
	r "up to 100 connections), its ETRN served by the flush service: information, not a target."
fi
r ""
target "over TCP under tcpserver: at least 0.9x the floor's sessions/s (default build)" \
	"${tmed}x (rounds p10 ${t10}x, p90 ${t90}x)" "$(verdict "$tmed" 0.9 min)"
target "over TCP under tcpserver: at least 0.9x the floor's sessions/s (static build)" \
	"${umed}x (rounds p10 ${u10}x, p90 ${u90}x)" "$(verdict "$umed" 0.9 min)"
target "(comparison, TLS=no) the same, at least 0.9x the floor" \
	"${vmed}x (rounds p10 ${v10}x, p90 ${v90}x)" "$(verdict "$vmed" 0.9 min)"
target "(comparison, STATIC=1 TLS=no) the same, at least 0.9x the static floor" \
	"${wmed}x (rounds p10 ${w10}x, p90 ${w90}x)" "$(verdict "$wmed" 0.9 min)"

L=$(load)
r "## 6. MTAs in their -bs modes (stdin/stdout, as inetd runs them)"
r ""
if [ -n "$MTA_ROWS" ]; then
	rm -f "$NEWS"
	run_in_ns "$BB/sessions" "$ROUNDS" "$PER" "$T/known.in" \
		floor talk "$FLOOR" :: \
		etrnd talk pre="$NEWS" "$BIN/etrnd" "${EA[@]}" -u nobody -q "$S/q" :: \
		static-etrnd talk pre="$NEWS" "$SBIN/etrnd" "${EA[@]}" -u nobody -q "$S/q" :: \
		"${MTA_ARGS[@]}" >"$T/mta.txt"
	r "Load average before: $L. Session A as a client speaks it (RFC 2920: it waits for the"
	r "EHLO reply, then sends ETRN and QUIT as one group; Sendmail 8.17 answers a client that"
	r "does not wait 554 5.5.0). All started as root, as inetd would: etrnd with -u nobody;"
	r "all in one mount and UTS namespace with a qualified host name (Sendmail needs one)."
	r "Each MTA unpacked from its Debian 12 package in build/ext, never installed, with its"
	r "own configuration and spool (bench/mta.sh)."
	r ""
	table "$T/mta.txt" floor
	r ""
	sed 's/^/- /' "$T/mta.notes" | tee -a "$REPORT" >/dev/null
	cat "$T/mta.notes"
else
	r "Not measured: the MTAs run as root (their -bs modes switch users), and this run is not."
fi
[ -z "$MTA_SKIPPED" ] || r "$MTA_SKIPPED"
r ""

# -- 7. runner ------------------------------------------------------------------------
L=$(load)
mkq "$T/rq" root
"$BIN/etrnd-runner" -q "$T/rq" -d "$T/etrn.cdb" -r 3600 2>/dev/null &
RP=$!
PIDS="$PIDS $RP"
"$WAITFOR" 10 fifo "$T/rq/trigger" || {
	echo "bench: the runner did not open its FIFO" >&2
	exit 1
}
read -r lat_med lat_p99 lat_max < <("$BB/latency" "$T/rq" "$T/stamps" 200)
rm -f "$T/stamps"
read -r lgap_med lgap_p99 lgap_max < <("$BB/latency" "$T/rq" "$T/stamps" 100 150)
kill "$RP"
wait "$RP" 2>/dev/null || true
# flood: 992 ETRNs for one node in 32 concurrent sessions while its 50 ms command runs
FL=$T/flood.log
"$BIN/etrnd-runner" -q "$T/rq" -d "$T/etrn.cdb" -r 3600 2>"$FL" &
RP=$!
PIDS="$PIDS $RP"
"$WAITFOR" 10 fifo "$T/rq/trigger" || exit 1
{
	for _ in $(seq 1 31); do printf 'ETRN flood.example\r\n'; done
	printf 'QUIT\r\n'
} >"$T/flood.in"
FP=""
for _ in $(seq 1 32); do
	"$BIN/etrnd" "${EA[@]}" -q "$T/rq" <"$T/flood.in" >/dev/null 2>&1 &
	FP="$FP $!"
done
for p in $FP; do wait "$p" || true; done
# every ETRN answered; the runs they asked for are over once new/ and cur/ are empty
"$WAITFOR" 60 empty "$T/rq/new" "$T/rq/cur" || {
	echo "bench: the flood's runs did not end within 60 s" >&2
	exit 1
}
flood_runs=$(grep -c 'run node=flood.example' "$FL" || true)
kill "$RP"
wait "$RP" 2>/dev/null || true
# 10,000 triggers with /bin/true
mkq "$T/tq" root
awk 'BEGIN { for (b = 0; b * 32 < 10000; b++) { f = sprintf("'"$T"'/tq.%04d.in", b)
	for (i = 1; i <= 32 && b * 32 + i <= 10000; i++) printf "ETRN n%d.bench.example\r\n", b * 32 + i > f
	printf "QUIT\r\n" > f; close(f) } }'
for f in "$T"/tq.*.in; do "$BIN/etrnd" "${EA[@]}" -q "$T/tq" <"$f" >/dev/null 2>&1; done
queued=$(find "$T/tq/new" -type f | wc -l)
cp -a "$T/tq" "$T/tq2"
t0=$(date +%s.%N)
"$BIN/etrnd-runner" -1 -j 1 -q "$T/tq" -d "$T/etrn.cdb" 2>/dev/null
t1=$(date +%s.%N)
"$BIN/etrnd-runner" -1 -j 2 -q "$T/tq2" -d "$T/etrn.cdb" 2>/dev/null
t2=$(date +%s.%N)
thr1=$(awk -v a="$t0" -v b="$t1" -v n="$queued" 'BEGIN { printf "%.0f", n / (b - a) }')
thr2=$(awk -v a="$t1" -v b="$t2" -v n="$queued" 'BEGIN { printf "%.0f", n / (b - a) }')
r "## 7. Runner"
r ""
r "Load average before: $L. Each wait is on an event: the runner's FIFO open for reading"
r "(bench/waitfor), the previous run's trigger gone from cur/ (bench/latency), new/ and cur/"
r "empty after the flood. Triggers that come back to back meet the runner's limit on"
r "rescans asked for by FIFO bytes (at most one per RUNNER_POKE_GAP_MS, 100 ms: doc/DECISIONS,"
r "Runner); spaced by 150 ms they do not."
r ""
r "| measure | result |"
r "|---|---|"
r "| trigger in new/ + FIFO byte -> command's first instruction, 200 runs back to back | median $lat_med ms, p99 $lat_p99 ms, max $lat_max ms |"
r "| the same, 100 runs, each trigger 150 ms after the previous run ended | median $lgap_med ms, p99 $lgap_p99 ms, max $lgap_max ms |"
r "| $queued triggers, command /bin/true, -j 1 | $thr1 runs/s |"
r "| $queued triggers, command /bin/true, -j 2 | $thr2 runs/s |"
r "| 992 ETRNs for one node in 32 concurrent sessions, 50 ms command | $flood_runs runs |"
r ""

# -- 8. held mail: etrnd-deliver against Postfix's flush ---------------------------------
L=$(load)
r "## 8. Held mail: etrnd-deliver against Postfix's own flush (bench/deliver.sh)"
r ""
if [ "$(id -u)" -eq 0 ]; then
	r "Load average before: $L."
	r ""
	if bash "$ROOT/bench/deliver.sh" >"$T/deliver.txt" 2>"$T/deliver.err"; then
		tee -a "$REPORT" <"$T/deliver.txt"
		sed -n 's/^deliver: .*ratio \([0-9.]*\)x, target at least 1.0x: \([a-z ]*\);.*/\1 \2/p' \
			"$T/deliver.txt" >"$T/deliver.target"
	else
		r "bench/deliver.sh failed: $(tail -3 "$T/deliver.err" | paste -sd' ')"
	fi
else
	r "Not measured: bench/deliver.sh needs root (Postfix's master, cgroups)."
fi
r ""

# -- 9. TLS ----------------------------------------------------------------------------
if [ -f "$ROOT/bench/tls.sh" ]; then
	L=$(load)
	r "## 9. TLS (bench/tls.sh)"
	r ""
	r "Load average before: $L."
	r ""
	if bash "$ROOT/bench/tls.sh" >"$T/tls.txt" 2>"$T/tls.err"; then
		tee -a "$REPORT" <"$T/tls.txt"
	else
		r "bench/tls.sh failed: $(tail -3 "$T/tls.err" | paste -sd' ')"
	fi
	r ""
fi

# -- 10. the static binaries ----------------------------------------------------------
r "## 10. Sizes of the static binaries (make STATIC=1)"
r ""
r "| program | as built (with -g) | stripped (install -s) | STATIC=1 TLS=no, stripped |"
r "|---|---|---|---|"
for p in etrnd etrnd-rules etrnd-runner etrn etrnd-store etrnd-deliver etrnd-tlsproxy; do
	strip -o "$T/stripped" "$SBIN/$p"
	nt=-
	if [ -x "$NBIN/$p" ]; then
		strip -o "$T/stripped-nt" "$NBIN/$p"
		nt=$(stat -c %s "$T/stripped-nt")
	fi
	r "| $p | $(stat -c %s "$SBIN/$p") | $(stat -c %s "$T/stripped") | $nt |"
done
r ""

# -- targets ------------------------------------------------------------------------
r "## Targets (issue 12)"
r ""
r "Rows marked (comparison) are no targets: they show the same measure for a build without"
r "TLS (make TLS=no). etrnd links no TLS library in either build (etrnd-tlsproxy does TLS)."
r ""
r "| target | measured | met |"
r "|---|---|---|"
cat "$TARGETS" >>"$REPORT"
cat "$TARGETS"
r ""
r "Load average at the end: $(load) (at the start: $LOAD0)."
r ""
r "Reproduce: \`make bench\` (BENCH_ROUNDS, BENCH_PER and BENCH_TCP_ROUNDS set the sample"
r "sizes; DELIVER_N and DELIVER_REPS those of bench/deliver.sh)."
cp "$REPORT" "$OUT"
echo "bench: wrote $OUT"
