/*
 * bpflink._accel: compiled twins of the loops that run once per BTF type or
 * per instruction.  Each has a pure-Python twin that stays and runs where
 * this module is not built:
 *
 *   parse_types  the BTF type-section parser's happy path (btf/types.py: parse)
 *   dedup_keys   dedup's shallow keys (btf/dedup.py: _Dedup.__init__)
 *   dedup_run    dedup's phases (btf/dedup.py: _Dedup.run)
 *   scan_code    the call graph's scan of each function's code
 *                (graph/insn.py: CodeScanner.scan_all)
 *
 * parse_types() decodes a .BTF type section into exactly the objects the
 * pure-Python parser makes, and makes every check that parser and
 * validate_ids/check_cycles make.  No function here words an error: on
 * anything the Python twin would refuse (or that this code does not handle,
 * such as a name offset inside another string), it returns None (dedup_run:
 * the ID of the offending type) and the caller runs the Python twin, which
 * raises the error with its message.  So a failure is never worded twice,
 * and a divergence can only ever cost time: tests/test_accel.py and
 * tests/test_graph.py hold each pair to the same results on every object
 * the suite knows and on generated and corrupted input.
 *
 * ACCEL_API is the interface's version; btf/types.py's ACCEL_API must match
 * it, or the module is not used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum {
    K_UNKN, K_INT, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF,
    K_VOLATILE, K_CONST, K_RESTRICT, K_FUNC, K_FUNC_PROTO, K_VAR, K_DATASEC,
    K_FLOAT, K_DECL_TAG, K_TYPE_TAG, K_ENUM64, K_COUNT
};

#define ACCEL_API 4
#define MAX_RESOLVE_DEPTH 32
#define FUNC_EXTERN 2
#define VAR_GLOBAL_EXTERN 2

/* The slot descriptors of BtfType, in the order kind, name, kflag, ref,
 * vlen_info, data: set through their tp_descr_set, as object.__setattr__
 * would, without the attribute lookup. */
enum { S_KIND, S_NAME, S_KFLAG, S_REF, S_VLEN_INFO, S_DATA, S_COUNT };
static const char *const slot_names[S_COUNT] = {
    "kind", "name", "kflag", "ref", "vlen_info", "data"
};

typedef struct {
    const uint8_t *p;
    Py_ssize_t len;
    int big;
} Reader;

static inline uint32_t rd32(const Reader *r, Py_ssize_t pos)
{
    const uint8_t *b = r->p + pos;
    if (r->big)
        return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    return ((uint32_t)b[3] << 24) | ((uint32_t)b[2] << 16) | ((uint32_t)b[1] << 8) | b[0];
}

/* The graph of references, in compressed rows: type i references
 * edges[start[i] .. start[i + 1]). */
typedef struct {
    uint32_t *start;
    uint32_t *edges;
    Py_ssize_t nedges, cap;
} Refs;

static int refs_push(Refs *g, uint32_t id)
{
    if (g->nedges == g->cap) {
        Py_ssize_t cap = g->cap ? 2 * g->cap : 1024;
        uint32_t *e = PyMem_Realloc(g->edges, cap * sizeof *e);
        if (!e)
            return -1;
        g->edges = e;
        g->cap = cap;
    }
    g->edges[g->nedges++] = id;
    return 0;
}

/* Whether the graph, with the references of types of kind `skip` (and
 * `skip2`) left out, has a cycle.  Iterative DFS; 0 (void) ends paths. */
static int has_cycle(const Refs *g, const uint8_t *kinds, Py_ssize_t n, int skip, int skip2,
                     uint8_t *state, uint32_t *stack, uint32_t *pos)
{
    memset(state, 0, n);            /* 0 unseen, 1 on the stack, 2 done */
    state[0] = 2;
    for (Py_ssize_t root = 1; root < n; root++) {
        if (state[root])
            continue;
        Py_ssize_t sp = 0;
        stack[sp] = (uint32_t)root;
        pos[sp] = 0;
        state[root] = 1;
        while (sp >= 0) {
            uint32_t t = stack[sp];
            uint32_t lo = g->start[t], hi = g->start[t + 1];
            if (kinds[t] == skip || kinds[t] == skip2)
                hi = lo;
            if (lo + pos[sp] < hi) {
                uint32_t nxt = g->edges[lo + pos[sp]++];
                if (state[nxt] == 1)
                    return 1;
                if (!state[nxt]) {
                    state[nxt] = 1;
                    sp++;
                    stack[sp] = nxt;
                    pos[sp] = 0;
                }
            } else {
                state[t] = 2;
                sp--;
            }
        }
    }
    return 0;
}

/* The checks of validate_ids and check_cycles, on what the parse gathered:
 * 1 if all pass. */
static int checks_pass(const Refs *g, const uint8_t *kinds, const uint32_t *ref,
                       const int64_t *word, const uint32_t *elem, const uint8_t *ksyms,
                       Py_ssize_t n)
{
    for (Py_ssize_t e = 0; e < g->nedges; e++)
        if (g->edges[e] >= (uint64_t)n)
            return 0;
    for (Py_ssize_t i = 1; i < n; i++) {
        switch (kinds[i]) {
        case K_FUNC:
            if (kinds[ref[i]] != K_FUNC_PROTO || word[i] > FUNC_EXTERN)
                return 0;
            break;
        case K_VAR:
            if (!ref[i] || word[i] > VAR_GLOBAL_EXTERN)
                return 0;
            break;
        case K_DECL_TAG:
            if (!ref[i] || word[i] < -1)
                return 0;
            break;
        case K_DATASEC:
            for (uint32_t e = g->start[i]; e < g->start[i + 1]; e++) {
                uint8_t vk = kinds[g->edges[e]];
                if (vk != K_VAR && !(vk == K_FUNC && ksyms[i]))
                    return 0;
            }
            break;
        }
    }
    int ok = 0;
    uint8_t *state = PyMem_Malloc(n);
    uint32_t *stack = PyMem_Malloc(n * sizeof *stack);
    uint32_t *pos = PyMem_Malloc(n * sizeof *pos);
    uint8_t *depth = NULL;
    if (!state || !stack || !pos)
        goto out;
    if (has_cycle(g, kinds, n, K_PTR, K_PTR, state, stack, pos) ||
        has_cycle(g, kinds, n, K_STRUCT, K_UNION, state, stack, pos))
        goto out;
    /* Chains of modifiers, typedefs, VARs and array elements: at most
     * MAX_RESOLVE_DEPTH long (acyclic now, so each walk ends). */
    depth = PyMem_Calloc(n, 1);
    if (!depth)
        goto out;
    for (Py_ssize_t s = 1; s < n; s++) {
        Py_ssize_t len = 0;
        uint32_t t = (uint32_t)s;
        while (t && !depth[t]) {
            uint32_t nxt;
            switch (kinds[t]) {
            case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT: case K_TYPE_TAG:
            case K_VAR:
                nxt = ref[t];
                break;
            case K_ARRAY:
                nxt = elem[t];
                break;
            default:
                goto walked;
            }
            stack[len++] = t;
            t = nxt;
        }
    walked:;
        unsigned d = t ? depth[t] : 0;
        while (len > 0) {
            d++;
            if (d > MAX_RESOLVE_DEPTH)
                goto out;
            depth[stack[--len]] = (uint8_t)d;
        }
    }
    ok = 1;
out:
    PyMem_Free(state);
    PyMem_Free(stack);
    PyMem_Free(pos);
    PyMem_Free(depth);
    return ok;
}

typedef struct {
    PyObject **by_off;          /* string offset -> str (borrowed), NULL if none */
    Py_ssize_t nstr;
} Names;

static inline PyObject *name_at(const Names *names, uint32_t off)
{
    return off < names->nstr ? names->by_off[off] : NULL;
}

static int set_slot(PyObject **descr, PyObject *t, int slot, PyObject *v)
{
    /* steals v */
    if (!v)
        return -1;
    int r = Py_TYPE(descr[slot])->tp_descr_set(descr[slot], t, v);
    Py_DECREF(v);
    return r;
}

