# etrnd - an ETRN (RFC 1985) service. See README and INSTALL.

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
OPT ?= -O2
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS = -lcdb
TEST_LIBS = -lcriterion

B = build
LIB_SRC = $(wildcard src/lib/*.c)
LIB_OBJ = $(LIB_SRC:src/lib/%.c=$(B)/lib/%.o)
PROGS = bin/etrnd bin/etrnd-rules
TEST_SRC = $(wildcard tests/unit/*.c)
TEST_OBJ = $(TEST_SRC:tests/unit/%.c=$(B)/tests/%.o)

all: $(PROGS)

$(B)/lib/%.o: src/lib/%.c $(wildcard src/lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libetrnd.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(B)/%.o: src/%.c $(wildcard src/lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

bin/%: $(B)/%.o $(B)/libetrnd.a
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libetrnd.a $(LIBS)

$(B)/tests/%.o: tests/unit/%.c tests/unit/testutil.h $(wildcard src/lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc/lib -c -o $@ $<

$(B)/tests/run: $(TEST_OBJ) $(B)/libetrnd.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(TEST_OBJ) $(B)/libetrnd.a $(LIBS) $(TEST_LIBS)

deps:
	@sh scripts/deps.sh build

# Every test: Criterion unit tests and the integration tests that run the
# real bin/etrnd and bin/etrnd-rules. Ends with Criterion's synthesis line.
check: deps
	$(MAKE) all $(B)/tests/run
	ETRND_BIN=$(CURDIR)/bin $(B)/tests/run $(CHECK_FLAGS)

demo: deps
	$(MAKE) all
	@sh scripts/demo.sh

clean:
	rm -rf $(B) bin cdb/etrn.cdb

.PHONY: all deps check demo clean
.SECONDARY:
