/* kfunc_ksym_kconfig, input b: the same externs as a.c, declared again. */
#include "../include/bpf_defs.h"

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

extern const void _stext __ksym;

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern int CONFIG_BPFLINK_NO_SUCH_OPTION __kconfig __weak;

struct sk_buff {
	unsigned int len;
} __attribute__((preserve_access_index));

/* 2 * kern skb->len (128) + 10000 * (CONFIG_BPF_SYSCALL)
 * + 20000 * (_stext is a kernel address) + 40000 * (kernel >= 4.0)
 * + 80000 * (CONFIG_BPFLINK_NO_SUCH_OPTION != 0) */
SEC("tc")
int kf_b(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	int ret = 0;

	bpf_rcu_read_lock();
	ret += skb->len * 2;
	bpf_rcu_read_unlock();
	if (CONFIG_BPF_SYSCALL)
		ret += 10000;
	if ((__u64)&_stext >> 63) /* kernel text address: top bit set */
		ret += 20000;
	if (LINUX_KERNEL_VERSION >= (4 << 16))
		ret += 40000;
	if (CONFIG_BPFLINK_NO_SUCH_OPTION)
		ret += 80000;
	return ret;
}