static PyObject *empty_tuple;

#define BAIL 1      /* not for this parser: the caller runs the pure-Python one */

static PyObject *parse_types(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer buf;
    PyObject *cache, *btf_type, *kinds_tuple;
    int big;
    if (!PyArg_ParseTuple(args, "y*O!pOO!", &buf, &PyDict_Type, &cache, &big, &btf_type,
                          &PyTuple_Type, &kinds_tuple))
        return NULL;
    PyObject *result = NULL, *types = NULL, *descr[S_COUNT] = {0};
    PyObject *ksyms_name = NULL;
    Names names = {0};
    Refs g = {0};
    uint8_t *kinds = NULL, *ksyms = NULL;
    uint32_t *ref = NULL, *elem = NULL;
    int64_t *word = NULL;
    Reader r = {buf.buf, buf.len, big};
    int status = 0;     /* 0 ok, BAIL, -1 a Python error */

    if (!PyType_Check(btf_type) || PyTuple_GET_SIZE(kinds_tuple) != 32) {
        PyErr_SetString(PyExc_TypeError, "parse_types: bad BtfType or kinds");
        goto fail;
    }
    for (int s = 0; s < S_COUNT; s++) {
        descr[s] = PyObject_GetAttrString(btf_type, slot_names[s]);
        if (!descr[s])
            goto fail;
        if (!Py_TYPE(descr[s])->tp_descr_set) {
            PyErr_Format(PyExc_TypeError, "BtfType.%s is not a slot", slot_names[s]);
            goto fail;
        }
    }
    /* The decoded strings by offset, from the pre-split cache: a name not in
     * it (an offset inside a string, a bad offset) is the Python parser's. */
    {
        Py_ssize_t it = 0, maxoff = 0;
        PyObject *k, *v;
        while (PyDict_Next(cache, &it, &k, &v)) {
            Py_ssize_t off = PyLong_AsSsize_t(k);
            if (off < 0 || !PyUnicode_Check(v)) {
                if (PyErr_Occurred())
                    goto fail;
                status = BAIL;
                goto done;
            }
            if (off >= maxoff)
                maxoff = off + 1;
        }
        names.nstr = maxoff;
        names.by_off = PyMem_Calloc(maxoff ? maxoff : 1, sizeof(PyObject *));
        if (!names.by_off)
            goto nomem;
        it = 0;
        while (PyDict_Next(cache, &it, &k, &v))
            names.by_off[PyLong_AsSsize_t(k)] = v;
    }
    /* An upper bound on the number of types: every record is at least 12 bytes. */
    Py_ssize_t cap = r.len / 12 + 1;
    kinds = PyMem_Calloc(cap, 1);
    ksyms = PyMem_Calloc(cap, 1);
    ref = PyMem_Calloc(cap, sizeof *ref);
    elem = PyMem_Calloc(cap, sizeof *elem);
    word = PyMem_Calloc(cap, sizeof *word);
    g.start = PyMem_Calloc(cap + 1, sizeof *g.start);
    if (!kinds || !ksyms || !ref || !elem || !word || !g.start)
        goto nomem;
    ksyms_name = PyUnicode_FromString(".ksyms");
    types = PyList_New(0);
    if (!ksyms_name || !types)
        goto fail;
    Py_ssize_t n = 1, pos = 0;
    /* type 0, void: the caller puts its BtfType(UNKN) in this place */
    if (PyList_Append(types, Py_None) < 0)
        goto fail;
    g.start[0] = 0;
    g.start[1] = 0;
    while (pos < r.len) {
        if (pos + 12 > r.len) { status = BAIL; goto done; }
        uint32_t name_off = rd32(&r, pos), info = rd32(&r, pos + 4), ref_w = rd32(&r, pos + 8);
        pos += 12;
        unsigned kc = (info >> 24) & 0x1F, vlen = info & 0xFFFF;
        PyObject *kind = PyTuple_GET_ITEM(kinds_tuple, kc);
        PyObject *name = name_at(&names, name_off);
        if (kind == Py_None || !name) { status = BAIL; goto done; }
        kinds[n] = (uint8_t)kc;
        ref[n] = ref_w;
        PyObject *t = PyBaseObject_Type.tp_new((PyTypeObject *)btf_type, empty_tuple, NULL);
        if (!t)
            goto fail;
        int err = PyList_Append(types, t);
        Py_DECREF(t);
        if (err < 0)
            goto fail;
        Py_INCREF(kind);
        Py_INCREF(name);
        if (set_slot(descr, t, S_KIND, kind) < 0 || set_slot(descr, t, S_NAME, name) < 0 ||
            set_slot(descr, t, S_REF, PyLong_FromUnsignedLong(ref_w)) < 0 ||
            set_slot(descr, t, S_KFLAG, PyLong_FromUnsignedLong(info >> 31)) < 0)
            goto fail;
        if (set_slot(descr, t, S_VLEN_INFO, PyLong_FromUnsignedLong(kc == K_FUNC ? vlen : 0)) < 0)
            goto fail;
        PyObject *data = Py_None;
        Py_INCREF(Py_None);
        switch (kc) {
        case K_PTR: case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
        case K_TYPE_TAG:
            if (vlen) { status = BAIL; goto done_data; }
            if (ref_w && refs_push(&g, ref_w) < 0) goto nomem_data;
            break;
        case K_FWD: case K_FLOAT:
            if (vlen) { status = BAIL; goto done_data; }
            break;
        case K_STRUCT: case K_UNION: case K_FUNC_PROTO: case K_ENUM: case K_ENUM64:
        case K_DATASEC: {
            int width = (kc == K_FUNC_PROTO || kc == K_ENUM) ? 2 : 3;
            Py_ssize_t size = (Py_ssize_t)width * 4 * vlen;
            if (pos + size > r.len) { status = BAIL; goto done_data; }
            if (kc == K_FUNC_PROTO && refs_push(&g, ref_w) < 0) goto nomem_data;
            Py_DECREF(data);
            data = PyList_New(vlen);
            if (!data) goto fail;
            for (unsigned j = 0; j < vlen; j++, pos += width * 4) {
                uint32_t w0 = rd32(&r, pos), w1 = rd32(&r, pos + 4);
                uint32_t w2 = width == 3 ? rd32(&r, pos + 8) : 0;
                PyObject *item = PyList_New(kc == K_ENUM64 ? 2 : width), *a, *b, *c = NULL;
                if (!item) goto fail_data;
                PyList_SET_ITEM(data, j, item);
                if (kc == K_DATASEC) {
                    a = PyLong_FromUnsignedLong(w0);
                    PyList_SET_ITEM(item, 0, a);
                    if (refs_push(&g, w0) < 0) goto nomem_data;
                } else {
                    a = name_at(&names, w0);
                    if (!a) { status = BAIL; goto done_data; }
                    Py_INCREF(a);
                    PyList_SET_ITEM(item, 0, a);
                }
                if (kc == K_ENUM64) {
                    b = PyLong_FromUnsignedLongLong((uint64_t)w1 | ((uint64_t)w2 << 32));
                } else {
                    b = PyLong_FromUnsignedLong(w1);
                    if ((kc == K_STRUCT || kc == K_UNION || kc == K_FUNC_PROTO) &&
                        refs_push(&g, w1) < 0)
                        goto nomem_data;
                }
                if (!a || !b) goto fail_data;
                PyList_SET_ITEM(item, 1, b);
                if (width == 3 && kc != K_ENUM64) {
                    c = PyLong_FromUnsignedLong(w2);
                    if (!c) goto fail_data;
                    PyList_SET_ITEM(item, 2, c);
                }
            }
            if (kc == K_DATASEC &&
                PyUnicode_Compare(name, ksyms_name) == 0)
                ksyms[n] = 1;
            break;
        }
        case K_FUNC:
            word[n] = vlen;
            if (ref_w && refs_push(&g, ref_w) < 0) goto nomem_data;
            break;
        case K_ARRAY: {
            if (pos + 12 > r.len || vlen) { status = BAIL; goto done_data; }
            uint32_t e = rd32(&r, pos), ix = rd32(&r, pos + 4), ne = rd32(&r, pos + 8);
            pos += 12;
            elem[n] = e;
            Py_DECREF(data);
            data = Py_BuildValue("[kkk]", (unsigned long)e, (unsigned long)ix,
                                 (unsigned long)ne);
            if (!data) goto fail;
            if (refs_push(&g, e) < 0 || refs_push(&g, ix) < 0) goto nomem_data;
            break;
        }
        default: {          /* INT, VAR, DECL_TAG: one word */
            if (pos + 4 > r.len || vlen) { status = BAIL; goto done_data; }
            uint32_t w = rd32(&r, pos);
            pos += 4;
            Py_DECREF(data);
            if (kc == K_DECL_TAG) {
                word[n] = (int32_t)w;
                data = PyLong_FromLong((int32_t)w);
            } else {
                word[n] = w;
                data = PyLong_FromUnsignedLong(w);
            }
            if (!data) goto fail;
            if (kc != K_INT && ref_w && refs_push(&g, ref_w) < 0) goto nomem_data;
            break;
        }
        }
        if (set_slot(descr, t, S_DATA, data) < 0)
            goto fail;
        n++;
        if (n > cap) { status = BAIL; goto done; }
        g.start[n] = (uint32_t)g.nedges;
        continue;
    done_data:
        Py_DECREF(data);
        goto done;
    nomem_data:
        Py_DECREF(data);
        goto nomem;
    fail_data:
        Py_DECREF(data);
        goto fail;
    }
    if (!checks_pass(&g, kinds, ref, word, elem, ksyms, n)) {
        if (PyErr_Occurred())
            goto fail;
        status = BAIL;
    }
done:
    if (status == BAIL) {
        result = Py_None;
        Py_INCREF(result);
    } else {
        result = types;
        types = NULL;
    }
    goto out;
nomem:
    PyErr_NoMemory();
fail:
    result = NULL;
out:
    PyBuffer_Release(&buf);
    Py_XDECREF(types);
    Py_XDECREF(ksyms_name);
    for (int s = 0; s < S_COUNT; s++)
        Py_XDECREF(descr[s]);
    PyMem_Free(names.by_off);
    PyMem_Free(kinds);
    PyMem_Free(ksyms);
    PyMem_Free(ref);
    PyMem_Free(elem);
    PyMem_Free(word);
    PyMem_Free(g.start);
    PyMem_Free(g.edges);
    return result;
}


