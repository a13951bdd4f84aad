# SPDX-License-Identifier: ISC
# lib.sh: shared by the end-to-end scripts. Loopback only; every process
# started is recorded and stopped by PID; every wait is bounded.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${ETRND_BIN:-$ROOT/bin}
PIDS=""

# (FAILED keeps the reason for a cleanup that prints logs after it)
fail() { FAILED=$*; echo "FAIL: $*" >&2; exit 1; }
# A test that cannot run here says why and exits 77 (automake's "skipped").
skip() { echo "SKIP: $*"; exit 77; }
say() { echo "e2e: $*"; }

# A TCP port on 127.0.0.1 that the kernel would give a listener now (bound
# to port 0 and closed): never one in use, nor an outgoing connection's.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' ||
		fail "no free port"
}

# need_user NAME [HOME]: a system user with a group of its own name and no
# login, created when missing (the script says so) and left in place: other
# tests, running in parallel, may be using it. Under a lock for them.
need_user() {
	getent passwd "$1" >/dev/null && return 0
	mkdir -p "$ROOT/build"
	(
		flock 8
		if ! getent group "$1" >/dev/null; then
			groupadd --system "$1" || fail "groupadd $1"
		fi
		if ! getent passwd "$1" >/dev/null; then
			useradd --system -g "$1" -d "${2:-/nonexistent}" -M -s /usr/sbin/nologin "$1" ||
				fail "useradd $1"
			say "created system user $1"
		fi
	) 8>>"$ROOT/build/.e2e-users.lock" || exit 1
}

# need_group NAME: a system group, created when missing (as need_user).
need_group() {
	getent group "$1" >/dev/null && return 0
	mkdir -p "$ROOT/build"
	(
		flock 8
		getent group "$1" >/dev/null || groupadd --system "$1" || fail "groupadd $1"
		say "created group $1"
	) 8>>"$ROOT/build/.e2e-users.lock" || exit 1
}

# Starts a background command and remembers its PID for cleanup.
spawn() {
	"$@" &
	PIDS="$PIDS $!"
	LAST_PID=$!
}

stop_all() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	PIDS=""
}

# wait_until SECONDS COMMAND...: polls every 0.2 s.
wait_until() {
	local n=$(($1 * 5)); shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# Waits until something accepts connections on 127.0.0.1:PORT.
wait_port() {
	wait_until "${2:-10}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# smtp_session PORT LINES...: sends the lines (CRLF) to 127.0.0.1:PORT and
# prints every reply line, waiting for each reply before the next command.
smtp_session() {
	local port=$1 line reply; shift
	exec 5<>"/dev/tcp/${SMTP_HOST:-127.0.0.1}/$port" || fail "cannot connect to $port"
	read_reply() {
		while IFS= read -r -t 10 reply <&5; do
			reply=${reply%$'\r'}
			echo "$reply"
			[[ $reply =~ ^[0-9]{3}\  ]] && return 0
		done
		return 1
	}
	read_reply || fail "no greeting on $port"
	for line in "$@"; do
		printf '%s\r\n' "$line" >&5
		read_reply || fail "no reply to '$line'"
	done
	exec 5>&- 5<&-
}

count_files() { find "$1" -type f 2>/dev/null | wc -l; }
