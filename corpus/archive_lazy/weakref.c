/* archive_lazy, weakref.o: calls lib_optional() if some input defines it.
 * Linked with libarith.a it must take nothing: the reference is weak. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

extern int lib_optional(int a) __weak;

SEC("tc")
int weak_prog(struct __sk_buff *skb)
{
	if (lib_optional)
		return lib_optional(skb->len);
	return 1;
}
