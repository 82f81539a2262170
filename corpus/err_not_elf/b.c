/* err_not_elf, input b: a valid object next to the text file a.o. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int notelf_b(struct __sk_buff *skb)
{
	return 1;
}
