/* test_misc: guest RAM layout and limits, KVM kind detection, the CMOS clock,
 * CPUID edits, GDT descriptors. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../../devices/platform.h"
#include "../../vmm/boot64.h"
#include "../../vmm/cpuid.h"
#include "../../vmm/cpustate.h"
#include "../../vmm/kvm.h"
#include "../../vmm/mem.h"
#include "../../vmm/vcpu.h"
#include "../../vmm/vcpu_prio.h"
#include "../../vmm/vm.h"
#include "suites.h"

static void test_mem_layout(void)
{
	struct mem_slot s[2];

	CU_ASSERT_EQUAL(mem_layout(512ULL << 20, s), 1);
	CU_ASSERT_EQUAL(s[0].len, 512ULL << 20);
	CU_ASSERT_EQUAL(mem_layout(3ULL << 30, s), 1);
	CU_ASSERT_EQUAL(mem_layout(5ULL << 30, s), 2);
	CU_ASSERT_EQUAL(s[0].len, 3ULL << 30);
	CU_ASSERT_EQUAL(s[1].gpa, 4ULL << 30);
	CU_ASSERT_EQUAL(s[1].len, 2ULL << 30);
	CU_ASSERT_EQUAL(s[1].offset, 3ULL << 30);
}

static void test_mem_limits(void)
{
	struct mem m;

	CU_ASSERT_EQUAL(mem_init(&m, 1 << 20), -EINVAL);		/* below minimum */
	CU_ASSERT_EQUAL(mem_init(&m, (16 << 20) + 100), -EINVAL);	/* not page sized */
	CU_ASSERT_EQUAL(mem_init(&m, 1ULL << 50), -ENOMEM);		/* more than the host */
	CU_ASSERT_EQUAL(mem_init(&m, 16 << 20), 0);
	CU_ASSERT_PTR_NOT_NULL(mem_hva(&m, 0, 16 << 20));
	CU_ASSERT_PTR_NULL(mem_hva(&m, 0, (16 << 20) + 1));
	CU_ASSERT_PTR_NULL(mem_hva(&m, 16 << 20, 1));
	CU_ASSERT_PTR_NOT_NULL(mem_hva(&m, (16 << 20) - 1, 1));
	mem_free(&m);
}

/* Guest RAM starts on a 2 MiB boundary whatever the size and whatever else
 * is mapped: KVM maps the guest's 2 MiB pages with huge pages only then (a
 * 4 KiB-aligned start cost the Linux guest 28000 nested page faults at boot
 * instead of 600). Small mappings in between push the next one off any
 * boundary the kernel might have chosen by itself. */
