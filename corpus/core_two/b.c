/* core_two, input b: another flavor of struct __sk_buff with the fields in a
 * different order, plus a flavored struct that matches no kernel type. */
#include "../include/bpf_defs.h"

struct __sk_buff___b {
	__u32 mark;
	__u32 no_such_field_b;
	__u32 data_end;
	__u32 data;
	__u32 len;
} __attribute__((preserve_access_index));

/* (data_end - data) (64) + 1000 * byte_offset(data) (76 in the UAPI layout)
 * + 10 * exists(no_such_field_b) (0) + 20 * exists(len) */
SEC("tc")
int core_b(struct __sk_buff *ctx)
{
	struct __sk_buff___b *skb = (void *)ctx;
	int ret = skb->data_end - skb->data;

	ret += 1000 * __builtin_preserve_field_info(skb->data, BPF_FIELD_BYTE_OFFSET);
	ret += 10 * __builtin_preserve_field_info(skb->no_such_field_b, BPF_FIELD_EXISTS);
	ret += 20 * __builtin_preserve_field_info(skb->len, BPF_FIELD_EXISTS);
	return ret;
}
