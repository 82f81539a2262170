/* archive_lazy, the program: linked with libarith.a (add.o mul.o unused.o
 * shadow.o weakdef.o, built by tests/test_cli_build.py with `ar rcs`), it
 * must take add.o (for lib_add) and, through add.o, mul.o (for lib_mul) --
 * and nothing else.  The kfuncs it declares are the kernel's: shadow.o's
 * bpf_rcu_read_lock() must not be taken for them.  scenario.toml links the
 * members that must be taken as plain objects, so the corpus test runs the
 * same link the archive gives. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int lib_add(int a, int b); /* add.c */

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

/* skb->len is 64: lib_add(64, 100) = lib_mul(64, 2) + 100 = 64 * 2 * 3 + 100 = 484 */
SEC("tc")
int ar_prog(struct __sk_buff *skb)
{
	int r;

	bpf_rcu_read_lock();
	r = lib_add(skb->len, 100);
	bpf_rcu_read_unlock();
	return r;
}
