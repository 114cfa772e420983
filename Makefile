# ise: a suite of small filters that synthesise OS-agent training data.
# Plain make; see README.md.  V=1 shows commands, SANITIZE=address,undefined
# builds with sanitizers (into a separate tree, so switching does not mix objects).

VERSION  = 0.1.0
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
DATADIR  = $(PREFIX)/share/ise
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
PKGS     = libcjson libcurl gsl libseccomp
WARN     = -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -Wwrite-strings
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -Ilib -I$(OUT) \
           -DISE_VERSION='"$(VERSION)"'
# GSL's pkg-config names the reference CBLAS; link OpenBLAS instead.
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null | sed 's/-lgslcblas/-lopenblas/') -lm -lpthread

ifdef FUZZ
# make fuzz: lib/ and the targets with clang's libFuzzer, in their own tree.
OUT         = build/fuzz
CC          = $(FUZZ_CC)
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -O1
LDFLAGS    += -fsanitize=fuzzer,address,undefined
else ifdef SANITIZE
OUT         = build/san
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS    += -fsanitize=$(SANITIZE)
else
OUT         = build/std
endif
ifdef DEVELOPER
ALL_CFLAGS += -Werror
endif
ifndef V
Q = @
endif

PROGS   = $(patsubst src/%.c,%,$(wildcard src/ise-*.c))
LIBDIRS = lib/core lib/llm lib/exec lib/gen lib/diversity lib/audit lib/export lib/sim lib/app
LIBSRC  = $(wildcard $(LIBDIRS:%=%/*.c))
LIBOBJ  = $(LIBSRC:lib/%.c=$(OUT)/lib/%.o) $(OUT)/embedded.o
EMBED   = share/ise/catalog.json share/ise/personas.json share/ise/role-drift.txt \
          share/ise/prompts/render.txt share/ise/prompts/user.txt share/ise/prompts/agent.txt
EMBED_CODE = lib/sim/checkdriver.py
BINS    = $(PROGS:%=bin/%)
MAN1    = $(PROGS:%=man/man1/%.1)
MAN7    = man/man7/ise.7

all: $(BINS)

# The binaries in bin/ always come from the last build flavour asked for.
bin/%: $(OUT)/src/%.o $(OUT)/libise.a
	@mkdir -p bin
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(OUT)/libise.a $(LIBS)

lib/libise.a: $(OUT)/libise.a
	$(Q)cp $< $@

$(OUT)/libise.a: $(LIBOBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/%.o: %.c $(OUT)/flags
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Data built into the binaries as defaults (a file given with an option overrides).
$(OUT)/embedded.c: $(EMBED) $(EMBED_CODE) build-aux/embed.sh
	@mkdir -p $(@D)
	$(Q)sh build-aux/embed.sh $(EMBED) $(EMBED_CODE) > $@.tmp && mv $@.tmp $@
$(OUT)/embedded.o: $(OUT)/embedded.c
	$(Q)$(CC) -std=c11 -c -o $@ $<

# Rebuild everything when the flags change (git's GIT-CFLAGS idea).
$(OUT)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(LIBS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(LIBS)' > $@

-include $(LIBOBJ:.o=.d) $(PROGS:%=$(OUT)/src/%.d)

# Small programs the tests drive lib/ with (not installed).
TESTPROGS = $(patsubst tests/unit/%.c,$(OUT)/tests/%,\
            $(filter-out tests/unit/fuzz_replay.c,$(wildcard tests/unit/*.c)))
$(OUT)/tests/%: $(OUT)/tests/unit/%.o $(OUT)/libise.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(OUT)/libise.a $(LIBS)

# The fuzz targets (fuzz/fuzz_*.c): for make check, each linked with a
# main() that replays files; for make fuzz, with libFuzzer.
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_TARGETS = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY  = $(FUZZ_TARGETS:%=$(OUT)/tests/%)
$(OUT)/tests/fuzz_%: $(OUT)/tests/unit/fuzz_replay.o $(OUT)/fuzz/fuzz_%.o $(OUT)/fuzz/harness.o \
                     $(OUT)/libise.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(OUT)/libise.a $(LIBS)
$(OUT)/fuzz/bin/fuzz_%: $(OUT)/fuzz/fuzz_%.o $(OUT)/fuzz/harness.o $(OUT)/libise.a
	@mkdir -p $(@D)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(OUT)/libise.a $(LIBS)
-include $(OUT)/fuzz/harness.d $(FUZZ_TARGETS:%=$(OUT)/fuzz/%.d) $(OUT)/tests/unit/fuzz_replay.d

# Each target for FUZZ_TIME seconds from the committed corpus (fuzz/corpus/T,
# left as it is); what it learns goes to build/fuzz/corpus/T, a crash to
# build/fuzz/crashes/ (make it a test: copy it to tests/fixtures/fuzz/T/).
fuzz:
	@echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n; }' | \
	  $(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null || { \
	  echo "fuzz: needs $(FUZZ_CC) with libFuzzer: apt-get install clang libclang-rt-dev" \
	    "(or make deps)" >&2; exit 2; }
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-run

fuzz-run: $(FUZZ_TARGETS:%=$(OUT)/fuzz/bin/%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(OUT)/corpus/$$t $(OUT)/crashes && echo "fuzz: $$t for $(FUZZ_TIME) s" && \
	  $(OUT)/fuzz/bin/$$t -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=4096 \
	    -artifact_prefix=$(OUT)/crashes/$$t- $(OUT)/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

check: all layers headers $(TESTPROGS) $(FUZZ_REPLAY)
	@ISE_TESTPROGS=$(CURDIR)/$(OUT)/tests tests/run

# Every task environment of the catalog, three slot draws each, in real
# workspaces (minutes: make check runs one task of each domain).
check-catalog: all
	@python3 tests/envcheck.py --draws 3 -j 3 --pairs

demo: all
	@sh examples/demo.sh

bench: all
	@sh bench/run.sh
	@sh bench/exec.sh
	@sh bench/vendi.sh
	@sh bench/dedup.sh
	@sh bench/sim.sh
	@sh bench/export.sh

# The shape of lib/ (lib/README): includes run downward, no cycles, a
# header for every file, no file over 1,200 lines.
layers:
	@sh build-aux/layers.sh

# Every header compiles on its own, and all public ones together.
HEADERS = $(wildcard lib/*/*.h)
headers:
	@for h in $(HEADERS:lib/%=%); do \
	  printf '#include "%s"\n' "$$h" | $(CC) $(ALL_CFLAGS) -fsyntax-only -x c - || \
	    { echo "headers: $$h does not compile alone" >&2; exit 1; }; \
	done
	@for h in $(filter-out %_int.h,$(HEADERS:lib/%=%)); do printf '#include "%s"\n' "$$h"; done | \
	  $(CC) $(ALL_CFLAGS) -fsyntax-only -x c - || \
	  { echo "headers: the public headers do not compile together" >&2; exit 1; }

lint: layers headers
	clang-format --dry-run -Werror lib/*/*.c lib/*/*.h src/*.c
	mandoc -Tlint -Wwarning $(MAN1) $(MAN7)
	@! grep -nE '\b(sprintf|strcpy|strcat|gets|strtok|atoi|rand|system)\(' lib/*/*.c src/*.c || \
	  { echo 'lint: banned function used (see above)'; exit 1; }

# The link line, for tests that check what BLAS GSL binds to.
print-libs:
	@echo '$(LIBS)'

deps:
	@sh build-aux/deps.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	cp $(BINS) $(DESTDIR)$(BINDIR)/
	for f in $(EMBED); do d="$(DESTDIR)$(DATADIR)/$${f#share/ise/}"; \
	  mkdir -p "$$(dirname "$$d")" && cp "$$f" "$$d" || exit 1; done
	cp $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp $(MAN7) $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%) $(MAN1:man/%=$(DESTDIR)$(MANDIR)/%) \
	  $(DESTDIR)$(MANDIR)/man7/ise.7
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build bin lib/libise.a demo-out

.PHONY: check-catalog layers headers all check fuzz fuzz-run demo bench lint deps install uninstall clean print-libs FORCE
.SECONDARY:
