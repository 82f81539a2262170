/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal, self-contained BPF definitions for the bpflink link corpus.
 *
 * The corpus must build with nothing but `zig cc` (no kernel headers, no
 * libbpf headers, no vmlinux.h), so the handful of macros, helper
 * declarations and kernel types the scenarios use are written out here.
 * Layouts were checked against this machine's /sys/kernel/btf/vmlinux.
 *
 * Keep this header stable: every committed object embeds its BTF and line
 * info, so any edit here changes the bytes of every object in the corpus
 * (run `python corpus/build.py` afterwards and commit the results).
 */
#ifndef BPFLINK_CORPUS_BPF_DEFS_H
#define BPFLINK_CORPUS_BPF_DEFS_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

/* ---- section / linkage attributes (same spelling as libbpf's bpf_helpers.h) */
/* `used` is meaningless (and warned about) on extern declarations such as
 * `extern struct {...} m SEC(".maps")`; silence that like libbpf does. */
#define SEC(name)                                                   \
	_Pragma("GCC diagnostic push")                              \
	_Pragma("GCC diagnostic ignored \"-Wignored-attributes\"")  \
	__attribute__((section(name), used))                        \
	_Pragma("GCC diagnostic pop")
#define __weak __attribute__((weak))
#define __hidden __attribute__((visibility("hidden")))
#define __noinline __attribute__((noinline))
#define __always_inline inline __attribute__((always_inline))
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
/* Names the program's exception callback; libbpf and the kernel read the tag. */
#define __exception_cb(name) __attribute__((btf_decl_tag("exception_callback:" #name)))

/* ---- BTF-defined map macros */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

enum {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

/* ---- helpers, declared by number as in the UAPI's enum bpf_func_id */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value,
				   __u64 flags) = (void *)2;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static __u32 (*bpf_get_prandom_u32)(void) = (void *)7;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to,
				  __u32 len) = (void *)26;
static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx,
			__u64 flags) = (void *)181;

/* ---- kfuncs (resolved by libbpf against vmlinux BTF) */
extern void bpf_throw(__u64 cookie) __ksym;

/* ---- CO-RE field-info kinds for __builtin_preserve_field_info */
enum {
	BPF_FIELD_BYTE_OFFSET = 0,
	BPF_FIELD_BYTE_SIZE = 1,
	BPF_FIELD_EXISTS = 2,
	BPF_FIELD_SIGNED = 3,
	BPF_FIELD_LSHIFT_U64 = 4,
	BPF_FIELD_RSHIFT_U64 = 5,
};

/* ---- program context types.  The kernel rewrites context accesses, so the
 * field offsets must match the UAPI layout exactly (checked against vmlinux). */
struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tc_classid;
	__u32 data;
	__u32 data_end;
};

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

#define TC_ACT_OK 0
#define XDP_PASS 2

#endif /* BPFLINK_CORPUS_BPF_DEFS_H */