/* ---------------------------------------------------------------------------
 * dedup_run(): the phases of bpflink/btf/dedup.py's _Dedup.run, on the
 * arrays _Dedup.__init__ built (kinds, shallow-key numbers, referenced IDs).
 * A transcription of the Python phases, step for step (the comments name
 * the Python method each part mirrors); tests/test_accel.py holds the two to
 * the same ID map, kept IDs and "settled" flag.
 */

#define UNPROCESSED (-1)
#define IN_PROGRESS (-2)
#define IDENTICAL_DEPTH 16

typedef struct {
    Py_ssize_t n;
    const uint8_t *kinds;
    int64_t *sid;
    uint32_t *kstart;           /* children of i: kids[kstart[i] .. kstart[i + 1]) */
    uint32_t *kids;
    int64_t *m;
    PyObject *types;            /* borrowed: names, kflags and enum data, when needed */
    int64_t *hyp;               /* the hypothetical map: canonical ID -> candidate ID */
    uint32_t *hyp_order;        /* its keys in insertion order (a dict's order) */
    Py_ssize_t nhyp;
    PyObject *s_name, *s_kflag, *s_data;
} Dedup;

static inline int64_t dd_resolve(const int64_t *m, int64_t i)
{
    int64_t j = m[i];
    while (j >= 0 && j != i) {
        i = j;
        j = m[i];
    }
    return i;
}

static inline Py_ssize_t nkids(const Dedup *d, int64_t i)
{
    return d->kstart[i + 1] - d->kstart[i];
}

static inline const uint32_t *kids_of(const Dedup *d, int64_t i)
{
    return d->kids + d->kstart[i];
}

static PyObject *dd_attr(const Dedup *d, int64_t i, PyObject *name)
{
    return PyObject_GetAttr(PyList_GET_ITEM(d->types, i), name);
}

/* types[a].name == types[b].name: 1, 0, or -1 with an exception */
static int same_name(const Dedup *d, int64_t a, int64_t b)
{
    PyObject *na = dd_attr(d, a, d->s_name), *nb = na ? dd_attr(d, b, d->s_name) : NULL;
    int r = nb ? PyObject_RichCompareBool(na, nb, Py_EQ) : -1;
    Py_XDECREF(na);
    Py_XDECREF(nb);
    return r;
}

/* types[i].kflag == want (want 0 or 1) */
static int kflag_is(const Dedup *d, int64_t i, int want)
{
    PyObject *k = dd_attr(d, i, d->s_kflag);
    if (!k)
        return -1;
    PyObject *w = PyBool_FromLong(want);
    int r = PyObject_RichCompareBool(k, w, Py_EQ);
    Py_DECREF(w);
    Py_DECREF(k);
    return r;
}

/* not types[i].data */
static int no_data(const Dedup *d, int64_t i)
{
    PyObject *v = dd_attr(d, i, d->s_data);
    if (!v)
        return -1;
    int r = PyObject_IsTrue(v);
    Py_DECREF(v);
    return r < 0 ? -1 : !r;
}

/* _enum_compat */
static int enum_compat(const Dedup *d, int64_t a, int64_t b)
{
    int ea = no_data(d, a);
    if (ea < 0)
        return -1;
    if (!ea) {
        int eb = no_data(d, b);
        if (eb <= 0)
            return eb;
    }
    return same_name(d, a, b);
}

/* _Dedup.compatible */
static int compatible(const Dedup *d, int64_t a, int64_t b)
{
    int ka = d->kinds[a], kb = d->kinds[b];
    int r = same_name(d, a, b);
    if (r <= 0)
        return r;
    if (ka == K_FWD && (kb == K_STRUCT || kb == K_UNION))
        return kflag_is(d, a, kb == K_UNION);
    if (kb == K_FWD && (ka == K_STRUCT || ka == K_UNION))
        return kflag_is(d, b, ka == K_UNION);
    if (ka == kb && (ka == K_ENUM || ka == K_ENUM64))
        return enum_compat(d, a, b);
    return 0;
}

static inline int is_chain(int k)
{
    return k == K_PTR || k == K_TYPEDEF || k == K_VOLATILE || k == K_CONST ||
           k == K_RESTRICT || k == K_FUNC || k == K_TYPE_TAG;
}

/* _Dedup.identical */
static int identical(const Dedup *d, int64_t a, int64_t b, int depth)
{
    for (Py_ssize_t step = 0; step < d->n; step++) {
        if (a == b)
            return 1;
        if (depth <= 0)
            return 0;
        if (d->sid[a] != d->sid[b]) {
            int k = d->kinds[a];
            if (k == d->kinds[b] && (k == K_ENUM || k == K_ENUM64))
                return enum_compat(d, a, b);
            return 0;
        }
        Py_ssize_t na = nkids(d, a), nb = nkids(d, b);
        const uint32_t *ka = kids_of(d, a), *kb = kids_of(d, b);
        if (!is_chain(d->kinds[a])) {
            Py_ssize_t len = na < nb ? na : nb;
            for (Py_ssize_t j = 0; j < len; j++) {
                if (ka[j] != kb[j]) {
                    int r = identical(d, ka[j], kb[j], depth - 1);
                    if (r <= 0)
                        return r;
                }
            }
            return 1;
        }
        if (!na || !nb)
            return 0;
        a = ka[0];
        b = kb[0];
    }
    return 0;
}

static void hyp_clear(Dedup *d)
{
    for (Py_ssize_t j = 0; j < d->nhyp; j++)
        d->hyp[d->hyp_order[j]] = -1;
    d->nhyp = 0;
}

static inline void hyp_set(Dedup *d, int64_t canon, int64_t cand)
{
    if (d->hyp[canon] < 0)
        d->hyp_order[d->nhyp++] = (uint32_t)canon;
    d->hyp[canon] = cand;
}

typedef struct {
    const uint32_t *a, *b;
    Py_ssize_t len, pos;
} Pairs;

/* _Dedup.is_equiv: 1 (the hypothetical map holds the proof), 0, -1 error */
static int is_equiv(Dedup *d, int64_t cand0, int64_t canon0)
{
    const int64_t *m = d->m, *sid = d->sid;
    const uint8_t *kinds = d->kinds;
    uint32_t c0 = (uint32_t)cand0, k0 = (uint32_t)canon0;
    Py_ssize_t cap = 64, sp = 0;
    Pairs *stack = PyMem_Malloc(cap * sizeof *stack);
    int result = -1;
    if (!stack) {
        PyErr_NoMemory();
        return -1;
    }
    hyp_clear(d);
    stack[0] = (Pairs){&c0, &k0, 1, 0};
    while (sp >= 0) {
        Pairs *top = &stack[sp];
        if (top->pos >= top->len) {
            sp--;
            continue;
        }
        int64_t cand = top->a[top->pos], canon = top->b[top->pos];
        top->pos++;
        const uint32_t *push_a = NULL;
        Py_ssize_t push_len = 0;
        for (;;) {
            int64_t rc = dd_resolve(m, cand), rk = dd_resolve(m, canon);
            if (rc == rk)
                break;
            if (kinds[canon] == K_FWD && kinds[rk] != K_FWD)
                canon = rk;
            int64_t seen = d->hyp[canon];
            int r;
            if (seen < 0) {
                hyp_set(d, canon, cand);
            } else if (seen == cand) {
                break;
            } else if (kinds[seen] == K_FWD && (r = compatible(d, seen, cand)) != 0) {
                if (r < 0)
                    goto out;
                hyp_set(d, canon, cand);
            } else {
                if (PyErr_Occurred())
                    goto out;
                r = 0;
                if (kinds[cand] == K_FWD) {
                    r = compatible(d, cand, seen);
                    if (r < 0)
                        goto out;
                }
                if (!r) {
                    r = identical(d, seen, cand, IDENTICAL_DEPTH);
                    if (r < 0)
                        goto out;
                }
                if (r)
                    break;
                result = 0;
                goto out;
            }
            if (sid[cand] != sid[canon]) {
                r = compatible(d, cand, canon);
                if (r <= 0) {
                    result = r;
                    goto out;
                }
                break;
            }
            Py_ssize_t nk = nkids(d, cand);
            if (nk != 1) {
                if (nk) {
                    push_a = kids_of(d, cand);
                    push_len = nk;
                }
                break;
            }
            cand = kids_of(d, cand)[0];
            canon = kids_of(d, canon)[0];
        }
        if (push_a) {
            Py_ssize_t nc = nkids(d, canon);
            if (++sp == cap) {
                Pairs *bigger = PyMem_Realloc(stack, 2 * cap * sizeof *stack);
                if (!bigger) {
                    PyErr_NoMemory();
                    goto out;
                }
                stack = bigger;
                cap *= 2;
            }
            stack[sp] = (Pairs){push_a, kids_of(d, canon), push_len < nc ? push_len : nc, 0};
        }
    }
    result = 1;
out:
    PyMem_Free(stack);
    return result;
}

/* _Dedup.merge_hypot */
static void merge_hypot(Dedup *d)
{
    int64_t *m = d->m;
    const uint8_t *kinds = d->kinds;
    for (Py_ssize_t j = 0; j < d->nhyp; j++) {
        int64_t canon = d->hyp_order[j], cand = d->hyp[canon];
        int kc = kinds[cand];
        if (kc != K_FWD && kc != K_STRUCT && kc != K_UNION && kinds[canon] != K_FWD)
            continue;
        int64_t t = dd_resolve(m, cand), c = dd_resolve(m, canon);
        int tk = kinds[t], ck = kinds[c];
        if (ck == K_FWD && tk != K_FWD)
            m[c] = t;
        else if (tk == K_FWD && ck != K_FWD)
            m[t] = c;
        else if ((tk == K_STRUCT || tk == K_UNION) && m[c] == c && m[t] == UNPROCESSED)
            m[t] = c;
    }
}

/* A dict entry's value as an int64 (the dicts below hold type IDs). */
static int dict_id(PyObject *dict, PyObject *key, int64_t *out)
{
    PyObject *v = PyDict_GetItemWithError(dict, key);
    if (!v)
        return PyErr_Occurred() ? -1 : 0;
    *out = PyLong_AsLongLong(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 1;
}

static int dict_put(PyObject *dict, PyObject *key, int64_t id)
{
    PyObject *v = PyLong_FromLongLong(id);
    int r = v ? PyDict_SetItem(dict, key, v) : -1;
    Py_XDECREF(v);
    return r;
}

/* _Dedup.dedup_prims */
static int dedup_prims(Dedup *d, int64_t *first)
{
    int64_t *m = d->m;
    PyObject *latest = PyDict_New(), *pending = PyDict_New(), *name = NULL;
    int ok = -1;
    if (!latest || !pending)
        goto out;
    for (Py_ssize_t i = 1; i < d->n; i++) {
        int k = d->kinds[i];
        if (k == K_INT || k == K_FLOAT || k == K_FWD) {
            if (first[d->sid[i]] < 0)
                first[d->sid[i]] = i;
            m[i] = first[d->sid[i]];
        } else if (k == K_ENUM || k == K_ENUM64) {
            Py_XDECREF(name);
            name = dd_attr(d, i, d->s_name);
            if (!name)
                goto out;
            int empty = no_data(d, i);
            if (empty < 0)
                goto out;
            int64_t c;
            if (empty) {
                int r = dict_id(latest, name, &c);
                if (r < 0)
                    goto out;
                if (!r) {
                    m[i] = i;
                    if (dict_put(latest, name, i) < 0 || dict_put(pending, name, i) < 0)
                        goto out;
                } else {
                    m[i] = dd_resolve(m, c);
                }
                continue;
            }
            if (first[d->sid[i]] < 0)
                first[d->sid[i]] = i;
            c = m[i] = first[d->sid[i]];
            int64_t fwd;
            int r = dict_id(pending, name, &fwd);
            if (r < 0)
                goto out;
            if (r) {
                if (PyDict_DelItem(pending, name) < 0)
                    goto out;
                m[fwd] = c;
            }
            if (c == i && dict_put(latest, name, i) < 0)
                goto out;
        }
    }
    ok = 0;
out:
    Py_XDECREF(name);
    Py_XDECREF(latest);
    Py_XDECREF(pending);
    return ok;
}

/* _Dedup.dedup_structs: 1 if settled, 0 if not, -1 error */
static int dedup_structs(Dedup *d, int64_t *last, int64_t *count, Py_ssize_t nsid)
{
    int64_t *m = d->m, *prev = PyMem_Malloc(d->n * sizeof *prev);
    if (!prev) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 1; i < d->n; i++) {
        int k = d->kinds[i];
        if ((k != K_STRUCT && k != K_UNION) || m[i] != UNPROCESSED)
            continue;
        int64_t s = d->sid[i], new = i;
        if (last[s] < 0) {
            last[s] = i;
            prev[i] = -1;
            count[s] = 1;
        } else {
            int64_t c;
            for (c = last[s]; c >= 0; c = prev[c]) {        /* newest first */
                int r = is_equiv(d, i, c);
                if (r < 0) {
                    PyMem_Free(prev);
                    return -1;
                }
                if (r) {
                    merge_hypot(d);
                    new = c;
                    break;
                }
            }
            if (c < 0) {
                prev[i] = last[s];
                last[s] = i;
                count[s]++;
            }
        }
        m[i] = new;
    }
    PyMem_Free(prev);
    for (Py_ssize_t s = 0; s < nsid; s++)
        if (count[s] > 1)
            return 0;
    return 1;
}

