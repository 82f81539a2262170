/* err_license_mismatch, input b: a different license string.  The output
 * can carry only one "license" section, and picking either would silently
 * relicense the other input's code, so the link must fail. */
#include "../include/bpf_defs.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int lm_b(struct __sk_buff *skb)
{
	return 2;
}
