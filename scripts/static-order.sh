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
# callgrind names a function in full the first time (fn=(ID) NAME)
{
	sed -n 's/^c\{0,1\}fn=([0-9]*) \(.\{1,\}\)$/\1/p' "$T/cg"
	printf '%s\n' __libc_start_main_impl _dl_relocate_static_pie _dl_non_dynamic_init \
		_dl_init_paths _dl_get_origin __libc_early_init _IO_cleanup _fini
} | awk 'FNR == NR { sym[$1] = 1; next } $0 in sym && !seen[$0]++' "$T/syms" - >"$T/met"
# the other CPU variants of each string function met
sed -n 's/^\(.*_\)\(sse2\|ssse3\|sse4_1\|sse4_2\|avx\|avx2\|evex\|avx512\).*/\1/p' "$T/met" |
	sort -u >"$T/bases"
awk 'FNR == NR { base[$1] = 1; next }
	{ for (b in base) if (index($1, b) == 1) { print $1; break } }' "$T/bases" "$T/syms" |
	sort >"$T/variants"
# the ifunc resolvers, which all run at start
awk '$2 == "i" || $1 ~ /_ifunc$/ { print $1 }' "$T/syms" >"$T/resolvers"
cat "$T/met" "$T/variants" "$T/resolvers" | awk '!seen[$0]++'