/* _Dedup.resolve_fwds */
static int resolve_fwds(Dedup *d)
{
    int64_t *m = d->m;
    PyObject *unique = PyDict_New();
    if (!unique)
        return -1;
    for (Py_ssize_t i = 1; i < d->n; i++) {
        int k = d->kinds[i];
        if ((k == K_STRUCT || k == K_UNION) && m[i] == i) {
            PyObject *name = dd_attr(d, i, d->s_name);
            int has = name ? PyDict_Contains(unique, name) : -1;
            if (has < 0 || dict_put(unique, name, has ? 0 : i) < 0) {
                Py_XDECREF(name);
                Py_DECREF(unique);
                return -1;
            }
            Py_DECREF(name);
        }
    }
    for (Py_ssize_t i = 1; i < d->n; i++) {
        if (d->kinds[i] != K_FWD || m[i] != i)
            continue;
        PyObject *name = dd_attr(d, i, d->s_name);
        int64_t c = 0;
        int r = name ? dict_id(unique, name, &c) : -1;
        Py_XDECREF(name);
        if (r > 0 && c) {
            r = kflag_is(d, i, d->kinds[c] == K_UNION);
            if (r > 0)
                m[i] = c;
        }
        if (r < 0) {
            Py_DECREF(unique);
            return -1;
        }
    }
    Py_DECREF(unique);
    return 0;
}

/* The table of dedup_refs: type IDs, keyed by (shallow key number, the
 * canonical IDs of what each refers to), open addressing.  A key is never
 * stored: it is read back from its type, whose parts' entries in m are
 * final once the type is keyed. */
typedef struct {
    int64_t *slot;
    size_t mask;
} RefTable;

static inline uint64_t ref_hash(const Dedup *d, int64_t i)
{
    uint64_t h = (uint64_t)d->sid[i] * 0x9E3779B97F4A7C15ull + (uint64_t)nkids(d, i);
    const uint32_t *k = kids_of(d, i);
    for (Py_ssize_t j = 0; j < nkids(d, i); j++)
        h = (h ^ (uint64_t)d->m[k[j]]) * 0x100000001B3ull;
    return h ^ (h >> 29);
}

static inline int ref_equal(const Dedup *d, int64_t a, int64_t b)
{
    if (d->sid[a] != d->sid[b] || nkids(d, a) != nkids(d, b))
        return 0;
    const uint32_t *ka = kids_of(d, a), *kb = kids_of(d, b);
    for (Py_ssize_t j = 0; j < nkids(d, a); j++)
        if (d->m[ka[j]] != d->m[kb[j]])
            return 0;
    return 1;
}

/* dict.setdefault(key of i, i) */
static int64_t ref_setdefault(const Dedup *d, RefTable *t, int64_t i)
{
    size_t at = ref_hash(d, i) & t->mask;
    while (t->slot[at] >= 0) {
        if (ref_equal(d, t->slot[at], i))
            return t->slot[at];
        at = (at + 1) & t->mask;
    }
    t->slot[at] = i;
    return i;
}

static inline int is_ref_root(int k)
{
    return k == K_PTR || k == K_ARRAY || k == K_TYPEDEF || k == K_VOLATILE || k == K_CONST ||
           k == K_RESTRICT || k == K_FUNC || k == K_FUNC_PROTO || k == K_VAR ||
           k == K_DATASEC || k == K_DECL_TAG || k == K_TYPE_TAG;
}

/* _Dedup.dedup_refs: 0, or the ID of a type that refers to itself through
 * reference types only (+1), or -1 with an exception */
static int64_t dedup_refs(Dedup *d)
{
    int64_t *m = d->m;
    Py_ssize_t n = d->n;
    for (Py_ssize_t i = 1; i < n; i++) {
        int k = d->kinds[i];
        if (k == K_INT || k == K_FLOAT || k == K_FWD || k == K_ENUM || k == K_ENUM64 ||
            k == K_STRUCT || k == K_UNION) {
            int64_t j = m[i];
            if (j >= 0 && j != i)
                m[i] = dd_resolve(m, j);
        }
    }
    size_t size = 16;
    while (size < 2 * (size_t)n)
        size *= 2;
    RefTable table = {PyMem_Malloc(size * sizeof(int64_t)), size - 1};
    /* the frames: a type in progress and how far through its parts (-1: the roots) */
    int64_t *frame = PyMem_Malloc((n + 1) * sizeof *frame);
    Py_ssize_t *fpos = PyMem_Malloc((n + 1) * sizeof *fpos);
    int64_t result = -1;
    if (!table.slot || !frame || !fpos) {
        PyErr_NoMemory();
        goto out;
    }
    memset(table.slot, 0xFF, size * sizeof(int64_t));
    Py_ssize_t sp = 0;
    frame[0] = -1;
    fpos[0] = 1;            /* the roots: every ID from 1, of the reference kinds */
    while (sp >= 0) {
        int64_t i = frame[sp], c;
        if (i < 0) {
            Py_ssize_t p = fpos[sp];
            while (p < n && !is_ref_root(d->kinds[p]))
                p++;
            if (p >= n) {
                sp--;
                continue;
            }
            c = p;
            fpos[sp] = p + 1;
        } else {
            if (fpos[sp] >= nkids(d, i)) {
                sp--;
                m[i] = ref_setdefault(d, &table, i);
                continue;
            }
            c = kids_of(d, i)[fpos[sp]++];
        }
        int64_t mc = m[c];
        if (mc == UNPROCESSED) {
            Py_ssize_t nk = nkids(d, c);
            const uint32_t *k = kids_of(d, c);
            int done = nk > 0;
            for (Py_ssize_t j = 0; j < nk && done; j++)
                done = m[k[j]] >= 0;
            if (done) {
                m[c] = ref_setdefault(d, &table, c);
                continue;
            }
            m[c] = IN_PROGRESS;
            sp++;
            frame[sp] = c;
            fpos[sp] = 0;
        } else if (mc == IN_PROGRESS) {
            result = c + 1;
            goto out;
        }
    }
    result = 0;
out:
    PyMem_Free(table.slot);
    PyMem_Free(frame);
    PyMem_Free(fpos);
    return result;
}

static int64_t *int64_array(PyObject *list, Py_ssize_t n, const char *what)
{
    int64_t *out = PyMem_Malloc((n ? n : 1) * sizeof *out);
    if (!out) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = PyLong_AsLongLong(PyList_GET_ITEM(list, i));
        if (out[i] == -1 && PyErr_Occurred()) {
            PyMem_Free(out);
            return NULL;
        }
        if (out[i] < 0 || out[i] >= PY_SSIZE_T_MAX / 16) {
            PyErr_Format(PyExc_ValueError, "dedup_run: %s[%zd] out of range", what, i);
            PyMem_Free(out);
            return NULL;
        }
    }
    return out;
}

