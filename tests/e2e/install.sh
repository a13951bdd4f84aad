#!/bin/bash
# SPDX-License-Identifier: ISC
# make install / uninstall into a DESTDIR with a PREFIX: the tree is what
# INSTALL says, the programs run from there, and uninstall removes it all.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

D=$(mktemp -d /tmp/etrnd-e2e-install.XXXXXX)
P=$(mktemp -d /tmp/etrnd-e2e-pki.XXXXXX)
trap 'rm -rf "$D" "$P"' EXIT
make -s -C "$ROOT" install DESTDIR="$D" PREFIX=/opt/etrnd >/dev/null
expect="/opt/etrnd/bin/etrn
/opt/etrnd/sbin/etrnd
/opt/etrnd/sbin/etrnd-deliver
/opt/etrnd/sbin/etrnd-rules
/opt/etrnd/sbin/etrnd-runner
/opt/etrnd/sbin/etrnd-store
/opt/etrnd/sbin/etrnd-tlsproxy
/opt/etrnd/share/man/man1/etrn.1
/opt/etrnd/share/man/man5/etrnd.rules.5
/opt/etrnd/share/man/man8/etrnd-deliver.8
/opt/etrnd/share/man/man8/etrnd-rules.8
/opt/etrnd/share/man/man8/etrnd-runner.8
/opt/etrnd/share/man/man8/etrnd-store.8
/opt/etrnd/share/man/man8/etrnd-tlsproxy.8
/opt/etrnd/share/man/man8/etrnd.8"
got=$(cd "$D" && find opt -path '*/share/doc' -prune -o -type f -print | sed 's|^|/|' | sort)
[ "$got" = "$expect" ] || fail "installed tree differs:
$got"
[ -f "$D/opt/etrnd/share/doc/etrnd/examples/postfix/main.cf.etrn" ] || fail "no examples"
# The flush wrappers are not installed as programs (each recipe's README
# has them copied to /usr/local/sbin by hand): all three come with the
# examples, executable.
for w in postfix/etrnd-postqueue exim/etrnd-exim-flush sendmail/etrnd-sendmail-flush; do
	[ -f "$D/opt/etrnd/share/doc/etrnd/examples/$w" ] && [ -x "$D/opt/etrnd/share/doc/etrnd/examples/$w" ] ||
		fail "examples/$w missing or not executable"
done
for p in etrnd etrnd-rules etrnd-runner etrnd-store etrnd-deliver etrnd-tlsproxy; do
	[ -x "$D/opt/etrnd/sbin/$p" ] || fail "$p not executable"
done
out=$(printf 'QUIT\r\n' | "$D/opt/etrnd/sbin/etrnd" -n mx.test -l stderr 2>/dev/null)
[ "$out" = $'220 mx.test ESMTP\r\n221 2.0.0 mx.test closing connection\r' ] || fail "installed etrnd: $out"
# etrnd -C finds etrnd-tlsproxy beside itself: an installed etrnd does STARTTLS
# (Python's ssl as the client) and logs the handshake
. "$(dirname "$0")/pki.sh"
make_pki "$P" mx.test
out=$(python3 - "$D/opt/etrnd/sbin/etrnd" "$P/server.crt" "$P/server.key" <<'PY'
import socket, ssl, subprocess, sys
etrnd, crt, key = sys.argv[1:4]
a, b = socket.socketpair()
p = subprocess.Popen([etrnd, "-n", "mx.test", "-l", "stderr", "-C", crt, "-K", key],
                     stdin=b, stdout=b, stderr=subprocess.PIPE)
b.close()
f = a.makefile("rb")
f.readline()
a.sendall(b"EHLO c.test\r\n")
while not f.readline().startswith(b"250 "):
    pass
a.sendall(b"STARTTLS\r\n")
print(f.readline().decode().strip())
ctx = ssl.create_default_context(cafile=sys.argv[2].replace("server.crt", "ca.crt"))
t = ctx.wrap_socket(a, server_hostname="mx.test")
t.sendall(b"QUIT\r\n")
print(t.makefile("rb").readline().decode().strip())
t.close()
print(p.communicate(timeout=20)[1].decode().strip().splitlines()[-1])
PY
)
case "$out" in
*"220 2.0.0 Ready to start TLS"*"221 2.0.0"*"tls=TLSv1."*) ;;
*) fail "installed etrnd -C: $out" ;;
esac
if command -v man >/dev/null; then
	man -M "$D/opt/etrnd/share/man" -w etrnd.rules >/dev/null 2>&1 || fail "man cannot find etrnd.rules(5)"
fi
say "make install DESTDIR PREFIX=/opt/etrnd: programs in sbin/ and bin/, man pages in share/man, the three flush wrappers among the examples; the installed etrnd -C does STARTTLS through the installed etrnd-tlsproxy"
make -s -C "$ROOT" uninstall DESTDIR="$D" PREFIX=/opt/etrnd >/dev/null
left=$(cd "$D" && find . -type f)
[ -z "$left" ] || fail "uninstall left: $left"
say "make uninstall removed every file"
echo "e2e install: PASS"