static void test_mem_aligned(void)
{
	static const uint64_t sizes[] = { 4 << 20, (6 << 20) + 4096, (64 << 20) + 12288,
					  (256ULL << 20) + 4096 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	void *pad[N];

	for (unsigned i = 0; i < N; i++) {
		struct mem m;

		pad[i] = mmap(NULL, 4096 * (i + 1), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CU_ASSERT_NOT_EQUAL_FATAL(pad[i], MAP_FAILED);
		CU_ASSERT_EQUAL_FATAL(mem_init(&m, sizes[i]), 0);
		CU_ASSERT_EQUAL((uintptr_t)m.hva % MEM_HUGE_ALIGN, 0);
		memset(m.hva + sizes[i] - 4096, 0xa5, 4096);	/* the last page is there */
		mem_free(&m);
	}
	for (unsigned i = 0; i < N; i++)
		munmap(pad[i], 4096 * (i + 1));
}

static void test_kvm_kind(void)
{
	char dir[] = "/tmp/kvmkind.XXXXXX", sub[300];

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	CU_ASSERT_EQUAL(kvm_kind_detect(dir), KVM_KIND_UNKNOWN);
	snprintf(sub, sizeof(sub), "%s/kvm_amd", dir);
	mkdir(sub, 0700);
	CU_ASSERT_EQUAL(kvm_kind_detect(dir), KVM_KIND_AMD);
	snprintf(sub, sizeof(sub), "%s/kvm_pvm", dir);
	mkdir(sub, 0700);
	CU_ASSERT_EQUAL(kvm_kind_detect(dir), KVM_KIND_PVM);	/* PVM wins */
	CU_ASSERT_STRING_EQUAL(kvm_kind_name(KVM_KIND_PVM), "pvm");
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/kvm_amd", dir);
	rmdir(sub);
	rmdir(dir);
}

static void test_rtc(void)
{
	time_t t = 1795374156;	/* 2026-11-22 19:02:36 UTC */

	CU_ASSERT_EQUAL(rtc_register(0x00, t), 0x36);
	CU_ASSERT_EQUAL(rtc_register(0x02, t), 0x02);
	CU_ASSERT_EQUAL(rtc_register(0x04, t), 0x19);
	CU_ASSERT_EQUAL(rtc_register(0x07, t), 0x22);
	CU_ASSERT_EQUAL(rtc_register(0x08, t), 0x11);
	CU_ASSERT_EQUAL(rtc_register(0x09, t), 0x26);
	CU_ASSERT_EQUAL(rtc_register(0x32, t), 0x20);
	CU_ASSERT_EQUAL(rtc_register(0x0b, t), 0x02);	/* 24 h, BCD */
}

static void test_cpuid(void)
{
	struct kvm_cpuid2 *base = calloc(1, sizeof(*base) + 4 * sizeof(base->entries[0]));
	struct kvm_cpuid2 *c;
	struct kvm_cpuid_entry2 *e;

	base->nent = 4;
	base->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .ebx = 0x68747541 };
	base->entries[1] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0x12345678 };
	base->entries[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1 };
	base->entries[3] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0xffff };
	c = cpuid_for_vcpu(base, 3, 4);
	CU_ASSERT_FATAL(c != NULL);
	e = cpuid_find(c, 1, 0);
	CU_ASSERT_EQUAL(e->ebx >> 24, 3);		/* APIC ID */
	CU_ASSERT_EQUAL((e->ebx >> 16) & 0xff, 4);	/* logical CPUs */
	CU_ASSERT_EQUAL(e->ebx & 0xffff, 0x5678);
	CU_ASSERT(e->ecx & (1u << 31));			/* hypervisor */
	e = cpuid_find(c, 0xb, 1);
	CU_ASSERT_EQUAL(e->edx, 3);
	CU_ASSERT_EQUAL(e->ebx, 4);
	CU_ASSERT_EQUAL(e->eax, 2);
	e = cpuid_find(c, 0x80000008, 0);
	CU_ASSERT_EQUAL(e->ecx & 0xff, 3);		/* AMD: cores - 1 */
	CU_ASSERT_PTR_NULL(cpuid_find(c, 7, 0));
	CU_ASSERT_EQUAL(base->entries[1].ebx, 0x12345678);	/* base untouched */
	free(c);
	free(base);
}

static void test_gdt(void)
{
	CU_ASSERT_EQUAL(boot64_gdt_entry(0, 0xfffff, 0xa09b), 0x00af9b000000ffffULL);
	CU_ASSERT_EQUAL(boot64_gdt_entry(0, 0xfffff, 0xc093), 0x00cf93000000ffffULL);
	CU_ASSERT_EQUAL(boot64_gdt_entry(0, 0x67, 0x008b), 0x00008b0000000067ULL);
}

/* The pages a post-copy source pushes before the vCPU state: only enabled
 * paravirtual areas, page-aligned, each once, never more than asked. */
static void test_kvm_pages(void)
{
	static struct vcpu_state a, b;
	uint64_t gpa[4];
	int n = 0;

	a.nmsrs = 6;
	a.msrs[0] = (struct kvm_msr_entry){ .index = 0x4b564d01, .data = 0x12345000 | 0x40 | 1 };
	a.msrs[1] = (struct kvm_msr_entry){ .index = 0x4b564d03, .data = 0x7000 | 1 };
	a.msrs[2] = (struct kvm_msr_entry){ .index = 0x4b564d04, .data = 0x9000 };	/* off */
	a.msrs[3] = (struct kvm_msr_entry){ .index = 0xc0000082, .data = 0xffff1001 };	/* LSTAR */
	a.msrs[4] = (struct kvm_msr_entry){ .index = 0x12, .data = 0 };
	a.msrs[5] = (struct kvm_msr_entry){ .index = 0x4b564d00, .data = 0x12344ff0 };	/* no bit 0 */
	b = a;
	b.msrs[0].data = 0x12345000 | 0x60 | 1;	/* the next vCPU: same page */
	b.msrs[1].data = 0x8040 | 1;
	vcpu_state_kvm_pages(&a, gpa, &n, 4);
	vcpu_state_kvm_pages(&b, gpa, &n, 4);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(gpa[0], 0x12345000);
	CU_ASSERT_EQUAL(gpa[1], 0x7000);
	CU_ASSERT_EQUAL(gpa[2], 0x12344000);
	CU_ASSERT_EQUAL(gpa[3], 0x8000);
	b.msrs[5].data = 0;	/* never set: KVM writes nothing */
	n = 0;
	vcpu_state_kvm_pages(&b, gpa, &n, 4);
	CU_ASSERT_EQUAL(n, 2);
	n = 0;
	vcpu_state_kvm_pages(&b, gpa, &n, 1);
	CU_ASSERT_EQUAL(n, 1);
	/* a wall clock (12 bytes) and a kvmclock (32 bytes) that cross into
	 * the next page need that page too; flag bits are not address */
	b.nmsrs = 2;
	b.msrs[0] = (struct kvm_msr_entry){ .index = 0x4b564d00, .data = 0x20ffc };
	b.msrs[1] = (struct kvm_msr_entry){ .index = 0x12, .data = 0x30fe0 | 1 };
	n = 0;
	vcpu_state_kvm_pages(&b, gpa, &n, 4);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(gpa[0], 0x20000);
	CU_ASSERT_EQUAL(gpa[1], 0x21000);
	CU_ASSERT_EQUAL(gpa[2], 0x30000);	/* 0x30fe0-0x30fff: one page */
	b.msrs[1].data = 0x30fe2 | 1;		/* crosses: 0x30fe2-0x31001 */
	n = 0;
	vcpu_state_kvm_pages(&b, gpa, &n, 4);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(gpa[3], 0x31000);
}

/* A stand-in vCPU thread: publishes its id as a vCPU's does, then waits. */
static int prio_quit;

static void *prio_thread(void *arg)
{
	vcpu_prio_started(arg);
	while (!__atomic_load_n(&prio_quit, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

static int nice_of(const struct vcpu *v)
{
	while (!__atomic_load_n(&v->tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	return getpriority(PRIO_PROCESS, (id_t)v->tid);
}

/* Lowered for vCPUs already running and for one started afterwards; back
 * to where they were on restore; the caller's own priority untouched. */
static void test_vcpu_prio(void)
{
	struct vm vm;
	struct vcpu v[2];
	pthread_t t[2];
	int base = getpriority(PRIO_PROCESS, 0), r, want;

	memset(&vm, 0, sizeof(vm));
	memset(v, 0, sizeof(v));
	vm.ncpus = 2;
	vm.vcpus = v;
	v[0].vm = v[1].vm = &vm;
	prio_quit = 0;
	CU_ASSERT_FATAL(pthread_create(&t[0], NULL, prio_thread, &v[0]) == 0);
	CU_ASSERT_EQUAL(nice_of(&v[0]), base);
	CU_ASSERT_EQUAL(vcpu_prio_lower(&vm, 0), 0);		/* 0: off */
	r = vcpu_prio_lower(&vm, 3);
	CU_ASSERT(r == 0 || r == 1);	/* 0 where it could not be undone */
	want = r == 1 ? base + 3 : base;
	CU_ASSERT_EQUAL(nice_of(&v[0]), want);
	CU_ASSERT_FATAL(pthread_create(&t[1], NULL, prio_thread, &v[1]) == 0);
	CU_ASSERT_EQUAL(nice_of(&v[1]), want);
	CU_ASSERT_EQUAL(getpriority(PRIO_PROCESS, 0), base);
	vcpu_prio_restore(&vm);
	CU_ASSERT_EQUAL(nice_of(&v[0]), base);
	CU_ASSERT_EQUAL(nice_of(&v[1]), base);
	vcpu_prio_restore(&vm);			/* twice: a no-op */
	CU_ASSERT_EQUAL(nice_of(&v[0]), base);
	__atomic_store_n(&prio_quit, 1, __ATOMIC_RELEASE);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
}

int suite_misc(void)
{
	static const struct unit_test t[] = {
		{ "guest RAM layout", test_mem_layout },
		{ "guest RAM limits and bounds", test_mem_limits },
		{ "guest RAM on a huge-page boundary", test_mem_aligned },
		{ "KVM kind detection", test_kvm_kind },
		{ "CMOS clock registers", test_rtc },
		{ "CPUID edits", test_cpuid },
		{ "GDT descriptors", test_gdt },
		{ "pages KVM touches for a vCPU", test_kvm_pages },
		{ "vCPU priority lowered and restored", test_vcpu_prio },
		{ 0 }
	};
	return add_suite("misc", t);
}
