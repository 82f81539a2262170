// bpflink-cflags: -target bpfeb-freestanding-none
/* big_endian_statics, input b: static_same_name's b.c built for big-endian BPF. */
#include "../static_same_name/b.c"
