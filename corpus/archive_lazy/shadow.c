/* archive_lazy, member shadow.o: defines a BPF function named like the
 * kfunc prog.o declares (__ksym).  A kfunc extern is the kernel's, resolved
 * by libbpf at load time; it must never take this member. */
#include "../include/bpf_defs.h"

int shadow_calls;

__noinline void bpf_rcu_read_lock(void)
{
	shadow_calls++;
}