static PyObject *dedup_run(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *kind_bytes, *sid_list, *children, *types;
    if (!PyArg_ParseTuple(args, "O!O!O!O!", &PyBytes_Type, &kind_bytes, &PyList_Type,
                          &sid_list, &PyList_Type, &children, &PyList_Type, &types))
        return NULL;
    Py_ssize_t n = PyBytes_GET_SIZE(kind_bytes);
    if (PyList_GET_SIZE(sid_list) != n || PyList_GET_SIZE(children) != n ||
        PyList_GET_SIZE(types) < n || n < 1) {
        PyErr_SetString(PyExc_ValueError, "dedup_run: kinds, sid, children and types differ "
                        "in length");
        return NULL;
    }
    Dedup d = {0};
    PyObject *result = NULL;
    int64_t *first = NULL, *last = NULL, *count = NULL;
    d.n = n;
    d.kinds = (const uint8_t *)PyBytes_AS_STRING(kind_bytes);
    d.types = types;
    d.s_name = PyUnicode_InternFromString("name");
    d.s_kflag = PyUnicode_InternFromString("kflag");
    d.s_data = PyUnicode_InternFromString("data");
    if (!d.s_name || !d.s_kflag || !d.s_data)
        goto out;
    d.sid = int64_array(sid_list, n, "sid");
    if (!d.sid)
        goto out;
    d.kstart = PyMem_Malloc((n + 1) * sizeof *d.kstart);
    Py_ssize_t total = 0, cap = 2 * n + 16;
    d.kids = PyMem_Malloc(cap * sizeof *d.kids);
    d.m = PyMem_Malloc(n * sizeof *d.m);
    d.hyp = PyMem_Malloc(n * sizeof *d.hyp);
    d.hyp_order = PyMem_Malloc(n * sizeof *d.hyp_order);
    /* shallow-key numbers need not be below n: a later pass keeps the numbers
     * of the first, over fewer types */
    Py_ssize_t nsid = n;
    for (Py_ssize_t i = 0; i < n; i++)
        if (d.sid[i] >= nsid)
            nsid = d.sid[i] + 1;
    first = PyMem_Malloc(nsid * sizeof *first);
    last = PyMem_Malloc(nsid * sizeof *last);
    count = PyMem_Calloc(nsid, sizeof *count);
    if (!d.kstart || !d.kids || !d.m || !d.hyp || !d.hyp_order || !first || !last || !count) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *seq = PySequence_Fast(PyList_GET_ITEM(children, i),
                                        "dedup_run: children must be sequences");
        if (!seq)
            goto out;
        Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
        d.kstart[i] = (uint32_t)total;
        if (total + len > cap) {
            while (total + len > cap)
                cap *= 2;
            uint32_t *bigger = PyMem_Realloc(d.kids, cap * sizeof *d.kids);
            if (!bigger) {
                Py_DECREF(seq);
                PyErr_NoMemory();
                goto out;
            }
            d.kids = bigger;
        }
        for (Py_ssize_t j = 0; j < len; j++) {
            long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, j));
            if (v < 0 || v >= n) {
                Py_DECREF(seq);
                if (!PyErr_Occurred())
                    PyErr_Format(PyExc_ValueError, "dedup_run: type [%zd] refers to [%lld], "
                                 "out of range", i, v);
                goto out;
            }
            d.kids[total++] = (uint32_t)v;
        }
        Py_DECREF(seq);
    }
    d.kstart[n] = (uint32_t)total;
    for (Py_ssize_t i = 0; i < n; i++) {
        d.m[i] = UNPROCESSED;
        d.hyp[i] = -1;
    }
    for (Py_ssize_t s = 0; s < nsid; s++) {
        first[s] = -1;
        last[s] = -1;
    }
    d.m[0] = 0;
    if (dedup_prims(&d, first) < 0)
        goto out;
    int settled = dedup_structs(&d, last, count, nsid);
    if (settled < 0 || resolve_fwds(&d) < 0)
        goto out;
    int64_t cyc = dedup_refs(&d);
    if (cyc < 0)
        goto out;
    if (cyc > 0) {
        result = PyLong_FromLongLong(cyc - 1);
        goto out;
    }
    /* _Dedup.compact */
    {
        int64_t *new_id = first;            /* reused (nsid >= n): old ID -> new ID */
        PyObject *kept = PyList_New(0), *id_map = PyList_New(n);
        if (!kept || !id_map) {
            Py_XDECREF(kept);
            Py_XDECREF(id_map);
            goto out;
        }
        Py_ssize_t nkept = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (d.m[i] != i)
                continue;
            new_id[i] = nkept++;
            PyObject *v = PyLong_FromSsize_t(i);
            if (!v || PyList_Append(kept, v) < 0) {
                Py_XDECREF(v);
                Py_DECREF(kept);
                Py_DECREF(id_map);
                goto out;
            }
            Py_DECREF(v);
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = PyLong_FromLongLong(new_id[d.m[i]]);
            if (!v) {
                Py_DECREF(kept);
                Py_DECREF(id_map);
                goto out;
            }
            PyList_SET_ITEM(id_map, i, v);
        }
        result = Py_BuildValue("(NNO)", id_map, kept, settled ? Py_True : Py_False);
    }
out:
    Py_XDECREF(d.s_name);
    Py_XDECREF(d.s_kflag);
    Py_XDECREF(d.s_data);
    PyMem_Free(d.sid);
    PyMem_Free(d.kstart);
    PyMem_Free(d.kids);
    PyMem_Free(d.m);
    PyMem_Free(d.hyp);
    PyMem_Free(d.hyp_order);
    PyMem_Free(first);
    PyMem_Free(last);
    PyMem_Free(count);
    return result;
}

/* ---------------------------------------------------------------------------
 * dedup_keys(): _Dedup.__init__'s loop: each type's kind, the number of its
 * shallow key (the same tuples as the Python loop, numbered in a dict in the
 * same order), and the IDs it refers to, through its input's map where it
 * has one.
 */

/* m[id] (the input's map) or id */
static PyObject *mapped(PyObject *map, PyObject *id)
{
    if (map == Py_None) {
        Py_INCREF(id);
        return id;
    }
    Py_ssize_t i = PyLong_AsSsize_t(id);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0 || i >= PyList_GET_SIZE(map)) {
        PyErr_Format(PyExc_IndexError, "dedup_keys: type ID %zd outside its input's map", i);
        return NULL;
    }
    PyObject *v = PyList_GET_ITEM(map, i);
    Py_INCREF(v);
    return v;
}

/* item j of list entry `e` (a member, parameter, enumerator or variable) */
static PyObject *part(PyObject *e, Py_ssize_t j)
{
    PyObject *v = PySequence_GetItem(e, j);
    return v;
}

