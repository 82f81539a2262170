/* syscall_cross, input a: a BPF_PROG_TYPE_SYSCALL program (test-run with no
 * packet and no context) that calls into b.o and bumps b.o's counter. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int b_mul(int x, int y); /* b.c */
extern int b_runs;       /* b.c, .bss */

/* b_mul(6, 7) * 10 + runs so far (3 after three runs) */
SEC("syscall")
int sys_a(void *ctx)
{
	b_runs += 1;
	return b_mul(6, 7) * 10 + b_runs;
}
