# SPDX-License-Identifier: ISC
# shellcheck shell=bash disable=SC2034
# bench/mta.sh: sourced by bench/run.sh (after tests/e2e/lib.sh and
# postfix-lib.sh). Sets up Postfix, Exim and Sendmail for their -bs mode,
# each unpacked in build/ext as the end-to-end tests run them (never
# installed), each with its own configuration, spool and logs under $T.
# mta_NAME sets MTA_CMD (the command line of one -bs session, for
# bench/sessions) or MTA_WHY (why it cannot be measured here), and MTA_NOTE.

EXT=${ETRND_EXTDIR:-$ROOT/build/ext}
NODE=client.example.net

# Postfix: "sendmail -bs" runs smtpd -S against a running instance of its
# own (the master's services; smtpd itself is started per session).
mta_postfix() {
	MTA_CMD=() MTA_WHY="" MTA_NOTE=""
	if [ ! -x "$PFSBIN/postfix" ]; then
		MTA_WHY="Postfix is not unpacked in $PFROOT (sh scripts/deps.sh e2e unpacks it, as root)"
		return
	fi
	pf_users >/dev/null
	local d=$T/postfix port
	port=$(free_port)
	mkdir -p "$d/conf"
	pf_master "$port" >"$d/conf/master.cf"
	{
		pf_main "$d"
		echo "relay_domains = $NODE"
		echo "fast_flush_domains = \$relay_domains"
	} >"$d/conf/main.cf"
	mkdir -p "$d/queue" "$d/data"
	chown postfix "$d/data"
	if ! pf postfix -c "$d/conf" start >"$d/start.out" 2>&1; then
		MTA_WHY="postfix start failed: $(tail -2 "$d/start.out" | paste -sd' ')"
		return
	fi
	PF_DIRS="${PF_DIRS:-} $d"
	if ! wait_until 10 test -s "$d/queue/pid/master.pid" || ! wait_port "$port"; then
		MTA_WHY="Postfix's master did not start: $(tail -2 "$d/maillog" 2>/dev/null | paste -sd' ')"
		return
	fi
	if ! pf sendmail -C "$d/conf" -bs <"$T/known.in" 2>&1 | grep -q '^221 '; then
		MTA_WHY="sendmail -bs did not end the session: $(pf sendmail -C "$d/conf" -bs <"$T/known.in" 2>&1 | tr -d '\r' | tail -2 | paste -sd' ')"
		return
	fi
	PF_PORT=$port
	MTA_CMD=(env=LD_LIBRARY_PATH="$PFLIB" "$PFSBIN/sendmail" -C "$d/conf" -bs)
	MTA_NOTE="Postfix 3.7 refuses ETRN in this mode (smtpd: 'do not use ETRN in \"sendmail -bs\" mode', 458 4.3.0): its session is EHLO, a refused ETRN and QUIT. Its real ETRN goes to the flush service through its smtpd on TCP: section 5."
}

# Exim: "exim -bs" with a configuration that accepts ETRN for the node; its
# ETRN forks smtp_etrn_command (here /bin/true with the node, untainted by
# a lookup, where a site would run "exim -R"), and answers without waiting.
mta_exim() {
	MTA_CMD=() MTA_WHY="" MTA_NOTE=""
	local exim=$EXT/exim/root/usr/sbin/exim4 d=$T/exim
	if [ ! -x "$exim" ]; then
		MTA_WHY="Exim is not unpacked in $EXT/exim (sh scripts/deps.sh e2e unpacks it, as root)"
		return
	fi
	if ! getent passwd Debian-exim >/dev/null; then
		MTA_WHY="no user Debian-exim (the user compiled into Debian's exim4; tests/e2e/exim.sh creates it)"
		return
	fi
	mkdir -p "$d/spool" "$d/log"
	chown -R Debian-exim:Debian-exim "$d/spool" "$d/log"
	echo "$NODE" >"$d/etrn-nodes"
	cat >"$d/exim.conf" <<EOF
primary_hostname = mx.bench.invalid
exim_path = $exim
exim_user = Debian-exim
exim_group = Debian-exim
deliver_drop_privilege = true
spool_directory = $d/spool
log_file_path = $d/log/%slog
pid_file_path = $d/exim.pid
host_lookup =
rfc1413_hosts =
keep_environment =
tls_advertise_hosts =
acl_smtp_etrn = acl_etrn
smtp_etrn_command = /bin/true \${lookup{\$domain}lsearch,ret=key{$d/etrn-nodes}}
begin acl
acl_etrn:
  accept condition = \${lookup{\$smtp_command_argument}lsearch{$d/etrn-nodes}{yes}{no}}
  deny
EOF
	if ! "$exim" -C "$d/exim.conf" -bs <"$T/known.in" 2>&1 | grep -q '^250 OK'; then
		MTA_WHY="exim -bs did not accept the ETRN: $("$exim" -C "$d/exim.conf" -bs <"$T/known.in" 2>&1 | tr -d '\r' | tail -3 | paste -sd' ')"
		return
	fi
	MTA_CMD=("$exim" -C "$d/exim.conf" -bs)
	MTA_NOTE="Exim's ETRN forks smtp_etrn_command (/bin/true NODE here) and answers 250 without waiting for it."
}

# Sendmail: "sendmail -bs" with a configuration built by m4 from the
# unpacked sendmail-cf. Sendmail resolves the machine's name and sleeps
# 60 s when it is unqualified (tests/e2e/sendmail.sh), so this whole part of
# the bench runs in mount and UTS namespaces with a qualified name (run.sh
# starts bench/sessions in them once: no cost per session).
mta_sendmail() {
	MTA_CMD=() MTA_WHY="" MTA_NOTE=""
	local root=$EXT/sendmail/root d=$T/sendmail
	local sm=$root/usr/libexec/sendmail/sendmail cf=$root/usr/share/sendmail/cf
	if [ ! -x "$sm" ] || [ ! -f "$cf/m4/cf.m4" ]; then
		MTA_WHY="Sendmail is not unpacked in $EXT/sendmail (sh scripts/deps.sh e2e unpacks it, as root)"
		return
	fi
	command -v m4 >/dev/null || {
		MTA_WHY="no m4 to build sendmail.cf (scripts/deps.sh e2e installs it)"
		return
	}
	mkdir -p "$d/mqueue"
	chmod 700 "$d/mqueue"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$d/service.switch"
	cat >"$d/sendmail.mc" <<EOF
divert(-1)
# bench/mta.sh: a bench instance, nothing from /etc/mail
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`MAIL_SETTINGS_DIR', \`$d/')dnl
define(\`confDOMAIN_NAME', \`mx.bench.invalid')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
undefine(\`STATUS_FILE')dnl
undefine(\`ALIAS_FILE')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confQUEUE_LA', \`10000')dnl
define(\`confREFUSE_LA', \`10000')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
MAILER(\`smtp')dnl
EOF
	m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$d/sendmail.mc" >"$d/sendmail.cf" 2>"$d/m4.err" || {
		MTA_WHY="m4 could not build sendmail.cf: $(head -2 "$d/m4.err")"
		return
	}
	MTA_CMD=("$sm" -C "$d/sendmail.cf" -bs)
	MTA_NOTE="Sendmail's ETRN forks a queue run for the node (its queue is empty here) and answers at once."
}

# ns_prepare: the files of the namespaces run_in_ns uses.
ns_prepare() {
	printf '127.0.0.1\tlocalhost\n127.0.0.1\tmx.bench.invalid mx\n' >"$T/ns.hosts"
	printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' >"$T/ns.resolv"
}

# run_in_ns COMMAND...: in private mount and UTS namespaces, with a
# qualified host name and its own hosts and resolv.conf (the machine's /etc
# is untouched).
run_in_ns() {
	unshare -m -u sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf &&
		hostname mx.bench.invalid && shift 2 && exec "$@"' sh "$T/ns.hosts" "$T/ns.resolv" "$@"
}
