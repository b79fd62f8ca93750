# One flat Makefile: explicit object lists, everything under build/.
#   make            the VMM (build/vmm) and its static twin for the lab (build/vmm.static)
#   make guest      the test guests: Linux (build/guest/) and micro (build/micro/)
#   make test       install what is missing, build, run every test
#   make demo       install, build, boot the guest in the lab and show what happens
#   make asan       the tests with -fsanitize=address,undefined

CC      ?= gcc
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation -pthread
override LDLIBS += -ljson-c -llz4 -lxxhash -pthread
B       := build

VMM_SRCS := vmm/err.c vmm/kvm.c vmm/mem.c vmm/bus.c vmm/boot64.c vmm/linux.c vmm/acpi.c \
            vmm/aml.c vmm/cpuid.c vmm/msr.c vmm/irq.c vmm/cpustate.c vmm/vcpu.c vmm/vm.c vmm/loop.c vmm/console.c vmm/micro.c vmm/dirty.c vmm/pagemap.c vmm/vcpu_prio.c
DEV_SRCS := devices/devices.c devices/serial.c devices/i8042.c devices/rtc.c devices/pm.c \
            devices/debugport.c devices/virtqueue.c \
            devices/pci.c devices/msix.c devices/virtio-pci.c devices/virtio-rng.c \
            devices/virtio-blk.c devices/virtio-net.c
MIG_SRCS := migration/transport.c migration/stream.c migration/ram.c migration/snapshot.c migration/tcp.c \
            migration/pages.c migration/policy.c migration/migrate.c migration/postcopy_src.c \
            migration/postcopy.c migration/postcopy_recover.c migration/resident.c
CLI_SRCS := cli/opts.c cli/run.c cli/api.c cli/apimig.c cli/ctl.c cli/migrate.c
MAIN_SRC := cli/main.c
LIB_SRCS := $(VMM_SRCS) $(DEV_SRCS) $(MIG_SRCS) $(CLI_SRCS)

UNIT_SRCS := tests/unit/main.c tests/unit/test_bus.c tests/unit/test_linux.c \
             tests/unit/test_acpi.c tests/unit/test_opts.c tests/unit/test_serial.c \
             tests/unit/test_misc.c tests/unit/test_virtq.c tests/unit/test_stream.c \
             tests/unit/test_pages.c
INTEG_SRCS := tests/integration/main.c tests/integration/harness.c \
              tests/integration/test_cli.c tests/integration/test_micro.c tests/integration/test_linux.c \
              tests/integration/test_devices.c tests/integration/test_state.c \
              tests/integration/test_migrate.c

MICRO_GUESTS := hello crash dirtier idle

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJS := $(call obj,$(LIB_SRCS))

.PHONY: tools bench-engine bench-migrate fuzz asan-build bench-boot all guest micro linux-guest test unit integration demo asan clean setup lab-check
all: $(B)/vmm $(B)/vmm.static micro

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/vmm: $(LIB_OBJS) $(call obj,$(MAIN_SRC))
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/vmm.static: $(LIB_OBJS) $(call obj,$(MAIN_SRC))
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -static -o $@ $^ $(LDLIBS)

# Micro guests: freestanding, no SSE (the VMM does not promise it), flat binaries.
MICRO_CFLAGS := -std=c11 -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                -mno-red-zone -mno-sse -mno-mmx -mgeneral-regs-only -nostdlib -Wall -Werror
micro: $(patsubst %,$(B)/micro/%.bin,$(MICRO_GUESTS))
$(B)/micro/%.elf: guests/micro/%.c guests/micro/lib.h guests/micro/micro.h guests/micro/micro.ld
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(MICRO_CFLAGS) -static -no-pie -Wl,-T,guests/micro/micro.ld -Wl,--build-id=none -o $@ $<
$(B)/micro/%.bin: $(B)/micro/%.elf
	@objcopy -O binary $< $@

# The Linux test guest: Debian's cloud kernel and our initramfs.
linux-guest: $(B)/guest/bzImage $(B)/guest/initrd
$(B)/guest/bzImage $(B)/guest/initrd &: guests/linux/build.sh guests/linux/init $(wildcard guests/linux/*.c)
	guests/linux/build.sh $(B)
guest: micro linux-guest

unit: $(B)/unit-tests
$(B)/unit-tests: $(LIB_OBJS) $(call obj,$(UNIT_SRCS))
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ -lcunit $(LDLIBS)

$(B)/integration-tests: $(call obj,$(INTEG_SRCS)) $(B)/obj/vmm/err.o
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -static -o $@ $^ -lcunit $(LDLIBS)

$(B)/boottime: tests/tools/boottime.c
	@echo "  CC      $<"
	@$(CC) -O2 -static -Wall -Werror -o $@ $<

# Benchmark helpers: the plain-TCP baseline and a QMP client for QEMU.
TOOLS := $(B)/boottime $(B)/tcpcopy $(B)/pagecopy $(B)/qmp $(B)/udpprobe
tools: $(TOOLS)
$(B)/tcpcopy: tests/tools/tcpcopy.c $(B)/obj/migration/tcp.o $(B)/obj/vmm/err.o
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -static -o $@ $^ -pthread
PAGECOPY_OBJS := $(addprefix $(B)/obj/,migration/pages.o migration/stream.o migration/transport.o \
	migration/tcp.o migration/ram.o vmm/mem.o vmm/pagemap.o vmm/err.o)
$(B)/pagecopy: tests/tools/pagecopy.c $(PAGECOPY_OBJS)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -static -o $@ $^ $(LDLIBS)
$(B)/udpprobe: tests/tools/udpprobe.c
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -static -o $@ $<
$(B)/qmp: tests/tools/qmp.c
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -static -o $@ $< -ljson-c

# libFuzzer targets (clang), each run for FUZZ_SECONDS on its corpus.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := virtq stream snapshot
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(filter-out cli/%,$(LIB_SRCS)) cli/opts.c -ljson-c -llz4 -lxxhash -pthread
fuzz: $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(B)/fuzz/corpus-$$t && \
		$(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(B)/fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>&1 | tail -4 || exit 1; \
	done

setup:
	@scripts/setup.sh

test: setup
	$(MAKE) all guest tools $(B)/unit-tests $(B)/integration-tests asan-build
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	scripts/run-tests.sh $(B)

demo: setup
	$(MAKE) all guest
	scripts/demo.sh $(B)

# The unit tests and the VMM built with AddressSanitizer and UBSan (any report
# fails the run); make test runs them too.
SAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
asan-build:
	@$(MAKE) --no-print-directory B=build/asan CFLAGS="$(SAN_CFLAGS)" build/asan/unit-tests build/asan/vmm
asan: asan-build $(B)/integration-tests
	build/asan/unit-tests
	VMM=build/asan/vmm GUEST_DIR=$(B)/guest $(B)/integration-tests cli

bench-boot: setup
	$(MAKE) all guest $(B)/boottime
	scripts/bench-boot.sh $(B)

bench-migrate: setup
	$(MAKE) all guest tools
	scripts/bench-migrate.sh $(B)

bench-engine: setup
	$(MAKE) tools
	scripts/bench-engine.sh $(B)

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