static PyObject *dedup_keys(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *types, *maps;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &types, &maps))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(types);
    if (maps != Py_None && (!PyList_Check(maps) || PyList_GET_SIZE(maps) != n)) {
        PyErr_SetString(PyExc_ValueError, "dedup_keys: maps must be None or one per type");
        return NULL;
    }
    PyObject *s_kind = PyUnicode_InternFromString("kind"),
             *s_name = PyUnicode_InternFromString("name"),
             *s_kflag = PyUnicode_InternFromString("kflag"),
             *s_ref = PyUnicode_InternFromString("ref"),
             *s_vlen_info = PyUnicode_InternFromString("vlen_info"),
             *s_data = PyUnicode_InternFromString("data");
    PyObject *kind_bytes = PyBytes_FromStringAndSize(NULL, n);
    PyObject *sid = PyList_New(n), *children = PyList_New(n), *keys = PyDict_New();
    PyObject *result = NULL;
    PyObject *kindo = NULL, *name = NULL, *kflag = NULL, *ref = NULL, *data = NULL;
    PyObject *key = NULL, *kids = NULL, *a = NULL, *b = NULL, *c = NULL;
    if (!s_kind || !s_name || !s_kflag || !s_ref || !s_vlen_info || !s_data || !kind_bytes ||
        !sid || !children || !keys)
        goto out;
    char *kb = PyBytes_AS_STRING(kind_bytes);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyList_GET_ITEM(types, i);
        PyObject *map = maps == Py_None ? Py_None : PyList_GET_ITEM(maps, i);
        if (map != Py_None && !PyList_Check(map)) {
            PyErr_SetString(PyExc_TypeError, "dedup_keys: a map is not a list");
            goto out;
        }
        kindo = PyObject_GetAttr(t, s_kind);
        name = kindo ? PyObject_GetAttr(t, s_name) : NULL;
        kflag = name ? PyObject_GetAttr(t, s_kflag) : NULL;
        ref = kflag ? PyObject_GetAttr(t, s_ref) : NULL;
        data = ref ? PyObject_GetAttr(t, s_data) : NULL;
        if (!data)
            goto out;
        long k = PyLong_AsLong(kindo);
        if (k == -1 && PyErr_Occurred())
            goto out;
        if (k < 0 || k >= K_COUNT) {
            PyErr_Format(PyExc_ValueError, "dedup_keys: type [%zd] has kind %ld", i, k);
            goto out;
        }
        kb[i] = (char)k;
        PyObject *ko = PyLong_FromLong(k);      /* the key holds the kind as a plain int */
        if (!ko)
            goto out;
        switch (k) {
        case K_PTR: case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
        case K_FUNC: case K_TYPE_TAG: case K_VAR: case K_DECL_TAG: {
            PyObject *vi = PyObject_GetAttr(t, s_vlen_info);
            key = vi ? PyTuple_Pack(5, ko, name, kflag, vi, data) : NULL;
            Py_XDECREF(vi);
            a = key ? mapped(map, ref) : NULL;
            kids = a ? PyTuple_Pack(1, a) : NULL;
            Py_CLEAR(a);
            break;
        }
        case K_STRUCT: case K_UNION: case K_FUNC_PROTO: case K_ENUM: case K_ENUM64:
        case K_DATASEC: {
            PyObject *seq = PySequence_Fast(data, "dedup_keys: data is not a sequence");
            if (!seq) {
                Py_DECREF(ko);
                goto out;
            }
            Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
            int proto = k == K_FUNC_PROTO;
            /* a: names (or values), b: offsets (or sizes), c: kids */
            a = PyTuple_New(len);
            b = (k == K_STRUCT || k == K_UNION) ? PyTuple_New(len) : NULL;
            c = (k == K_ENUM || k == K_ENUM64) ? PyTuple_New(0) : PyTuple_New(len + proto);
            if (!a || !c || ((k == K_STRUCT || k == K_UNION) && !b)) {
                Py_DECREF(seq);
                Py_DECREF(ko);
                goto out;
            }
            if (proto) {
                PyObject *r = mapped(map, ref);
                if (!r) {
                    Py_DECREF(seq);
                    Py_DECREF(ko);
                    goto out;
                }
                PyTuple_SET_ITEM(c, 0, r);
            }
            for (Py_ssize_t j = 0; j < len; j++) {
                PyObject *e = PySequence_Fast_GET_ITEM(seq, j), *x0, *x1, *x2;
                int bad = 0;
                switch (k) {
                case K_STRUCT: case K_UNION:
                    x0 = part(e, 0);
                    x1 = x0 ? part(e, 1) : NULL;
                    x2 = x1 ? part(e, 2) : NULL;
                    if (!x2) {
                        Py_XDECREF(x0);
                        Py_XDECREF(x1);
                        bad = 1;
                        break;
                    }
                    PyTuple_SET_ITEM(a, j, x0);
                    PyTuple_SET_ITEM(b, j, x2);
                    PyTuple_SET_ITEM(c, j, mapped(map, x1));
                    Py_DECREF(x1);
                    bad = !PyTuple_GET_ITEM(c, j);
                    break;
                case K_FUNC_PROTO:
                    x0 = part(e, 0);
                    x1 = x0 ? part(e, 1) : NULL;
                    if (!x1) {
                        Py_XDECREF(x0);
                        bad = 1;
                        break;
                    }
                    PyTuple_SET_ITEM(a, j, x0);
                    PyTuple_SET_ITEM(c, j + 1, mapped(map, x1));
                    Py_DECREF(x1);
                    bad = !PyTuple_GET_ITEM(c, j + 1);
                    break;
                case K_ENUM: case K_ENUM64:
                    x0 = part(e, 0);
                    x1 = x0 ? part(e, 1) : NULL;
                    PyTuple_SET_ITEM(a, j, x1 ? PyTuple_Pack(2, x0, x1) : NULL);
                    Py_XDECREF(x0);
                    Py_XDECREF(x1);
                    bad = !PyTuple_GET_ITEM(a, j);
                    break;
                default:        /* DATASEC: [type, offset, size] */
                    x0 = part(e, 0);
                    x1 = x0 ? part(e, 1) : NULL;
                    x2 = x1 ? part(e, 2) : NULL;
                    PyTuple_SET_ITEM(a, j, x2 ? PyTuple_Pack(2, x1, x2) : NULL);
                    PyTuple_SET_ITEM(c, j, x2 ? mapped(map, x0) : NULL);
                    Py_XDECREF(x0);
                    Py_XDECREF(x1);
                    Py_XDECREF(x2);
                    bad = !PyTuple_GET_ITEM(a, j) || !PyTuple_GET_ITEM(c, j);
                    break;
                }
                if (bad) {
                    Py_DECREF(seq);
                    Py_DECREF(ko);
                    goto out;
                }
            }
            Py_DECREF(seq);
            if (k == K_STRUCT || k == K_UNION)
                key = PyTuple_Pack(6, ko, name, kflag, ref, a, b);
            else if (proto)
                key = PyTuple_Pack(4, ko, name, kflag, a);
            else
                key = PyTuple_Pack(5, ko, name, kflag, ref, a);
            kids = c;
            c = NULL;
            Py_CLEAR(a);
            Py_CLEAR(b);
            break;
        }
        case K_FWD:
            key = PyTuple_Pack(3, ko, name, kflag);
            kids = PyTuple_New(0);
            break;
        case K_ARRAY: {
            PyObject *x0 = part(data, 0), *x1 = x0 ? part(data, 1) : NULL;
            PyObject *x2 = x1 ? part(data, 2) : NULL;
            if (x2) {
                key = PyTuple_Pack(4, ko, name, kflag, x2);
                a = mapped(map, x1);
                b = a ? mapped(map, x0) : NULL;
                kids = b ? PyTuple_Pack(2, a, b) : NULL;
                Py_CLEAR(a);
                Py_CLEAR(b);
            }
            Py_XDECREF(x0);
            Py_XDECREF(x1);
            Py_XDECREF(x2);
            break;
        }
        default:            /* INT, FLOAT, void */
            key = PyTuple_Pack(5, ko, name, kflag, ref, data);
            kids = PyTuple_New(0);
            break;
        }
        Py_DECREF(ko);
        if (!key || !kids)
            goto out;
        /* sid.append(keys.setdefault(key, len(keys))) */
        PyObject *num = PyDict_GetItemWithError(keys, key);
        if (num) {
            Py_INCREF(num);
        } else {
            if (PyErr_Occurred())
                goto out;
            num = PyLong_FromSsize_t(PyDict_GET_SIZE(keys));
            if (!num || PyDict_SetItem(keys, key, num) < 0) {
                Py_XDECREF(num);
                goto out;
            }
        }
        PyList_SET_ITEM(sid, i, num);
        PyList_SET_ITEM(children, i, kids);
        kids = NULL;
        Py_CLEAR(key);
        Py_CLEAR(kindo);
        Py_CLEAR(name);
        Py_CLEAR(kflag);
        Py_CLEAR(ref);
        Py_CLEAR(data);
    }
    result = PyTuple_Pack(3, kind_bytes, sid, children);
out:
    Py_XDECREF(kindo);
    Py_XDECREF(name);
    Py_XDECREF(kflag);
    Py_XDECREF(ref);
    Py_XDECREF(data);
    Py_XDECREF(key);
    Py_XDECREF(kids);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    Py_XDECREF(kind_bytes);
    Py_XDECREF(sid);
    Py_XDECREF(children);
    Py_XDECREF(keys);
    Py_XDECREF(s_kind);
    Py_XDECREF(s_name);
    Py_XDECREF(s_kflag);
    Py_XDECREF(s_ref);
    Py_XDECREF(s_vlen_info);
    Py_XDECREF(s_data);
    return result;
}

/* ---- the call graph's instruction scan (bpflink/graph/insn.py) ----------- */

