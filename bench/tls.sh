#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/tls.sh: what TLS and AUTH cost an ETRN session, as markdown lines on
# stdout (bench/run.sh puts them in BENCHMARKS.md; it also runs alone).
#
# Sessions, each a process on a socketpair, spawn to exit, interleaved by
# round (build/bench/tlsdrive, speaking with etrn's client code):
#   tls    EHLO, STARTTLS, EHLO, AUTH PLAIN, ETRN, QUIT, one at a time
#   plain  EHLO, ETRN, QUIT in one write (pipelined)
# against the TLS floor (bench/tlsfloor.c: the handshake with the same
# libtls and fixed replies, nothing else), etrnd with TLS, etrnd without,
# and the plaintext floor (bench/floor.c); and the TLS floor in a plain
# session, which is what starting libtls and loading the key cost before
# any handshake; and etrnd -C in a plain session (no TLS library loaded:
# etrnd-tlsproxy is started only at STARTTLS). The queue is on tmpfs: the figures are the code's, not
# the disk's fsync (section 1 has that).
#
# The password hash is left out of the comparison with the floor, which
# checks no password: etrnd authenticates a login whose hash is as cheap
# as crypt(3) allows here (sha512crypt, rounds=1000, well under a
# millisecond; it stays in etrnd's figure). The hash etrnd-rules -p makes
# (yescrypt, default cost) is timed alone, on its own line, and a session
# with it is shown too; minus the hash it should come to the same.
# Target: etrnd's TLS session within 1.3x of the TLS floor.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${B:-build}
BIN=${BINDIR:-$ROOT/bin}
BB=$ROOT/$B/bench
ROUNDS=${BENCH_TLS_ROUNDS:-10}
PER=${BENCH_TLS_PER:-10}
TARGET=1.3

make --no-print-directory -s B="$B" BINDIR="$BIN" all "$B/bench/tlsfloor" "$B/bench/tlsdrive" "$B/bench/floor" >&2
T=$(mktemp -d /dev/shm/etrnd-bench-tls.XXXXXX)
trap 'rm -rf "$T"' EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

fail() { echo "bench/tls.sh: $*" >&2; exit 1; }
. tests/e2e/pki.sh
make_pki "$T" mx.bench # a throwaway CA and an ECDSA P-256 certificate

slow=$(printf 'secret\n' | "$BIN/etrnd-rules" -p) # password=HASH
slow=${slow#password=}
cheap=$("$BB/tlsdrive" crypt '$6$rounds=1000$benchsaltbench$' secret)
mkdir -p "$T/q/tmp" "$T/q/new" "$T/q/cur"
cat > "$T/etrn.rules" <<RULES
user:slow password=$slow
user:cheap password=$cheap
client.example.net users=slow,cheap
RULES
"$BIN/etrnd-rules" "$T/etrn.rules" "$T/etrn.cdb" >/dev/null
# the plaintext session may start the node without a login: its own cdb
printf 'client.example.net\n' > "$T/open.rules"
"$BIN/etrnd-rules" "$T/open.rules" "$T/open.cdb" >/dev/null

get() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$T/cheap.txt" "$T/slow.txt"; }
E=("$BIN/etrnd" -n mx.bench -l stderr -q "$T/q")
TLSOPT=(-d "$T/etrn.cdb" -C "$T/server.crt" -K "$T/server.key")
drive() { # USER PROGRAMS...
	"$BB/tlsdrive" sessions "$ROUNDS" "$PER" "$T/ca.crt" "$1" secret "${@:2}"
}
drive cheap \
	tls-floor tls "$BB/tlsfloor" "$T/server.crt" "$T/server.key" :: \
	tls-floor-start plain "$BB/tlsfloor" "$T/server.crt" "$T/server.key" :: \
	etrnd-tls tls "${E[@]}" "${TLSOPT[@]}" :: \
	etrnd-plain plain "${E[@]}" -d "$T/open.cdb" :: \
	etrnd-C-plain plain "${E[@]}" -d "$T/open.cdb" -C "$T/server.crt" -K "$T/server.key" :: \
	floor plain "$BB/floor" :: \
	hash-cheap hash "$cheap" secret > "$T/cheap.txt"
drive slow etrnd-tls-yescrypt tls "${E[@]}" "${TLSOPT[@]}" :: \
	hash-yescrypt hash "$slow" secret > "$T/slow.txt"
hash_us=$(get hash-yescrypt 2)
cheap_us=$(get hash-cheap 2)

floor_tls=$(get tls-floor 2)
floor_cpu=$(get tls-floor 5)
echo "## TLS and AUTH (bench/tls.sh)"
echo ""
echo "tls: EHLO, STARTTLS, EHLO, AUTH PLAIN, ETRN, QUIT, each after its reply; plain: EHLO,"
echo "ETRN, QUIT in one write; tls-floor-start is the TLS floor in a plain session. $ROUNDS rounds x"
echo "$PER sessions per program, spawn to exit over a socketpair, ECDSA P-256 certificate,"
echo "$(openssl version | cut -d' ' -f1-2) under libtls; the client is etrn's code (smtpc, tlsio)"
echo "and verifies the certificate. Times are medians; server CPU is the server process's own."
echo ""
echo "| program | session | login hash | median us | p10 us | p90 us | server CPU us | ratio to TLS floor | failures |"
echo "|---|---|---|---|---|---|---|---|---|"
while read -r name med p10 p90 cpu n fail; do
	case $name in
	tls-floor) sess=tls hash="none (fixed 235)" ;;
	tls-floor-start) sess=plain hash="-" ;;
	etrnd-tls) sess=tls hash="sha512crypt rounds=1000" ;;
	etrnd-tls-yescrypt) sess=tls hash="yescrypt, default cost" ;;
	etrnd-C-plain) sess="plain, -C" hash="-" ;;
	hash-*) continue ;;
	*) sess=plain hash="-" ;;
	esac
	echo "| $name | $sess | $hash | $med | $p10 | $p90 | $cpu | $(ratio "$med" "$floor_tls") | $fail/$n |"
done < <(cat "$T/cheap.txt" "$T/slow.txt")
echo ""
tls_med=$(get etrnd-tls 2)
tls_cpu=$(get etrnd-tls 5)
r=$(ratio "$tls_med" "$floor_tls")
rc=$(ratio "$tls_cpu" "$floor_cpu")
sub=$(awk -v a="$(get etrnd-tls-yescrypt 2)" -v h="$hash_us" -v f="$floor_tls" \
	'BEGIN { printf "%.2f", (f > 0 ? (a - h) / f : 0) }')
met=$(awk -v r="$r" -v t="$TARGET" 'BEGIN { print (r <= t ? "met" : "not met") }')
echo "- Password hash alone (yescrypt at the default cost, as etrnd-rules -p makes it;"
echo "  passwd_check, timed between the sessions): $hash_us us per AUTH. The cheap hash of"
echo "  the comparison: $cheap_us us."
echo "- TLS session against the plaintext session: $(ratio "$tls_med" "$(get etrnd-plain 2)")x"
echo "  (etrnd-tls / etrnd-plain); the TLS floor against the plaintext floor:"
echo "  $(ratio "$floor_tls" "$(get floor 2)")x. Of the TLS floor's session, starting libtls and"
echo "  loading the key (tls-floor-start) is $(ratio "$(get tls-floor-start 2)" "$floor_tls")x: the handshake is the lesser part."
two=$(awk -v a="$floor_tls" -v b="$(get floor 2)" 'BEGIN { printf "%.0f", a + b }')
echo "- etrnd does its TLS in a second process (etrnd-tlsproxy, started at STARTTLS), which"
echo "  the TLS floor does not: the least such a session can cost is the TLS floor plus the"
echo "  plaintext floor ($two us); etrnd's TLS session is $(ratio "$tls_med" "$two")x that."
echo "  A plaintext session on a listener with -C (etrnd-C-plain) loads no TLS library:"
echo "  $(ratio "$(get etrnd-C-plain 2)" "$(get etrnd-plain 2)")x the session without -C."
echo "- Target, etrnd's TLS session within ${TARGET}x of the TLS floor, the hash excluded:"
echo "  ${r}x with the cheap-hash login: **$met**. Server CPU: ${rc}x. Cross-check by"
echo "  subtraction: (yescrypt session - hash alone) / floor = ${sub}x."
