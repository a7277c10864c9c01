# SPDX-License-Identifier: GPL-2.0-or-later
# Builds vfiomig, its unit tests and the kernel lab; see README.md.

VERSION := 0.1.0

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
# CI and `make check` add -Werror; a user's build should not break on a new compiler's warning.
WERROR ?=
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 $(if $(WERROR),-Werror)

PKGS := libpci libmnl libcjson libxxhash readline
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -DVFIOMIG_VERSION='"$(VERSION)"' $(PKG_CFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

B := build
SRCS := $(sort $(wildcard vfiomig/*.c))
OBJS := $(SRCS:vfiomig/%.c=$(B)/obj/%.o)
# Pure logic (no I/O): what the unit tests link against.
PURE := mig addr blob bundle line ranges bitmap mlx5 phases ident
UNIT_TESTS := $(sort $(basename $(notdir $(wildcard tests/unit/test_*.c))))
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.SECONDARY:

.PHONY: all install uninstall deps check unit lab lab-kernel demo lab-shell bench bench-lab clean pkg-check

all: $(B)/vfiomig

$(B)/obj/%.o: vfiomig/%.c $(wildcard vfiomig/*.h) | $(B)/obj
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -c -o $@ $<

$(B)/vfiomig: $(OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# A missing library would otherwise show as a compiler error about a header.
$(B)/obj $(B)/unit: | pkg-check
	$(Q)mkdir -p $@

pkg-check:
	@$(PKG_CONFIG) --exists $(PKGS) cmocka || { \
		echo "vfiomig: build libraries missing: $$($(PKG_CONFIG) --print-errors --exists $(PKGS) cmocka 2>&1 | sed -n 's/.*Package \([^ ]*\) was not found.*/\1/p' | tr '\n' ' ' | sed 's/ $$//')" >&2; \
		echo "vfiomig: 'make deps' (as root) installs them" >&2; exit 1; }

# Unit tests: pure objects rebuilt with AddressSanitizer and UBSan.
$(B)/unit/%.o: vfiomig/%.c $(wildcard vfiomig/*.h) | $(B)/unit
	$(Q)$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) -O1 -g $(SAN) -c -o $@ $<

$(B)/unit/test_%: tests/unit/test_%.c $(PURE:%=$(B)/unit/%.o) | $(B)/unit
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(BASE_CFLAGS) -Ivfiomig $(CPPFLAGS) $(CFLAGS) -O1 -g $(SAN) $(LDFLAGS) -o $@ $^ \
		$(shell $(PKG_CONFIG) --libs cmocka libxxhash) $(LDLIBS)

unit: $(UNIT_TESTS:%=$(B)/unit/%)
	@fail=0; for t in $^; do echo "== $$t"; $$t || fail=1; done; exit $$fail

deps:
	$(Q)tests/deps.sh

# The lab boots real kernels under QEMU; LAB_KERNELS picks which (default:
# all): Debian's 6.1 and 6.12, and "lab", 6.12 built from Debian's source
# with every VFIO option (tests/lab/kernel/, cached per machine).
LAB_KERNELS ?= 6.1 6.12 lab
lab: $(B)/vfiomig
	$(Q)LAB_KERNELS="$(LAB_KERNELS)" tests/lab/run.sh

# Builds the lab kernel into its cache (or finds it there) and prints where.
lab-kernel:
	$(Q)tests/lab/kernel/build.sh

lab-shell: $(B)/vfiomig
	$(Q)LAB_KERNELS="$(firstword $(LAB_KERNELS))" tests/lab/run.sh --shell

# One kernel is enough to show a migration: the newest Debian one, which
# needs no kernel build (LAB_KERNELS=lab picks the lab kernel).
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)LAB_KERNELS="$(or $(lastword $(filter-out lab,$(LAB_KERNELS))),lab)" tests/lab/run.sh --demo

check:
	$(Q)tests/check.sh

# Benchmarks, not tests: tables of times and ratios against baselines
# measured in the same run (bench/README.md); no time is asserted.
bench: $(B)/vfiomig
	$(Q)tests/deps.sh --bench
	$(Q)bench/run.sh

# The in-VM part (TCG: ratios only), on LAB_KERNELS (default here: 6.12).
bench-lab: $(B)/vfiomig
	$(Q)LAB_KERNELS="$(if $(filter command line environment,$(origin LAB_KERNELS)),$(LAB_KERNELS),6.12)" bench/lab.sh

install: $(B)/vfiomig
	install -D -m 0755 $(B)/vfiomig $(DESTDIR)$(SBINDIR)/vfiomig
	install -D -m 0644 man/vfiomig.8 $(DESTDIR)$(MANDIR)/man8/vfiomig.8
	install -D -m 0644 bash-completion/vfiomig $(DESTDIR)$(BASHCOMPDIR)/vfiomig

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vfiomig $(DESTDIR)$(MANDIR)/man8/vfiomig.8 \
		$(DESTDIR)$(BASHCOMPDIR)/vfiomig

clean:
	rm -rf $(B)
	$(MAKE) -C tests/kmod clean >/dev/null 2>&1 || true

-include $(OBJS:.o=.d)
