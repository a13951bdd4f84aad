/* SPDX-License-Identifier: ISC */
/* bounds.h: every limit etrnd enforces, in one place.
 *
 * Each one is documented in etrnd(8) or etrnd.rules(5); change both together. */
#ifndef ETRND_BOUNDS_H
#define ETRND_BOUNDS_H

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF. */
#define SMTP_LINE_MAX 512
#define SMTP_TEXT_MAX (SMTP_LINE_MAX - 2)
/* RFC 4954 section 4: an AUTH line and each SASL response may be up to
 * 12288 octets; netio accepts them only while AUTH is on offer. */
#define SMTP_AUTH_LINE_MAX 12288
/* AUTH failures before 421; each failure waits AUTH_DELAY_MS times its
 * number first (1 s, 2 s), so guessing costs time. */
#define AUTH_MAX_FAILURES 3
#define AUTH_DELAY_MS 1000
/* ODMR (RFC 2645): nodes in one ATRN command. */
#define ATRN_NODES_MAX 16

/* RFC 5321 4.5.3.2.7: the server waits at least 5 minutes for a command. */
#define SMTP_IDLE_TIMEOUT 300
/* A whole ETRN session is a handful of commands; this bounds slow clients. */
#define SMTP_SESSION_DEADLINE 600
/* After a timeout, the 421 gets this long to be written, then we exit. */
#define SMTP_CLOSE_GRACE_MS 2000
/* etrnd-tlsproxy reads the certificate chain and the key (PEM) from the fds
 * etrnd opened for it; a file longer than this is refused. */
#define TLS_PEM_MAX 262144 /* 256 KiB */
/* Error replies (5xx) before the session is closed with 421. */
#define SMTP_MAX_ERRORS 10
/* ETRN commands one session may issue; the next one gets 421. */
#define SMTP_MAX_ETRN 32
/* Other commands (all but ETRN and QUIT: NOOP, RSET, HELP, EHLO, ...) one
 * session may issue; the next one gets 421 (Postfix's junk-command limit,
 * the same number). A real client needs a handful. */
#define SMTP_MAX_OTHER 100
/* Largest reply the session ever produces (the EHLO reply), with margin. */
#define SMTP_REPLY_MAX 1024
/* etrnd's reply buffer: a pipelined group's replies go out in one write
 * while they fit, else in more (RFC 2920 allows that); every reply fits
 * whole. Small, so that what a session writes of its state, this buffer
 * included, fits in the page .bss starts in (etrnd.c): at 2 KiB the line
 * reader's input began on the next page, one page fault more (make bench). */
#define SMTP_REPLIES_BUF SMTP_REPLY_MAX

/* RFC 1035: a domain name is at most 253 octets in text form, labels 1-63. */
#define NODE_HOST_MAX 253
#define NODE_LABEL_MAX 63
#define NODE_QUEUE_MAX 64
/* Buffer for any normalised node: '@' + host, or "[ipv6:...]". */
#define NODE_BUF 256

/* Spool counting stops here and answers 252 instead of 253. */
#define SPOOL_SCAN_CAP 10000

/* Rules file limits (etrnd.rules(5)). */
#define RULES_LINE_MAX 4096
#define RULE_DENY_MAX 200
#define RULE_ALLOW_MAX 64
#define RULE_PATH_MAX 1024
#define RULE_RUN_ARGS_MAX 32
#define RULE_RUN_MAX 1024
#define RULE_INTERVAL_MAX 604800 /* one week */
#define RULE_TIMEOUT_MAX 86400   /* one day */
#define RULE_USERS_MAX 64        /* logins in users= */

