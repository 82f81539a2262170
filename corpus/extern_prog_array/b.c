/* extern_prog_array, input b: the prog array of a.c, declared extern. */
#include "../include/bpf_defs.h"

static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)12;

extern struct {
	__uint(type, 3);			/* BPF_MAP_TYPE_PROG_ARRAY */
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} epa_jmp SEC(".maps");

SEC("tc")
int epa_tail_b(struct __sk_buff *skb)
{
	return 88;
}

/* tail-calls a's program in slot 2: 77; 6 if the slot is empty */
SEC("tc")
int epa_entry_b(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &epa_jmp, 2);
	return 6;
}
