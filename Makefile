# SPDX-License-Identifier: Apache-2.0
# sprawlwatch: deps, build, test, bench, install, run. `make V=1` shows the commands.

OUTPUT ?= .output
CC ?= cc
CLANG ?= clang
# Debian puts bpftool in /usr/sbin, which a user's PATH often lacks.
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),$(wildcard /usr/sbin/bpftool),bpftool)
PROTOC_C ?= protoc-c
LLVM_STRIP ?= llvm-strip
PREFIX ?= /usr/local
# The one place the version lives: both binaries (--version), OCSF product.version, the .deb.
VERSION := 0.1.0

# Build: the libraries and tools. Tests: python3 and curl drive the e2e tests, clang-format
# checks the tree, systemd (systemd-analyze) checks the unit, dpkg-dev builds the .deb,
# xfsprogs makes the XFS image the clone test copies on.
# The real-agent test also needs node >= 20, which Debian 12 does not ship (README).
DEB_PACKAGES := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev protobuf-c-compiler \
	libprotobuf-c-dev libcmocka-dev libsodium-dev libpcre2-dev libyaml-dev pkg-config \
	protobuf-compiler libdeflate-dev libsystemd-dev libjansson-dev python3 curl clang-format \
	systemd dpkg-dev libcap2-bin iproute2 \
	libcurl4-openssl-dev libjson-c-dev clickhouse-server clickhouse-client graphviz librsvg2-bin \
	libhyperscan-dev libtomlplusplus-dev g++ libssl-dev libgnutls28-dev git xfsprogs

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

GEN := $(OUTPUT)/gen
OBJ := $(OUTPUT)/obj
BIN := $(OUTPUT)/bin
TBIN := $(OUTPUT)/tests

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing \
	-Iuserspace/src -Ibpf -I$(GEN) -I$(OUTPUT)
LIBS := -lbpf -lelf -lz -lcrypto -ldeflate -lsodium -lpcre2-8 -lhs -lyaml -lprotobuf-c -lsystemd \
	-ljansson -lcurl -ljson-c -lpthread

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 $(WARN) -Wno-unused-function -Wno-unused-parameter \
	-I$(OUTPUT) -Ibpf

LIB_SRCS := $(sort $(wildcard userspace/src/*.c))
LIB_OBJS := $(patsubst userspace/src/%.c,$(OBJ)/%.o,$(LIB_SRCS)) \
	$(OBJ)/sprawl.pb-c.o $(OBJ)/rules_embedded.o
LIB := $(OUTPUT)/libsprawl.a
DAEMON_SRCS := $(sort $(wildcard userspace/*.c))
DAEMON_OBJS := $(patsubst userspace/%.c,$(OBJ)/daemon/%.o,$(DAEMON_SRCS))
CTL_SRCS := $(sort $(wildcard tools/sprawlctl*.c))
CTL_OBJS := $(patsubst tools/%.c,$(OBJ)/tools/%.o,$(CTL_SRCS)) $(OBJ)/tools/gitleaks_toml.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(TBIN)/%,$(UNIT_SRCS))
# Unit tests of the test harness itself (scripts, run in place).
UNIT_SCRIPTS := $(sort $(wildcard tests/unit/test_*.py))
# `make fuzz`: the targets fast enough for FUZZ_RUNS executions each (the control protocol,
# the .env importer, alert lines, the config file, kernel records, the secret set), then the
# heavy ones (rules compiled into Hyperscan, the whole pipeline, trace segments, state files on
# disk) FUZZ_SECS seconds each. `make test` runs every target FUZZ_SMOKE_SECS on its seeds.
FUZZ_FAST := ctl envfile alerttext config event secretset
FUZZ_SLOW := rules tracelog records statefiles
FUZZ_RUNS ?= 1000000
FUZZ_SECS ?= 60
FUZZ_SMOKE_SECS ?= 5
# The unit tests again under ASan and UBSan (`make unit-asan`, part of `make test`), built
# apart in $(OUTPUT)/asan.
NPROC := $(shell nproc)
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
BPF_HDRS := $(wildcard bpf/*.h)
RULE_FILES := $(sort $(wildcard rules/*.yaml))

.PHONY: all deps test unit unit-bins unit-asan e2e fuzz fuzz-smoke mutate bench run install deb format format-check clean \
	version FORCE
.DELETE_ON_ERROR:

all: $(BIN)/sprawlwatchd $(BIN)/sprawlctl $(OUTPUT)/sprawlwatch.service

SBINDIR = $(PREFIX)/sbin
BINDIR = $(PREFIX)/bin
DOCDIR = $(PREFIX)/share/doc/sprawlwatch
MANDIR = $(PREFIX)/share/man
COMPLETIONDIR = $(PREFIX)/share/bash-completion/completions
UNITDIR ?= /etc/systemd/system

# The unit's paths follow PREFIX (rewritten only when they change).
$(OUTPUT)/sprawlwatch.service: tools/sprawlwatch.service.in FORCE | $(OUTPUT)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $< > $@.tmp && \
		{ cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

# The config file the package installs: every key commented out, from the daemon's table.
$(OUTPUT)/sprawlwatchd.yaml: $(BIN)/sprawlctl
	$(call msg,GEN,$@)
	$(Q)$(BIN)/sprawlctl config example > $@

# Installs exactly the Debian packages DESIGN.md lists; a no-op when all are present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || \
			missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; }; \
	fi

$(OUTPUT) $(GEN) $(OBJ) $(OBJ)/tools $(BIN) $(TBIN):
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/sprawl.bpf.o: bpf/sprawl.bpf.c $(BPF_HDRS) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/sprawl.skel.h: $(OUTPUT)/sprawl.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sprawl > $@

$(GEN)/sprawl.pb-c.c $(GEN)/sprawl.pb-c.h &: proto/sprawl.proto | $(GEN)
	$(call msg,PROTOC,$<)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(GEN) $<

# Rewritten only when VERSION changes, so nothing rebuilds for nothing.
$(GEN)/version.h: FORCE | $(GEN)
	$(Q)printf '#define SW_VERSION "%s"\n' '$(VERSION)' > $@.tmp && \
		{ cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

version:
	@echo $(VERSION)

FORCE:

$(OBJ)/embed: tools/embed.c | $(OBJ)
	$(call msg,HOSTCC,$@)
	$(Q)$(CC) -O2 $(WARN) -o $@ $<

$(GEN)/rules_embedded.c: $(OBJ)/embed $(RULE_FILES) | $(GEN)
	$(call msg,EMBED,$@)
	$(Q)$(OBJ)/embed $@ $(RULE_FILES)

$(OBJ)/sprawl.pb-c.o: $(GEN)/sprawl.pb-c.c | $(OBJ)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(GEN) -c $< -o $@

$(OBJ)/rules_embedded.o: $(GEN)/rules_embedded.c | $(OBJ)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -Iuserspace/src -c $< -o $@

$(OBJ)/%.o: userspace/src/%.c $(wildcard userspace/src/*.h) $(GEN)/sprawl.pb-c.h $(GEN)/version.h \
		bpf/sprawl_events.h | $(OBJ)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The daemon's own files (userspace/*.c) are the only ones that see the BPF skeleton.
$(OBJ)/daemon/%.o: userspace/%.c $(wildcard userspace/*.h) $(wildcard userspace/src/*.h) \
		$(GEN)/sprawl.pb-c.h $(GEN)/version.h $(OUTPUT)/sprawl.skel.h bpf/sprawl_events.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iuserspace -c $< -o $@

$(BIN)/sprawlwatchd: $(DAEMON_OBJS) $(LIB) | $(BIN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(OBJ)/tools/%.o: tools/%.c $(wildcard tools/*.h) $(wildcard userspace/src/*.h) \
		$(GEN)/sprawl.pb-c.h $(GEN)/version.h | $(OBJ)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itools -c $< -o $@

# The gitleaks importer reads TOML with toml++ (C++17; Debian has no C TOML library).
$(OBJ)/tools/gitleaks_toml.o: tools/gitleaks_toml.cpp tools/gitleaks_toml.h | $(OBJ)/tools
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(CFLAGS) -std=c++17 -Wall -Wextra -Werror -Itools -DTOML_HEADER_ONLY=0 -c $< -o $@

$(BIN)/sprawlctl: $(CTL_OBJS) $(LIB) | $(BIN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS) -ltomlplusplus -lstdc++

$(TBIN)/test_%: tests/unit/test_%.c $(LIB) $(wildcard tests/unit/*.h) | $(TBIN)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-unused-parameter -o $@ $< $(LIB) $(LIBS) -lcmocka

unit: $(UNIT_BINS)
	@bash tests/unit/run.sh $(UNIT_BINS) $(UNIT_SCRIPTS)

unit-bins: $(UNIT_BINS)

# A leak, an out-of-bounds access or undefined behaviour fails the test that caused it.
unit-asan:
	@$(MAKE) --no-print-directory -j$(NPROC) OUTPUT=$(OUTPUT)/asan CFLAGS="$(ASAN_CFLAGS)" unit-bins
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		bash tests/unit/run.sh $(patsubst $(OUTPUT)/%,$(OUTPUT)/asan/%,$(UNIT_BINS))

e2e: all
	@bash tests/e2e/run.sh

# Every libFuzzer target built (clang -fsanitize=fuzzer,address,undefined); a crash, a leak or
# a target that stops short of its runs fails.
fuzz:
	@FUZZ_RUNS=$(FUZZ_RUNS) bash tests/fuzz/build.sh 0 $(FUZZ_FAST)
	@bash tests/fuzz/build.sh $(FUZZ_SECS) $(FUZZ_SLOW)

fuzz-smoke:
	@bash tests/fuzz/build.sh $(FUZZ_SMOKE_SECS)

# Mutation check: small mutations of key behaviours, each built in a scratch copy of the tree
# and run against the tests that must kill it (tests/mutate/mutations.txt).
mutate:
	@bash tests/mutate/run.sh

test: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory -j$(NPROC) all unit-bins
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory e2e

bench: all
	@bash tests/bench/run.sh

run: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	$(BIN)/sprawlwatchd --alerts -

# The one description of the installed layout: `make deb` packs what this lays out under
# DESTDIR with PREFIX=/usr. An existing config file is the administrator's: never replaced.
install: all $(OUTPUT)/sprawlwatchd.yaml
	install -D -m 0755 $(BIN)/sprawlwatchd $(DESTDIR)$(SBINDIR)/sprawlwatchd
	install -D -m 0755 $(BIN)/sprawlctl $(DESTDIR)$(BINDIR)/sprawlctl
	install -d -m 0755 $(DESTDIR)/etc/sprawlwatch/rules
	install -m 0644 $(RULE_FILES) $(DESTDIR)/etc/sprawlwatch/rules/
	[ -e $(DESTDIR)/etc/sprawlwatch/sprawlwatchd.yaml ] || install -m 0644 \
		$(OUTPUT)/sprawlwatchd.yaml $(DESTDIR)/etc/sprawlwatch/sprawlwatchd.yaml
	install -D -m 0644 $(OUTPUT)/sprawlwatch.service $(DESTDIR)$(UNITDIR)/sprawlwatch.service
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	for m in packaging/man/man8/*.8; do \
		gzip -9n < $$m > $(DESTDIR)$(MANDIR)/man8/$$(basename $$m).gz; done
	install -D -m 0644 packaging/sprawlctl.bash-completion $(DESTDIR)$(COMPLETIONDIR)/sprawlctl
	ln -sf sprawlctl $(DESTDIR)$(COMPLETIONDIR)/sprawlwatchd
	install -D -m 0644 packaging/sprawlwatch.logrotate $(DESTDIR)/etc/logrotate.d/sprawlwatch
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

# sprawlwatch_VERSION_ARCH.deb in $(OUTPUT), built with dpkg-deb.
deb: all
	@packaging/mkdeb.sh $(VERSION) $(OUTPUT)

# The tracked sources in a git checkout; in an unpacked tarball (no .git here), the sources
# found under the source directories. Never empty: clang-format without files reads stdin.
FORMAT_SRCS = $(or $(if $(wildcard .git),$(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)), \
	$(shell find bpf userspace tools tests -name '*.[ch]' -not -path './.output/*' | sort))
format:
	clang-format -i $(FORMAT_SRCS)

# Part of `make test`: the tree stays as `make format` leaves it.
format-check:
	@if command -v clang-format >/dev/null; then \
		clang-format --dry-run --Werror $(FORMAT_SRCS) </dev/null && echo "format: ok"; \
	else echo "format: clang-format not installed, not checked"; fi

clean:
	rm -rf $(OUTPUT)