/* etrnd-runner (etrnd-runner(8)). */
#define RUN_OUTPUT_LINES 20       /* command output lines logged per run */
#define RUN_KILL_GRACE_MS 5000    /* SIGTERM, then SIGKILL this much later */
#define RUNNER_STOP_WAIT_MS 30000 /* on SIGTERM, wait this long for runs */
#define RUNNER_DEF_TIMEOUT 3600   /* -t default */
#define RUNNER_DEF_RESCAN 60      /* -r default */
#define RUNNER_DEF_BACKOFF 60     /* -b default: first retry after a minute */
#define RUNNER_DEF_ATTEMPTS 5     /* -a default */
#define RUNNER_JOBS_MAX 64        /* -j at most */
#define RUNNER_ATTEMPTS_MAX 100   /* -a at most */
#define RUN_BACKOFF_MAX_S 86400   /* a retry waits at most one day, whatever -b and -a */
/* After the command's leader exited: how often the runner looks whether the
 * rest of its process group is gone (the node's next run waits for that). */
#define RUN_DRAIN_POLL_MS 100
/* A node whose lock is held by a command the runner did not start (one left
 * by a runner that was killed): how often to try the lock again. */
#define RUN_LOCK_POLL_MS 1000
/* Rescans asked for by FIFO wake-ups: at most one per RUNNER_POKE_GAP_MS,
 * and at most one per RUNNER_SCAN_SHARE times the last scan's duration, so
 * that anyone who can write the FIFO can make scanning cost at most about
 * 1/RUNNER_SCAN_SHARE of a CPU. */
#define RUNNER_POKE_GAP_MS 100
#define RUNNER_SCAN_SHARE 10
/* A file in QUEUEDIR/tmp older than this is a crashed writer's: removed
 * (36 hours, as maildir readers do). */
#define QUEUE_TMP_MAX_AGE (36L * 3600)
/* The same for a held maildir's tmp/, cleaned by etrnd-deliver. */
#define HELD_TMP_MAX_AGE QUEUE_TMP_MAX_AGE

/* Held mail (etrnd-store(8), etrnd-deliver(8)). */
#define MAIL_ADDR_MAX 254             /* RFC 5321 4.5.3.1.3: a path is 256 with <> */
#define HELD_RCPTS_MAX 1000           /* recipients per stored message */
#define HELD_SIZE_DEFAULT (50L << 20) /* etrnd-store -s default: 50 MB */
#define HELD_SIZE_MAX (1L << 40)      /* etrnd-store -s at most */
#define HELD_ENVELOPE_MAX (HELD_RCPTS_MAX * (MAIL_ADDR_MAX + 16) + 4096)
#define HELD_ERROR_MAX 200 /* octets of a remote reply kept per failed recipient */
/* RFC 5321 4.5.3.2: the client's minimum timeouts, in seconds. */
#define SMTPC_GREETING_TIMEOUT 300  /* 4.5.3.2.1 initial 220 */
#define SMTPC_MAIL_TIMEOUT 300      /* 4.5.3.2.2 */
#define SMTPC_RCPT_TIMEOUT 300      /* 4.5.3.2.3 */
#define SMTPC_DATA_TIMEOUT 120      /* 4.5.3.2.4 DATA initiation */
#define SMTPC_BLOCK_TIMEOUT 180     /* 4.5.3.2.5 each data block */
#define SMTPC_DOT_TIMEOUT 600       /* 4.5.3.2.6 DATA termination */
#define SMTPC_CONNECT_TIMEOUT 60    /* connect(): RFC 5321 names none */
#define DELIVER_DEADLINE 3600       /* etrnd-deliver -T default */
#define DELIVER_DEADLINE_MAX 604800 /* etrnd-deliver -T at most: a week */
#define DELIVER_MX_MAX 16           /* MX hosts tried per domain */
#define DELIVER_ADDRS_MAX 8         /* addresses tried per MX host */

/* A log value longer than this is truncated (untrusted text stays short). */
#define LOG_VALUE_MAX 100
#define LOG_LINE_MAX 1024
/* An output line of a runner's command, in its "output" log line. */
#define LOG_TEXT_MAX 400

/* Shared libraries a program opens at run time (dynlib.c): libtls and
 * libcrypt. */
#define DYNLIB_MAX 4

#endif
