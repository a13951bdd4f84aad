# etrnd - an ETRN (RFC 1985) service. See README and INSTALL.
# Overridable: CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR; V=1 shows commands.

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
CFLAGS ?= -O2 -g
LDFLAGS ?=
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS = -lcdb
TEST_LIBS = -lcriterion

ifeq ($(V),1)
Q =
else
Q = @
endif

B = build
LIB_SRC = $(wildcard src/lib/*.c)
LIB_OBJ = $(LIB_SRC:src/lib/%.c=$(B)/lib/%.o)
LIB_HDR = $(wildcard src/lib/*.h)
PROGS = bin/etrnd bin/etrnd-rules bin/etrnd-runner bin/etrn
TEST_SRC = $(wildcard tests/unit/*.c)
TEST_OBJ = $(TEST_SRC:tests/unit/%.c=$(B)/tests/%.o)

all: $(PROGS)

$(B)/lib/%.o: src/lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libetrnd.a: $(LIB_OBJ)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(LIB_OBJ)

$(B)/%.o: src/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

bin/%: $(B)/%.o $(B)/libetrnd.a
	@mkdir -p bin
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libetrnd.a $(LIBS)

$(B)/tests/%.o: tests/unit/%.c tests/unit/testutil.h $(LIB_HDR)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc/lib -c -o $@ $<

$(B)/tests/run: $(TEST_OBJ) $(B)/libetrnd.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(TEST_OBJ) $(B)/libetrnd.a $(LIBS) $(TEST_LIBS)

deps:
	@sh scripts/deps.sh build

# Every test: Criterion unit tests, golden transcripts and the process
# tests that run the real bin/ programs. Ends with Criterion's synthesis line.
check:
	@sh scripts/deps.sh build e2e
	@$(MAKE) --no-print-directory all $(B)/tests/run
	ETRND_ROOT=$(CURDIR) ETRND_BIN=$(CURDIR)/bin ETRND_GOLDEN=$(CURDIR)/tests/golden ETRND_HELPERS=$(CURDIR)/tests/helpers \
		$(B)/tests/run $(CHECK_FLAGS)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

SBIN_PROGS = etrnd etrnd-rules etrnd-runner
BIN_PROGS = etrn
MAN1 = man/etrn.1
MAN5 = man/etrnd.rules.5
MAN8 = man/etrnd.8 man/etrnd-rules.8 man/etrnd-runner.8
DOCDIR = $(PREFIX)/share/doc/etrnd

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(SBIN_PROGS:%=bin/%) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BIN_PROGS:%=bin/%) $(DESTDIR)$(PREFIX)/bin/
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

# Man pages must be clean for mandoc -Tlint (make check runs this too).
lint-man:
	mandoc -Tlint -W style $(MAN1) $(MAN5) $(MAN8)

clean:
	rm -rf $(B) bin cdb/etrn.cdb

.PHONY: all deps check demo clean install uninstall lint-man
.SECONDARY:
