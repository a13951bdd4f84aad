#!/bin/sh
# SPDX-License-Identifier: ISC
# static-order.sh ETRND > src/static.order: the symbol ordering file that
# make STATIC=1 links with (lld's --symbol-ordering-file). A static binary
# holds the parts of libc it uses, spread over a megabyte of text; each
# 64 KiB window of it a session first touches is a page fault (the kernel
# maps the window around the page at once). Laid out in the order a
# session runs them, the functions of a session share fewer windows.
#
# The list: the functions one session (EHLO, ETRN, QUIT) of the static
# etrnd given runs, in the order it first runs them, as gdb sees them with
# a breakpoint on every function; then each string function's variants for
# the other CPUs, grouped by instruction set (a machine runs the variants
# of one group, which then lie together); then every ifunc resolver (all
# run at start, for the IRELATIVE relocations). gdb runs the program as
# it is: valgrind's callgrind, used before, offers no vDSO and no Landlock,
# and its list missed what the start and the sandbox run. The session runs
# as it is deployed and benchmarked: as nobody when this runs as root (the
# root-only warning's code is then not in the list). Symbols a
# program lacks are ignored, so the one file serves every static program
# and the static floor. Run it again (make static-order) when etrnd's
# session changes; a stale list only costs speed.
set -eu
umask 022
etrnd=$1
prog=$etrnd
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/q/tmp" "$T/q/new" "$T/q/cur"
as=
if [ "$(id -u)" = 0 ]; then
	as="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups --"
	chmod 755 "$T"
	chown -R nobody "$T/q"
	prog=$T/etrnd # nobody may not reach the build tree
	cp "$etrnd" "$prog"
fi
printf 'client.example.net\n' >"$T/rules"
"$(dirname "$etrnd")/etrnd-rules" "$T/rules" "$T/etrn.cdb" >/dev/null
printf 'EHLO order.example\r\nETRN client.example.net\r\nQUIT\r\n' >"$T/in"
nm "$etrnd" | awk '$2 ~ /^[tTwWi]$/ { print $3, $2 }' | sort -u >"$T/syms"
cat >"$T/gdb" <<EOF
set pagination off
set confirm off
rbreak .
commands 1-99999
silent
info symbol \$pc
continue
end
run -n mx.order -l stderr -d $T/etrn.cdb -q $T/q <$T/in >/dev/null 2>&1
EOF
# "NAME [+ OFFSET] in section .text": each function as first run; gdb
# drops a clone's number (f.constprop for f.constprop.0), which nm keeps
$as gdb -batch -nx -x "$T/gdb" "$prog" 2>"$T/gdb.err" |
	sed -n 's/^\([^ ]\{1,\}\)\( + [0-9]\{1,\}\)\{0,1\} in section \.text.*/\1/p' |
	awk 'FNR == NR { full[$1] = $1; c = $1; sub(/\.[0-9]+$/, "", c); if (!(c in full)) full[c] = $1; next }
	     $1 in full && !seen[full[$1]]++ { print full[$1] }' "$T/syms" - >"$T/met"
[ -s "$T/met" ] || {
	echo "static-order.sh: gdb saw no function of $etrnd run:" >&2
	cat "$T/gdb.err" >&2
	exit 1
}
# A CPU variant is a string function's version for one instruction set.
variant='_\(sse2\|ssse3\|sse4_1\|sse4_2\|sse42\|avx\|avx2\|evex\|avx512\)\(_.*\)\{0,1\}$'
# each string function met, by its base name: the variant's suffix cut,
# or the name the variants share (memcpy for __memcpy_avx_unaligned)
{
	sed -n "s/^\(.*\)$variant/\1_/p" "$T/met"
	sed -n 's/^_*\([a-z].*\)$/__\1_/p' "$T/met"
} | sort -u >"$T/bases"
awk 'FNR == NR { base[$1] = 1; next }
	{ for (b in base) if (index($1, b) == 1) { print $1; break } }' "$T/bases" "$T/syms" >"$T/variants"
# newest first (x86-64-v4: evex, avx512; v3: avx, avx2; v2: sse4, ssse3;
# baseline: sse2)
for isa in 'evex\|avx512' 'avx2\{0,1\}' 'sse4_1\|sse4_2\|sse42\|ssse3' 'sse2'; do
	grep "_\($isa\)\(_\|\$\)" "$T/variants" | sort || true
done >"$T/grouped"
awk '$2 == "i" || $1 ~ /_ifunc$/ { print $1 }' "$T/syms" >"$T/resolvers"
cat "$T/met" "$T/grouped" "$T/resolvers" | awk '!seen[$0]++'
