#!/bin/sh
# SPDX-License-Identifier: ISC
# static-order.sh ETRND > src/static.order: the symbol ordering file that
# make STATIC=1 links with (lld's --symbol-ordering-file). A static binary
# holds the parts of libc it uses, spread over a megabyte of text; each
# 64 KiB window of it a session first touches is a page fault (the kernel
# maps the window around the page at once). Laid out in the order a
# session runs them, the functions of a session share fewer windows.
#
# The list: the functions callgrind sees in one session (EHLO, ETRN, QUIT;
# as it first meets them) of the static etrnd given, each string
# function's other CPU variants (callgrind's CPU picks other ones than the
# machine's), then every ifunc resolver (all of them run at start, for
# the IRELATIVE relocations). Symbols a program lacks are ignored, so the
# one file serves every static program and the static floor. Run it again
# (make static-order) when etrnd's session changes much; a stale list only
# costs speed.
set -eu
etrnd=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/q/tmp" "$T/q/new" "$T/q/cur"
printf 'client.example.net\n' >"$T/rules"
"$(dirname "$etrnd")/etrnd-rules" "$T/rules" "$T/etrn.cdb" >/dev/null
printf 'EHLO order.example\r\nETRN client.example.net\r\nQUIT\r\n' >"$T/in"
valgrind -q --tool=callgrind --callgrind-out-file="$T/cg" \
	"$etrnd" -n mx.order -l stderr -d "$T/etrn.cdb" -q "$T/q" <"$T/in" >/dev/null 2>&1
nm "$etrnd" | awk '$2 ~ /^[tTwWi]$/ { print $3, $2 }' | sort -u >"$T/syms"
# callgrind names a few functions (crtbegin's) by their address only
nm "$etrnd" | awk '$2 ~ /^[tTwW]$/ { print "0x" $1, $3 }' >"$T/addrs"
# callgrind names a function in full the first time (fn=(ID) NAME)
{
	sed -n 's/^c\{0,1\}fn=([0-9]*) \(.\{1,\}\)$/\1/p' "$T/cg" |
		awk 'FNR == NR { name[$1] = $2; next } { print ($1 in name ? name[$1] : $1) }' "$T/addrs" -
	printf '%s\n' __libc_start_main_impl _dl_relocate_static_pie _dl_non_dynamic_init \
		_dl_init_paths _dl_get_origin __libc_early_init _IO_cleanup _fini
} | awk 'FNR == NR { sym[$1] = 1; next } $0 in sym && !seen[$0]++' "$T/syms" - >"$T/met"
# Callgrind cannot see some of what a real session runs: _start (before
# its first function), the sandbox (valgrind does not know Landlock's
# system calls, so etrnd goes on without it and skips prctl), memset,
# which the kernel's CPU and valgrind's resolve differently, and
# _dl_new_object, which the static start runs outside valgrind only.
printf '%s\n' _start __prctl memset _dl_new_object >>"$T/met"
# A CPU variant is a string function's version for one instruction set.
variant='_\(sse2\|ssse3\|sse4_1\|sse4_2\|sse42\|avx\|avx2\|evex\|avx512\)\(_.*\)\{0,1\}$'
# each string function met, by its base name (the variant's suffix cut,
# or the name the variants share)
{
	sed -n "s/^\(.*\)$variant/\1_/p" "$T/met"
	# callgrind may name the ifunc symbol (strlen) for the variant run
	sed -n 's/^_*\([a-z].*\)$/__\1_/p' "$T/met"
} | sort -u >"$T/bases"
# every variant of the functions met, grouped by instruction set, newest
# first: a machine runs the variants of one group, which then lie together
# (x86-64-v4: evex, avx512; v3: avx, avx2; v2: sse4, ssse3; baseline: sse2)
awk 'FNR == NR { base[$1] = 1; next }
	{ for (b in base) if (index($1, b) == 1) { print $1; break } }' "$T/bases" "$T/syms" >"$T/variants"
for isa in 'evex\|avx512' 'avx2\{0,1\}' 'sse4_1\|sse4_2\|sse42\|ssse3' 'sse2'; do
	grep "_\($isa\)\(_\|\$\)" "$T/variants" | sort || true
done >"$T/grouped"
# the ifunc resolvers, which all run at start
awk '$2 == "i" || $1 ~ /_ifunc$/ { print $1 }' "$T/syms" >"$T/resolvers"
# _start first, then the rest as met (variants left for their group)
{
	echo _start
	grep -v "$variant" "$T/met"
	cat "$T/resolvers" "$T/grouped"
} | awk '!seen[$0]++'
