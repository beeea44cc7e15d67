# SPDX-License-Identifier: Apache-2.0
# sprawlwatch: deps, build, test, bench, install, run. `make V=1` shows the commands.

OUTPUT ?= .output
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c
LLVM_STRIP ?= llvm-strip
PREFIX ?= /usr/local

DEB_PACKAGES := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev protobuf-c-compiler \
	libprotobuf-c-dev libcmocka-dev libsodium-dev libpcre2-dev libyaml-dev pkg-config \
	libhyperscan-dev libtomlplusplus-dev g++

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
LIBS := -lbpf -lelf -lz -lsodium -lpcre2-8 -lhs -lyaml -lprotobuf-c -lpthread

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
BPF_HDRS := $(wildcard bpf/*.h)
RULE_FILES := $(sort $(wildcard rules/*.yaml))

.PHONY: all deps test unit e2e bench run install format format-check clean
.DELETE_ON_ERROR:

all: $(BIN)/sprawlwatchd $(BIN)/sprawlctl

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

$(OBJ)/%.o: userspace/src/%.c $(wildcard userspace/src/*.h) $(GEN)/sprawl.pb-c.h \
		bpf/sprawl_events.h | $(OBJ)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The daemon's own files (userspace/*.c) are the only ones that see the BPF skeleton.
$(OBJ)/daemon/%.o: userspace/%.c $(wildcard userspace/*.h) $(wildcard userspace/src/*.h) \
		$(GEN)/sprawl.pb-c.h $(OUTPUT)/sprawl.skel.h bpf/sprawl_events.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iuserspace -c $< -o $@

$(BIN)/sprawlwatchd: $(DAEMON_OBJS) $(LIB) | $(BIN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(OBJ)/tools/%.o: tools/%.c $(wildcard tools/*.h) $(wildcard userspace/src/*.h) \
		$(GEN)/sprawl.pb-c.h | $(OBJ)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itools -c $< -o $@

# The gitleaks importer reads TOML with toml++ (C++17; Debian has no C TOML library).
$(OBJ)/tools/gitleaks_toml.o: tools/gitleaks_toml.cpp tools/gitleaks_toml.h | $(OBJ)/tools
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(CFLAGS) -std=c++17 -Wall -Wextra -Werror -Itools -DTOML_HEADER_ONLY=0 -c $< -o $@

$(BIN)/sprawlctl: $(CTL_OBJS) $(LIB) | $(BIN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS) -ltomlplusplus -lstdc++

$(TBIN)/test_%: tests/unit/test_%.c $(LIB) | $(TBIN)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-unused-parameter -o $@ $< $(LIB) $(LIBS) -lcmocka

unit: $(UNIT_BINS)
	@bash tests/unit/run.sh $(UNIT_BINS)

e2e: all
	@bash tests/e2e/run.sh

test: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e

bench: all
	@bash tests/bench/run.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BIN)/sprawlwatchd --alerts -

install: all
	install -D -m 0755 $(BIN)/sprawlwatchd $(DESTDIR)$(PREFIX)/sbin/sprawlwatchd
	install -D -m 0755 $(BIN)/sprawlctl $(DESTDIR)$(PREFIX)/bin/sprawlctl
	install -d -m 0755 $(DESTDIR)/etc/sprawlwatch/rules
	install -m 0644 $(RULE_FILES) $(DESTDIR)/etc/sprawlwatch/rules/
	install -D -m 0644 tools/sprawlwatch.service \
		$(DESTDIR)/etc/systemd/system/sprawlwatch.service

FORMAT_SRCS = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_SRCS)

# Part of `make test`: the tree stays as `make format` leaves it.
format-check:
	@if command -v clang-format >/dev/null; then \
		clang-format --dry-run --Werror $(FORMAT_SRCS) && echo "format: ok"; \
	else echo "format: clang-format not installed, not checked"; fi

clean:
	rm -rf $(OUTPUT)
