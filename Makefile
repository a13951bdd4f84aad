# SPDX-License-Identifier: ISC
# etrnd - an ETRN (RFC 1985) service. See README and INSTALL.
# Overridable: CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR; V=1 shows commands;
# WERROR=no turns warnings back into warnings (for packagers' compilers).

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
CFLAGS ?= -O2 -g
LDFLAGS ?=
WERROR ?= yes
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
ifeq ($(WERROR),yes)
WARN += -Werror
endif
HARDEN = -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(TLS_CFLAGS) $(DYN_CFLAGS) $(STATIC_CFLAGS) $(WARN) $(HARDEN) $(CFLAGS)
# Exact header dependencies: every object gets a .d file (-MMD), and a
# removed header does not break the build (-MP).
DEPFLAGS = -MMD -MP
# PIE either way: -static-pie under STATIC=1 (clang refuses -pie beside it
# as an unused argument), else -pie.
ALL_LDFLAGS = $(if $(STATIC_LDFLAGS),$(STATIC_LDFLAGS),-pie) -Wl,-z,relro,-z,now $(LDFLAGS)
# The test harness and the bench drivers stay dynamic in every build:
# Criterion has no static archive that links (STATIC=1 tests its programs,
# which the harness starts from $(BINDIR)).
HOST_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
# TLS=no builds without libtls (an appliance without TLS): the TLS options
# then exit 100 with a message saying so.
TLS ?= yes
ifeq ($(TLS),yes)
TLS_CFLAGS = -DWITH_TLS
endif
# libtls and libcrypt are opened when first needed (src/lib/dynlib.h), by
# the exact name the linker would have recorded: their sonames, read from
# the libraries this build compiles against.
soname = $(shell objdump -p $$($(CC) -print-file-name=$(1)) 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
LIBTLS_SONAME := $(if $(filter yes,$(TLS)),$(call soname,libtls.so))
LIBCRYPT_SONAME := $(call soname,libcrypt.so)
DYN_CFLAGS = -DLIBTLS_SONAME='"$(LIBTLS_SONAME)"' -DLIBCRYPT_SONAME='"$(LIBCRYPT_SONAME)"'

# STATIC=1: static-pie binaries for appliances (glibc; TLS from libtls.a,
# libssl.a and libcrypto.a); -u looks users up in /etc/passwd itself, as a
# static binary must not load NSS modules. make STATIC=1 B=build/static
# BINDIR=build/static/bin keeps it beside the default build.
ifeq ($(STATIC),1)
STATIC_CFLAGS = -DETRND_STATIC -ffunction-sections
# Linked by lld, which lays the functions out in the order a session runs
# them (src/static.order, from scripts/static-order.sh: make static-order):
# libc's parts are spread over a megabyte of a static binary, and each
# 64 KiB window a session first touches is a page fault. The static floor
# of make bench is linked the same way.
# src/static.ld moves libcrypt's read-only tables (90 KiB, read only by a
# login) out of the middle of .rodata, where they kept the tables libc's
# start reads three 64 KiB windows apart.
STATIC_ORDER = src/static.order
STATIC_LAYOUT = $(STATIC_ORDER) src/static.ld
STATIC_LDFLAGS = -static-pie -fuse-ld=lld -Wl,--symbol-ordering-file=$(STATIC_ORDER) \
	-Wl,--no-warn-symbol-ordering -Wl,-T,src/static.ld
ifeq ($(TLS),yes)
TLS_LIBS = -l:libtls.a -l:libssl.a -l:libcrypto.a -lpthread
endif
CRYPT_LIBS = -l:libcrypt.a
endif
# tinycdb is linked statically (its PIC archive, as the programs are PIE):
# one shared library less to find, map and relocate on every connection.
# libcrypt checks AUTH passwords (crypt(3) hashes).
LIBS = -l:libcdb_pic.a $(TLS_LIBS) $(CRYPT_LIBS)
TEST_LIBS = -lcriterion

ifeq ($(V),1)
Q =
else
Q = @
endif

B = build
BINDIR = bin
LIB_SRC = $(wildcard src/lib/*.c)
LIB_OBJ = $(LIB_SRC:src/lib/%.c=$(B)/lib/%.o)
# etrnd-tlsproxy (TLS for etrnd, src/lib/tlsproxy.h) only where there is TLS.
TLS_PROGS = $(if $(filter yes,$(TLS)),etrnd-tlsproxy)
PROGS = $(BINDIR)/etrnd $(BINDIR)/etrnd-rules $(BINDIR)/etrnd-runner $(BINDIR)/etrn \
	$(BINDIR)/etrnd-store $(BINDIR)/etrnd-deliver $(TLS_PROGS:%=$(BINDIR)/%)
TEST_SRC = $(wildcard tests/unit/*.c)
TEST_OBJ = $(TEST_SRC:tests/unit/%.c=$(B)/tests/%.o)

all: $(PROGS)

$(B)/lib/%.o: src/lib/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/libetrnd.a: $(LIB_OBJ)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(LIB_OBJ)

$(B)/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BINDIR)/%: $(B)/%.o $(B)/libetrnd.a $(STATIC_LAYOUT)
	@mkdir -p $(BINDIR)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libetrnd.a $(LIBS)

# The programs that do no TLS (etrnd: etrnd-tlsproxy does it for it) link
# tlsio as TLS=no builds it, before the library, so that neither libtls nor
# OpenSSL is ever part of their image (static: OpenSSL's relocations were
# most of an etrnd session; dynamic: nothing to open). Only etrn,
# etrnd-deliver and etrnd-tlsproxy speak TLS.
NOTLS_PROGS = etrnd etrnd-rules etrnd-runner etrnd-store
$(B)/lib/tlsio-none.o: src/lib/tlsio.c
	@mkdir -p $(@D)
	@echo "  CC      $< (without TLS)"
	$(Q)$(CC) $(filter-out -DWITH_TLS,$(ALL_CFLAGS)) $(DEPFLAGS) -c -o $@ $<

NOTLS_LIBS = -l:libcdb_pic.a $(CRYPT_LIBS)
$(NOTLS_PROGS:%=$(BINDIR)/%): $(BINDIR)/%: $(B)/%.o $(B)/lib/tlsio-none.o $(B)/libetrnd.a \
		$(STATIC_LAYOUT)
	@mkdir -p $(BINDIR)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/lib/tlsio-none.o \
		$(B)/libetrnd.a $(NOTLS_LIBS)

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Isrc/lib -c -o $@ $<

$(B)/tests/run: $(TEST_OBJ) $(B)/libetrnd.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(HOST_LDFLAGS) -o $@ $(TEST_OBJ) $(B)/libetrnd.a $(LIBS) $(TEST_LIBS)

deps:
	@sh scripts/deps.sh build

TEST_ENV = ETRND_ROOT=$(CURDIR) ETRND_BIN=$(CURDIR)/$(BINDIR) \
	ETRND_GOLDEN=$(CURDIR)/tests/golden ETRND_HELPERS=$(CURDIR)/tests/helpers

# Every test: a short smoke run of each fuzz target, then Criterion unit
# tests, golden transcripts, process and end-to-end tests of the real
# programs; then the unit and process tests again against the static
# build (check-static). Ends with Criterion's synthesis line. The TLS=no
# build in build/notls is for the tests of what its TLS options say.
check:
	@sh scripts/deps.sh build e2e fuzz
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)
	@$(MAKE) --no-print-directory all $(B)/tests/run
	@$(MAKE) --no-print-directory TLS=no B=build/notls BINDIR=build/notls/bin all
	$(TEST_ENV) $(B)/tests/run $(CHECK_FLAGS)
	@$(MAKE) --no-print-directory check-static

# The unit, golden and process tests (not the end-to-end ones, which run
# the default build under real launchers and MTAs) against the STATIC=1
# programs, built beside the default ones in build/static: every program a
# test starts is the static one, -u USER included (read from /etc/passwd).
STATIC_B = build/static
check-static:
	@sh scripts/deps.sh build
	@$(MAKE) --no-print-directory STATIC=1 B=$(STATIC_B) BINDIR=$(STATIC_B)/bin \
		all $(STATIC_B)/tests/run
	$(TEST_ENV) ETRND_BIN=$(CURDIR)/$(STATIC_B)/bin $(STATIC_B)/tests/run \
		--filter='!(e2e)/*' $(CHECK_FLAGS)

# The same suite against ASan+UBSan builds of everything (clang), any
# sanitizer report fatal. Leaks are checked in the programs the tests start
# (not in the Criterion harness, whose own allocations are not ours).
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
check-asan:
	@sh scripts/deps.sh build e2e fuzz
	@$(MAKE) --no-print-directory CC=clang B=build/asan BINDIR=build/asan/bin \
		CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" all build/asan/tests/run
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ETRND_WRAP="env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1" \
		$(MAKE) --no-print-directory B=build/asan BINDIR=build/asan/bin run-tests

# Every session and run of the unit, golden and process tests with the
# programs under valgrind (memcheck): an error or a leak makes the program
# exit 99, and every report is kept in build/valgrind; any memcheck report
# ("==pid==" lines) fails. valgrind's own notes ("--pid--", e.g. that it
# does not know the Landlock system calls, so etrnd runs unsandboxed there)
# do not.
# (The end-to-end tests start etrnd from inetd & co. and are not wrapped.)
# The directory is writable by all (sticky): valgrind opens a log for
# etrnd's child, etrnd-tlsproxy, as it forks, and etrnd may run as nobody then.
# The TLS tests run a second time with etrnd-tlsproxy under valgrind too.
VG_DIR = $(CURDIR)/build/valgrind
VALGRIND = valgrind --quiet --vgdb=no --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect,possible \
	--show-leak-kinds=definite,indirect,possible --log-file=$(VG_DIR)/vg.%p.log
check-valgrind:
	@sh scripts/deps.sh build e2e valgrind
	@$(MAKE) --no-print-directory all $(B)/tests/run
	@rm -rf $(VG_DIR) && mkdir -p $(VG_DIR) && chmod 1777 $(VG_DIR)
	ETRND_WRAP="$(VALGRIND)" $(TEST_ENV) $(B)/tests/run --filter='!(e2e|docs)/*' $(CHECK_FLAGS)
	ETRND_WRAP="$(VALGRIND) --trace-children=yes" $(TEST_ENV) $(B)/tests/run --filter='tls/*' \
		$(CHECK_FLAGS)
	@n=$$(find $(VG_DIR) -name 'vg.*.log' | wc -l); \
	bad=$$(grep -lE '^==[0-9]+==' $(VG_DIR)/vg.*.log || true); \
	if [ -n "$$bad" ]; then cat $$bad; echo "valgrind: reports above"; exit 1; fi; \
	echo "valgrind: $$n program runs, 0 errors, 0 leaks"

run-tests:
	$(TEST_ENV) $(B)/tests/run $(CHECK_FLAGS)

# libFuzzer targets (clang): make fuzz FUZZ_SECONDS=N runs each for N s.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS = session netio node rules value sasl held
FUZZ_SAN = address,undefined -fno-sanitize-recover=all
FZ = build/fuzz
FUZZ_LIB_OBJ = $(LIB_SRC:src/lib/%.c=$(FZ)/lib/%.o)
fuzz: $(FUZZ_TARGETS:%=$(FZ)/fuzz_%) $(FZ)/seeds
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FZ)/corpus/$$t; \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		$(FZ)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-max_len=2048 $(FZ)/corpus/$$t $(FZ)/seeds/$$t 2>$(FZ)/$$t.log || \
			{ tail -40 $(FZ)/$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' $(FZ)/$$t.log | tr '\n' ' '; echo; \
	done

# src/lib is built once, instrumented, and shared by every target.
$(FZ)/lib/%.o: src/lib/%.c
	@mkdir -p $(@D)
	@echo "  CC      $< (fuzz)"
	$(Q)clang -std=c11 -D_GNU_SOURCE $(TLS_CFLAGS) $(DYN_CFLAGS) -g -O1 -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
		$(DEPFLAGS) -c -o $@ $<

$(FZ)/libetrnd.a: $(FUZZ_LIB_OBJ)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(FUZZ_LIB_OBJ)

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FZ)/libetrnd.a
	@mkdir -p $(FZ)
	@echo "  FUZZ    $@"
	$(Q)clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,$(FUZZ_SAN) $(DEPFLAGS) \
		-Isrc/lib -o $@ $< $(FZ)/libetrnd.a $(LIBS)

$(FZ)/seeds: tests/fuzz/mkseeds.c $(BINDIR)/etrnd-rules
	@rm -rf $@ && mkdir -p $@/session $@/netio $@/node $@/rules $@/value $@/sasl $@/held
	$(Q)printf '\001etrnd-envelope 1\nfrom a@b.example\nto c@client.example.net\n\nSubject: x\n\nbody\n' > $@/held/envelope
	$(Q)printf 'AGJvYgBzZWNyZXQ=' > $@/sasl/plain64; printf '\0bob\0secret' > $@/sasl/plain
	$(Q)printf '54b21152711fb604ca3e035e7015116bd06d4e1b26fccaa4b0b61801132340a3' > $@/sasl/cram
	$(Q)cp tests/golden/*.in $@/session/
	$(Q)for f in tests/golden/*.in; do b=$${f##*/}; cp $$f $@/netio/$$b; printf '\000\007' | cat - $$f > $@/netio/bytes-$$b; done
	$(Q)cp tests/fuzz/seeds/node/* $@/node/
	$(Q)i=0; cat tests/golden/etrn.rules cdb/etrn.rules etc/*/etrn.rules | \
		while IFS= read -r l; do i=$$((i+1)); printf '%s' "$$l" > $@/rules/line$$i; done
	$(Q)$(CC) -std=c11 -o $(FZ)/mkseeds tests/fuzz/mkseeds.c $(LIBS)
	$(Q)sed 's|@DIR@|/tmp|' tests/golden/etrn.rules > $(FZ)/seed.rules
	$(Q)$(BINDIR)/etrnd-rules $(FZ)/seed.rules $(FZ)/seed.cdb >/dev/null
	$(Q)$(FZ)/mkseeds $(FZ)/seed.cdb $@/value
	$(Q)cp tests/golden/*.triggers $@/value/ 2>/dev/null; true

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

SBIN_PROGS = etrnd etrnd-rules etrnd-runner etrnd-store etrnd-deliver $(TLS_PROGS)
BIN_PROGS = etrn
MAN1 = man/etrn.1
MAN5 = man/etrnd.rules.5
MAN8 = man/etrnd.8 man/etrnd-rules.8 man/etrnd-runner.8 man/etrnd-store.8 \
	man/etrnd-deliver.8 man/etrnd-tlsproxy.8
DOCDIR = $(PREFIX)/share/doc/etrnd

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(SBIN_PROGS:%=$(BINDIR)/%) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BIN_PROGS:%=$(BINDIR)/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 README INSTALL cdb/etrn.rules $(DESTDIR)$(DOCDIR)/
	cp -R etc $(DESTDIR)$(DOCDIR)/examples

uninstall:
	rm -f $(SBIN_PROGS:%=$(DESTDIR)$(PREFIX)/sbin/%) $(BIN_PROGS:%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(PREFIX)/share/man/man1/%)
	rm -f $(MAN5:man/%=$(DESTDIR)$(PREFIX)/share/man/man5/%)
	rm -f $(MAN8:man/%=$(DESTDIR)$(PREFIX)/share/man/man8/%)
	rm -rf $(DESTDIR)$(DOCDIR)

# Benchmarks: writes BENCHMARKS.md (bench/run.sh says what it measures).
# The builds side by side: the default one, STATIC=1 (build/static, its
# floor linked the same way) and, for comparison, STATIC=1 TLS=no
# (build/static-notls) and TLS=no (build/notls). The drivers are ordinary
# dynamic programs.
BENCH_TOOLS = $(B)/bench/floor $(B)/bench/sessions $(B)/bench/tcpload $(B)/bench/stamp \
	$(B)/bench/latency $(B)/bench/waitfor $(B)/bench/spoolscan
bench:
	@sh scripts/deps.sh build e2e bench
	@$(MAKE) --no-print-directory all $(BENCH_TOOLS)
	@$(MAKE) --no-print-directory STATIC=1 B=$(STATIC_B) BINDIR=$(STATIC_B)/bin \
		all $(STATIC_B)/bench/floor
	@$(MAKE) --no-print-directory STATIC=1 TLS=no B=build/static-notls \
		BINDIR=build/static-notls/bin all
	@$(MAKE) --no-print-directory TLS=no B=build/notls BINDIR=build/notls/bin \
		build/notls/bin/etrnd
	@bash bench/run.sh

# The ordering file of STATIC=1, made again from the static etrnd's
# session (scripts/static-order.sh says how and why).
static-order:
	@sh scripts/deps.sh build order
	@$(MAKE) --no-print-directory STATIC=1 B=$(STATIC_B) BINDIR=$(STATIC_B)/bin all
	sh scripts/static-order.sh $(STATIC_B)/bin/etrnd >src/static.order.new
	mv src/static.order.new src/static.order

# floor is linked as the programs are (static under STATIC=1): the floor
# of each build.
$(B)/bench/floor: bench/floor.c $(STATIC_LAYOUT)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(B)/bench/latency $(B)/bench/spoolscan: $(B)/bench/%: bench/%.c $(B)/libetrnd.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(HOST_LDFLAGS) -Isrc/lib -o $@ $< $(B)/libetrnd.a $(LIBS)

# The TLS benchmark (bench/tls.sh): a floor that links libtls alone, and
# a driver that speaks with etrn's client code (smtpc over tlsio).
TLS_BENCH_TOOLS = $(B)/bench/tlsfloor $(B)/bench/tlsdrive
$(B)/bench/tlsfloor: bench/tlsfloor.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -ltls

$(B)/bench/tlsdrive: bench/tlsdrive.c $(B)/libetrnd.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -Isrc/lib -o $@ $< $(B)/libetrnd.a $(LIBS) -lcrypt

$(B)/bench/tcpload: bench/tcpload.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(HOST_LDFLAGS) -pthread -o $@ $<

$(B)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(HOST_LDFLAGS) -o $@ $<

# Static checks: cppcheck and clang-tidy clean on src/, the tree formatted
# with .clang-format, man pages lint-clean.
lint: lint-man
	@sh scripts/deps.sh lint
	cppcheck --enable=warning,style,performance,portability --std=c11 --inline-suppr \
		--error-exitcode=1 -q -D_GNU_SOURCE -Isrc/lib src
	clang-tidy --quiet $(wildcard src/*.c) $(LIB_SRC) -- -std=c11 -D_GNU_SOURCE $(TLS_CFLAGS) $(DYN_CFLAGS) -Isrc/lib
	clang-format --dry-run -Werror $(wildcard src/*.c src/lib/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c bench/*.c)

format:
	clang-format -i $(wildcard src/*.c src/lib/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c bench/*.c)

# Man pages must be clean for mandoc -Tlint (make check runs this too).
lint-man:
	mandoc -Tlint -W style $(MAN1) $(MAN5) $(MAN8)

clean:
	rm -rf build bin cdb/etrn.cdb

-include $(wildcard $(B)/*.d $(B)/lib/*.d $(B)/tests/*.d $(B)/bench/*.d $(FZ)/*.d $(FZ)/lib/*.d)

.PHONY: bench lint format all deps check check-static check-asan check-valgrind run-tests fuzz demo clean install uninstall lint-man static-order
.SECONDARY:
