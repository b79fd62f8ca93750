/* proto: the section types of the state stream, shared by snapshots and
 * (later) the migration protocol. A snapshot is, in this order:
 *
 *   1. header ("VMMSTATE", version)
 *   2. CONFIG: guest RAM size, vCPU count, kind of guest, device counts
 *   3. DEVICE, one per device: name, version, the device's own fields
 *   4. VCPU, one per vCPU: registers, FPU/XSAVE, XCRs, MSRs, LAPIC, events
 *   5. VM: PIC, IOAPIC, PIT, kvmclock
 *   6. RAM, many: runs of non-zero pages (zero pages are not sent)
 *   7. END
 *
 * A reader refuses an unknown type unless its OPTIONAL flag is set. */
#ifndef MIGRATION_PROTO_H
#define MIGRATION_PROTO_H

enum section_type {
	SEC_END = 0,
	SEC_CONFIG = 1,
	SEC_VM = 2,
	SEC_VCPU = 3,
	SEC_DEVICE = 4,
	SEC_RAM = 5,
	SEC_PAGES = 6,		/* migration: a batch of encoded pages (pages.h) */
	SEC_DISCARD = 7,	/* post-copy: u32 n, n x (u64 first page, u64 pages) to drop */
	SEC_POSTCOPY = 8,	/* post-copy: the rest of RAM comes on demand */
	SEC_HAVE = 9,		/* post-copy resume: the pages the destination holds */
	SEC_SYNC = 10,		/* migration: answer "RD" once everything before is
				 * done (the VM is built): the source stuns only then */
	SEC_RESIDENT = 11,	/* migration: the pages the source has backed (resident.h) */
};

#endif
