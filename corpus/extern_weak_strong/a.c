/* extern_weak_strong, input a: only declares pick() and calls it.  The
 * extern comes first on the command line, before a weak and a strong
 * definition: libbpf's linker records the extern as strong, lets the weak
 * definition take it over while keeping it "strong", then reports the
 * strong definition as a conflict.  bpflink binds the extern to the strong
 * definition in every order. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

int pick(int x);

SEC("tc")
int ews_prog(struct __sk_buff *skb)
{
	return pick(skb->len);	/* strong: 64 + 1000 */
}
