// bpflink-cflags: -target bpfeb-freestanding-none
/* big_endian_statics, input a: static_same_name's a.c built for big-endian BPF. */
#include "../static_same_name/a.c"
