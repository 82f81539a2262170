/* exc_tag_misplaced, input b: the callback the tag meant. */
#include "../include/bpf_defs.h"

__noinline int tm_cb(__u64 cookie)
{
	return 5;
}
