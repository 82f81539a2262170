/* kfunc_ksym_kconfig, input a.  Both inputs declare the same kfuncs, the same
 * untyped ksym and the same kconfig externs; the link must merge each pair
 * into one extern that libbpf resolves once.
 *
 * The kernel's struct sk_buff is read through bpf_cast_to_kern_ctx() with a
 * CO-RE-relocated partial definition, so the kfunc's result is really used. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

extern const void _stext __ksym;

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern int CONFIG_BPFLINK_NO_SUCH_OPTION __kconfig __weak; /* absent: 0 */

struct sk_buff {
	unsigned int len;
} __attribute__((preserve_access_index));

/* kern skb->len (64) + 1000 * (CONFIG_BPF_SYSCALL) + 2000 * (_stext is a kernel address)
 * + 4000 * (kernel >= 4.0) + 8000 * (CONFIG_BPFLINK_NO_SUCH_OPTION != 0) */
SEC("tc")
int kf_a(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	int ret = 0;

	bpf_rcu_read_lock();
	ret += skb->len;
	bpf_rcu_read_unlock();
	if (CONFIG_BPF_SYSCALL)
		ret += 1000;
	if ((__u64)&_stext >> 63) /* kernel text address: top bit set */
		ret += 2000;
	if (LINUX_KERNEL_VERSION >= (4 << 16))
		ret += 4000;
	if (CONFIG_BPFLINK_NO_SUCH_OPTION)
		ret += 8000;
	return ret;
}