enum {
    BPF_INSN = 8, OP_LD_IMM64 = 0x18, OP_CALL = 0x85, OP_MOV64_X = 0xBF, OP_ADD64_K = 0x07,
    CLS_LDX = 0x01, CLS_ST = 0x02, CLS_STX = 0x03, CLS_ALU = 0x04, CLS_ALU64 = 0x07,
    MODE_MEM = 0x60, MODE_MEMSX = 0x80, MODE_ATOMIC = 0xC0, ATOMIC_FETCH = 0x01,
    PSEUDO_CALL = 1, PSEUDO_FUNC = 4, REG_FP = 10
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* One function's code, data[start:end] (a whole number of instructions):
 * stack_estimate() of decode(), and the calls and ld_imm64s that are
 * references into code or sit at an offset in rel[0 .. nrel) (sorted).
 * Returns (depth, [RawInsn, ...]) or NULL with an exception set. */
static PyObject *scan_one(const uint8_t *data, Py_ssize_t start, Py_ssize_t end, int big,
                          const uint64_t *rel, Py_ssize_t nrel)
{
    int64_t depth = 0, off_of[16];
    uint8_t tracked[16] = {0};
    tracked[REG_FP] = 1;
    off_of[REG_FP] = 0;
    PyObject *wanted = PyList_New(0);
    if (!wanted)
        return NULL;
    /* the first relocation at or after start */
    Py_ssize_t lo = 0, hi = nrel;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (rel[mid] < (uint64_t)start)
            lo = mid + 1;
        else
            hi = mid;
    }
    Reader r = {data, end, big};
    for (Py_ssize_t pos = start; pos < end; pos += BPF_INSN) {
        const uint8_t *b = data + pos;
        int code = b[0];
        int dst = big ? b[1] >> 4 : b[1] & 0xF, src = big ? b[1] & 0xF : b[1] >> 4;
        int16_t off = (int16_t)(big ? (b[2] << 8 | b[3]) : (b[3] << 8 | b[2]));
        int32_t imm = (int32_t)rd32(&r, pos + 4);
        while (lo < nrel && rel[lo] < (uint64_t)pos)
            lo++;
        if ((code == OP_CALL && (src == PSEUDO_CALL || (lo < nrel && rel[lo] == (uint64_t)pos)))
                || (code == OP_LD_IMM64
                    && (src == PSEUDO_FUNC || (lo < nrel && rel[lo] == (uint64_t)pos)))) {
            PyObject *t = Py_BuildValue("(niiiii)", pos, code, dst, src, (int)off, (int)imm);
            if (!t || PyList_Append(wanted, t) < 0) {
                Py_XDECREF(t);
                Py_DECREF(wanted);
                return NULL;
            }
            Py_DECREF(t);
        }
        if (code == OP_LD_IMM64)
            pos += BPF_INSN;            /* its second half is no instruction */
        /* stack_estimate()'s loop body, step for step */
        if (!tracked[dst] && !tracked[src] && code != OP_CALL && (code & 0xE0) != MODE_ATOMIC)
            continue;
        int cls = code & 0x07, mode = code & 0xE0, base = -1;
        if (cls == CLS_LDX)
            base = mode == MODE_MEM || mode == MODE_MEMSX ? src : -1;
        else if (cls == CLS_ST)
            base = mode == MODE_MEM ? dst : -1;
        else if (cls == CLS_STX)
            base = mode == MODE_MEM || mode == MODE_ATOMIC ? dst : -1;
        if (base >= 0 && tracked[base] && -(off_of[base] + off) > depth)
            depth = -(off_of[base] + off);
        if (code == OP_MOV64_X) {
            if (tracked[src]) {
                tracked[dst] = 1;
                off_of[dst] = off_of[src];
            } else if (dst != REG_FP) {
                tracked[dst] = 0;
            }
        } else if (code == OP_ADD64_K && tracked[dst] && dst != REG_FP) {
            off_of[dst] += imm;
            if (-off_of[dst] > depth)
                depth = -off_of[dst];
        } else if ((cls == CLS_ALU || cls == CLS_ALU64 || cls == CLS_LDX || code == OP_LD_IMM64)
                   && dst != REG_FP) {
            tracked[dst] = 0;
        } else if (cls == CLS_STX && mode == MODE_ATOMIC && (imm & ATOMIC_FETCH)) {
            tracked[src] = 0;
            tracked[0] = 0;
        }
        if (code == OP_CALL)
            memset(tracked, 0, 6);
    }
    PyObject *out = Py_BuildValue("(LN)", (long long)((depth + 7) / 8 * 8), wanted);
    return out;
}

/* CodeScanner.scan_all: [(depth, wanted)] per (start, end), or None when a
 * range or relocation is one this code leaves to Python (a part-instruction,
 * a negative offset, not an int). */
static PyObject *scan_code(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *data_obj, *relocated, *ranges;
    int big;
    if (!PyArg_ParseTuple(args, "OpO!O!", &data_obj, &big, &PyList_Type, &relocated,
                          &PyList_Type, &ranges))
        return NULL;
    Py_buffer buf;
    if (PyObject_GetBuffer(data_obj, &buf, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *result = NULL, *out = NULL;
    Py_ssize_t nrel = PyList_GET_SIZE(relocated), nranges = PyList_GET_SIZE(ranges);
    uint64_t *rel = PyMem_Malloc(sizeof *rel * (size_t)(nrel ? nrel : 1));
    if (!rel) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < nrel; k++) {
        PyObject *o = PyList_GET_ITEM(relocated, k);
        rel[k] = PyLong_Check(o) ? PyLong_AsUnsignedLongLong(o) : (uint64_t)-1;
        if (rel[k] == (uint64_t)-1 && (!PyLong_Check(o) || PyErr_Occurred())) {
            PyErr_Clear();
            result = Py_None;   /* not an offset this code can compare: Python's */
            goto done;
        }
    }
    qsort(rel, (size_t)nrel, sizeof *rel, cmp_u64);
    Py_ssize_t limit = buf.len - buf.len % BPF_INSN;
    out = PyList_New(nranges);
    if (!out)
        goto done;
    for (Py_ssize_t k = 0; k < nranges; k++) {
        PyObject *range = PyList_GET_ITEM(ranges, k);
        Py_ssize_t start, end;
        if (!PyTuple_Check(range) || PyTuple_GET_SIZE(range) != 2) {
            result = Py_None;
            goto done;
        }
        start = PyLong_AsSsize_t(PyTuple_GET_ITEM(range, 0));
        end = PyLong_AsSsize_t(PyTuple_GET_ITEM(range, 1));
        if (PyErr_Occurred()) {
            PyErr_Clear();
            result = Py_None;
            goto done;
        }
        if (end > limit)
            end = limit;
        if (start < 0 || (end > start && (end - start) % BPF_INSN)) {
            result = Py_None;
            goto done;
        }
        PyObject *one = end <= start ? Py_BuildValue("(i[])", 0)
                                     : scan_one(buf.buf, start, end, big, rel, nrel);
        if (!one)
            goto done;
        PyList_SET_ITEM(out, k, one);
    }
    result = out;
    out = NULL;
done:
    Py_XDECREF(out);
    PyMem_Free(rel);
    PyBuffer_Release(&buf);
    if (result == Py_None)
        Py_INCREF(result);
    return result;
}

static PyMethodDef methods[] = {
    {"parse_types", parse_types, METH_VARARGS,
     "parse_types(type_bytes, strings_by_offset, big_endian, BtfType, kinds) -> list | None"},
    {"dedup_keys", dedup_keys, METH_VARARGS,
     "dedup_keys(types, maps) -> (kind_bytes, sid, children)"},
    {"dedup_run", dedup_run, METH_VARARGS,
     "dedup_run(kind_bytes, sid, children, types) -> (id_map, kept, settled) | int"},
    {"scan_code", scan_code, METH_VARARGS,
     "scan_code(data, big_endian, relocated, ranges) -> [(depth, wanted)] | None"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bpflink._accel", NULL, -1, methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__accel(void)
{
    empty_tuple = PyTuple_New(0);
    if (!empty_tuple)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "API", ACCEL_API) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
