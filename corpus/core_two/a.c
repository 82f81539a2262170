/* core_two, input a: CO-RE relocations against struct __sk_buff through a
 * local "flavor" (__sk_buff___a) that lists a few fields in an order of its
 * own.  b.c uses a differently laid out flavor, so if the link pointed a
 * relocation at the wrong input's BTF type, the access string would name a
 * different field and the result would change. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct __sk_buff___a {
	__u32 pkt_type;
	__u32 len;
	__u32 mark;
	__u32 no_such_field_a;
} __attribute__((preserve_access_index));

/* len (64) * 10 + exists(mark) + 2 * exists(no_such_field_a) (0)
 * + 100 * byte_size(len) (4) + 1000 * (byte_offset(len) == 0) */
SEC("tc")
int core_a(struct __sk_buff *ctx)
{
	struct __sk_buff___a *skb = (void *)ctx;
	int ret = skb->len * 10;

	ret += __builtin_preserve_field_info(skb->mark, BPF_FIELD_EXISTS);
	ret += 2 * __builtin_preserve_field_info(skb->no_such_field_a, BPF_FIELD_EXISTS);
	ret += 100 * __builtin_preserve_field_info(skb->len, BPF_FIELD_BYTE_SIZE);
	ret += 1000 * (__builtin_preserve_field_info(skb->len, BPF_FIELD_BYTE_OFFSET) == 0);
	return ret;
}
