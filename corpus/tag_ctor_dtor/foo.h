/* struct foo names its constructor and destructor in decl tags, as libbpf's
 * reviewers sketched: "struct -> ctor, struct -> dtor". */
struct __attribute__((btf_decl_tag("ctor:init_foo"))) __attribute__((btf_decl_tag("dtor:fini_foo"))) foo {
	int a;
	int b;
};
