/* Footnote's BM25 query kernel: exact top k over precomputed postings. index/bm25.py has the same computation in
 * numpy for installs without a C compiler; tests/index/test_bm25.py checks both against rank-bm25 and each other.
 *
 * A query is a list of groups of (term, factor). A group's value for a document is the best of its members: the
 * first member's factor x contribution if the document is in its postings (else 0), then the maximum with
 * factor x contribution of every other member containing it (alternatives: a word and its translations). A
 * document's score is the sum of its groups' values, added in group order, on every path, so results are
 * bit-identical whatever the strategy. A plain query has one group per term, repeats included (rank-bm25 counts a
 * repeated query term twice). Term id -1 has no postings (a word the corpus lacks, whose expansions it has).
 *
 * Documents are scored a block of BLOCK at a time (the block's accumulator stays in the core's cache: at 1M
 * documents a corpus-wide one is 8 MB, and every long posting list swept all of it). Each member keeps a cursor
 * in its postings, which ascend by document. Within a block:
 *   - exhaustive: every group's postings in the block, in group order, into the accumulator; the documents touched
 *     are listed as they are met, so selection costs the postings, never the corpus;
 *   - max-score (a top k is asked, every contribution >= 0, and the k-th best score so far, theta, exceeds the
 *     summed upper bounds of the groups with the smallest bounds): only the other, "essential" groups are walked;
 *     a document none of them reached cannot reach theta. The few touched documents that still can are looked up
 *     in the non-essential postings (galloping forward), dropped as soon as they cannot reach theta, and the
 *     survivors scored again in group order. Long postings of common words are mostly skipped.
 * The top k is a heap of (score, document); ties go to the lower document id (rank-bm25's scores under a stable
 * argsort). The caller passes a workspace of WORKSPACE_BYTES, zeroed once when made: the kernel leaves its
 * accumulators zero, so one workspace serves every query of a thread. The GIL is released while scoring.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 32768

typedef struct {
    double score;
    int32_t doc;
} Hit;

/* a better than b: higher score, then lower document id */
static inline int better(double sa, int32_t da, double sb, int32_t db) { return sa > sb || (sa == sb && da < db); }

/* The best hits: a min-heap (worst at the root) of at most cap hits, or, with cap < 0, every hit offered. */
typedef struct {
    Hit *hits;
    Py_ssize_t size, cap, allocated;
} Hits;

static void sift_down(Hits *h, Py_ssize_t i) {
    for (;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < h->size && better(h->hits[w].score, h->hits[w].doc, h->hits[l].score, h->hits[l].doc)) w = l;
        if (r < h->size && better(h->hits[w].score, h->hits[w].doc, h->hits[r].score, h->hits[r].doc)) w = r;
        if (w == i) return;
        Hit t = h->hits[i];
        h->hits[i] = h->hits[w];
        h->hits[w] = t;
        i = w;
    }
}

/* 0 when memory ran out */
static int offer(Hits *h, double score, int32_t doc) {
    if (h->cap < 0) {
        if (h->size == h->allocated) {
            Py_ssize_t more = h->allocated ? 2 * h->allocated : 1024;
            Hit *grown = realloc(h->hits, sizeof(Hit) * (size_t)more);
            if (!grown) return 0;
            h->hits = grown;
            h->allocated = more;
        }
        h->hits[h->size].score = score;
        h->hits[h->size++].doc = doc;
        return 1;
    }
    if (h->size < h->cap) {
        Py_ssize_t i = h->size++;
        h->hits[i].score = score;
        h->hits[i].doc = doc;
        while (i > 0) {
            Py_ssize_t p = (i - 1) / 2;
            if (!better(h->hits[p].score, h->hits[p].doc, h->hits[i].score, h->hits[i].doc)) break;
            Hit t = h->hits[i];
            h->hits[i] = h->hits[p];
            h->hits[p] = t;
            i = p;
        }
    } else if (h->cap > 0 && better(score, doc, h->hits[0].score, h->hits[0].doc)) {
        h->hits[0].score = score;
        h->hits[0].doc = doc;
        sift_down(h, 0);
    }
    return 1;
}

static int hit_order(const void *a, const void *b) {
    const Hit *x = a, *y = b;
    if (better(x->score, x->doc, y->score, y->doc)) return -1;
    if (better(y->score, y->doc, x->score, x->doc)) return 1;
    return 0;
}

static int int_order(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double bound;
    Py_ssize_t group;
} Bound;

static int bound_order(const void *a, const void *b) {
    const Bound *x = a, *y = b;
    if (x->bound != y->bound) return x->bound > y->bound ? -1 : 1;
    return (x->group > y->group) - (x->group < y->group);
}

typedef struct {
    const int64_t *indptr;
    const int32_t *doc_ids;
    const float *weights;
    const int64_t *terms;   /* member term ids (-1: no postings) */
    const double *factors;  /* member factors */
    const int64_t *groups;  /* group g is members groups[g] .. groups[g + 1] - 1 */
    Py_ssize_t n_groups, n_members;
    const int32_t *exclude; /* sorted document ids never returned */
    Py_ssize_t n_exclude;
} Query;

static int excluded(const Query *q, int32_t doc) {
    Py_ssize_t lo = 0, hi = q->n_exclude;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (q->exclude[mid] < doc) lo = mid + 1; else hi = mid;
    }
    return lo < q->n_exclude && q->exclude[lo] == doc;
}

/* The first position in [pos, end) whose document is >= doc (end if none): galloping search forward. */
static inline int64_t gallop(const int32_t *doc_ids, int64_t pos, int64_t end, int32_t doc) {
    if (pos >= end || doc_ids[pos] >= doc) return pos;
    int64_t step = 1, lo = pos, hi = pos + 1;
    while (hi < end && doc_ids[hi] < doc) {
        lo = hi;
        step *= 2;
        hi = lo + step;
    }
    if (hi > end) hi = end;
    lo += 1; /* doc_ids[lo - 1] < doc; the answer is in [lo, hi] */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (doc_ids[mid] < doc) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Per call: cursors of each member and the block's scratch space. */
typedef struct {
    int64_t *pos;   /* member cursor: first posting not yet passed */
    int64_t *start; /* member cursor at the start of the block */
    double *acc;    /* BLOCK: the block's scores (zero outside touched) */
    double *gacc;   /* BLOCK: a group's values, for groups of several members */
    uint8_t *mark;  /* BLOCK: touched by the block's groups */
    uint8_t *gmark; /* BLOCK: touched by the current group */
    int32_t *touched, *gtouched; /* BLOCK each: block-relative document numbers */
} Scratch;

/* Member contribution e to a group of several members, for block document d: the group's own word (own) sets the
 * value, a document only its alternatives reach starts from 0, then the best counts. 1 when d is new to the group. */
static inline int take(Scratch *s, int32_t d, int own, double e) {
    if (!s->gmark[d]) {
        s->gmark[d] = 1;
        s->gacc[d] = own ? e : (e > 0.0 ? e : 0.0);
        return 1;
    }
    if (e > s->gacc[d]) s->gacc[d] = e;
    return 0;
}

/* Walk group g's postings in [base, base + BLOCK) into the block's accumulator. */
static Py_ssize_t add_group(const Query *q, Scratch *s, Py_ssize_t g, int32_t base, int32_t stop, Py_ssize_t n_touched,
                            int64_t *walked) {
    int64_t first = q->groups[g], last = q->groups[g + 1];
    if (last - first == 1) {
        if (q->terms[first] < 0) return n_touched;
        double f = q->factors[first];
        int64_t p = s->pos[first], end = q->indptr[q->terms[first] + 1];
        const int32_t *ids = q->doc_ids;
        const float *w = q->weights;
        int64_t from = p;
        for (; p < end && ids[p] < stop; p++) {
            int32_t d = ids[p] - base;
            if (!s->mark[d]) {
                s->mark[d] = 1;
                s->touched[n_touched++] = d;
            }
            s->acc[d] += f == 1.0 ? (double)w[p] : f * (double)w[p];
        }
        *walked += p - from;
        s->pos[first] = p;
        return n_touched;
    }
    Py_ssize_t ng = 0;
    for (int64_t m = first; m < last; m++) {
        if (q->terms[m] < 0) continue;
        double f = q->factors[m];
        int64_t p = s->pos[m], end = q->indptr[q->terms[m] + 1], from = p;
        for (; p < end && q->doc_ids[p] < stop; p++) {
            int32_t d = q->doc_ids[p] - base;
            if (take(s, d, m == first, f * (double)q->weights[p])) s->gtouched[ng++] = d;
        }
        *walked += p - from;
        s->pos[m] = p;
    }
    for (Py_ssize_t i = 0; i < ng; i++) {
        int32_t d = s->gtouched[i];
        if (!s->mark[d]) {
            s->mark[d] = 1;
            s->touched[n_touched++] = d;
        }
        s->acc[d] += s->gacc[d];
        s->gacc[d] = 0.0;
        s->gmark[d] = 0;
    }
    return n_touched;
}

/* Group g's value for document doc, looked up in its members' postings of this block [start, pos). */
static double group_value(const Query *q, const Scratch *s, Py_ssize_t g, int32_t doc) {
    int64_t first = q->groups[g], last = q->groups[g + 1];
    double v = 0.0;
    for (int64_t m = first; m < last; m++) {
        if (q->terms[m] < 0) continue;
        int64_t lo = s->start[m], hi = s->pos[m];
        int64_t p = gallop(q->doc_ids, lo, hi, doc);
        if (p < hi && q->doc_ids[p] == doc) {
            double e = q->factors[m] * (double)q->weights[p];
            if (m == first || e > v) v = e;
        }
    }
    return v;
}

static double group_bound(const Query *q, const float *max_weight, Py_ssize_t g) {
    double ub = 0.0;
    for (int64_t m = q->groups[g]; m < q->groups[g + 1]; m++) {
        if (q->terms[m] < 0) continue;
        double b = q->factors[m] * (double)max_weight[q->terms[m]];
        if (b > ub) ub = b;
    }
    return ub;
}

static inline int eligible(const Query *q, int positive, double score, int32_t doc) {
    return (!positive || score > 0.0) && (q->n_exclude == 0 || !excluded(q, doc));
}

/* Score the query; the hits, best first, in *out (to free). Returns their number, or -1 when memory ran out. */
static Py_ssize_t run(const Query *q, int32_t n_docs, const float *max_weight, int prune, Py_ssize_t k, int positive,
                      uint8_t *workspace, Hit **out, int64_t *walked) {
    Py_ssize_t G = q->n_groups, M = q->n_members;
    Scratch s;
    s.acc = (double *)workspace;
    s.gacc = s.acc + BLOCK;
    s.touched = (int32_t *)(s.gacc + BLOCK);
    s.gtouched = s.touched + BLOCK;
    s.mark = (uint8_t *)(s.gtouched + BLOCK);
    s.gmark = s.mark + BLOCK;
    s.pos = malloc(sizeof(int64_t) * (size_t)(2 * M + 1));
    Bound *order = malloc(sizeof(Bound) * (size_t)(G + 1));
    double *rest = malloc(sizeof(double) * (size_t)(G + 1));
    Hits hits = {NULL, 0, k, 0};
    Py_ssize_t result = -1;
    *walked = 0;
    if (!s.pos || !order || !rest) goto done;
    s.start = s.pos + M;
    if (k >= 0) {
        hits.hits = malloc(sizeof(Hit) * (size_t)(k + 1));
        if (!hits.hits) goto done;
    }
    for (Py_ssize_t m = 0; m < M; m++) s.pos[m] = q->terms[m] < 0 ? 0 : q->indptr[q->terms[m]];
    prune = prune && k > 0 && G > 1;
    for (Py_ssize_t g = 0; g < G; g++) {
        order[g].group = g;
        order[g].bound = prune ? group_bound(q, max_weight, g) : 0.0;
    }
    if (prune) qsort(order, (size_t)G, sizeof(Bound), bound_order);
    rest[G] = 0.0;
    for (Py_ssize_t i = G - 1; i >= 0; i--) rest[i] = rest[i + 1] + order[i].bound;

    for (int32_t base = 0; base < n_docs; base = n_docs - base > BLOCK ? base + BLOCK : n_docs) {
        int32_t stop = n_docs - base > BLOCK ? base + BLOCK : n_docs;
        memcpy(s.start, s.pos, sizeof(int64_t) * (size_t)M);
        /* how many groups (by decreasing bound) are essential in this block */
        Py_ssize_t essential = G;
        double theta = -INFINITY;
        if (prune && hits.size == k) {
            theta = hits.hits[0].score;
            while (essential > 0 && theta > rest[essential - 1] * (1.0 + 1e-9) + 1e-12) essential--;
        }
        Py_ssize_t n_touched = 0;
        if (essential == G) {
            /* exhaustive, in group order: the sums are the final scores */
            for (Py_ssize_t g = 0; g < G; g++) n_touched = add_group(q, &s, g, base, stop, n_touched, walked);
            for (Py_ssize_t i = 0; i < n_touched; i++) {
                int32_t d = s.touched[i];
                int32_t doc = base + d;
                if (eligible(q, positive, s.acc[d], doc) && !offer(&hits, s.acc[d], doc)) goto done;
                s.acc[d] = 0.0;
                s.mark[d] = 0;
            }
            continue;
        }
        /* max-score: the essential groups in full, then lookups for the documents that can still reach theta */
        for (Py_ssize_t j = 0; j < essential; j++) n_touched = add_group(q, &s, order[j].group, base, stop, n_touched, walked);
        double slack = fabs(theta) * 1e-9 + 1e-12;
        Py_ssize_t n_cand = 0;
        for (Py_ssize_t i = 0; i < n_touched; i++) {
            int32_t d = s.touched[i];
            if (s.acc[d] + rest[essential] >= theta - slack) {
                s.touched[n_cand++] = d; /* a candidate: stays marked */
            } else {
                s.acc[d] = 0.0;
                s.mark[d] = 0;
            }
        }
        int sorted = 0;
        for (Py_ssize_t j = essential; j < G; j++) {
            Py_ssize_t g = order[j].group;
            int64_t first = q->groups[g];
            for (int64_t m = first; m < q->groups[g + 1]; m++) {
                if (q->terms[m] < 0) continue;
                int64_t p = s.pos[m], end = q->indptr[q->terms[m] + 1];
                int64_t block_end = gallop(q->doc_ids, p, end, stop);
                double f = q->factors[m];
                if (block_end - p <= 16 * n_cand) {
                    /* a short list: walk it, keeping the candidates' postings */
                    *walked += block_end - p;
                    for (; p < block_end; p++) {
                        int32_t d = q->doc_ids[p] - base;
                        if (!s.mark[d]) continue;
                        take(&s, d, m == first, f * (double)q->weights[p]);
                    }
                } else {
                    /* a long one: look the candidates up in it, in document order */
                    if (!sorted && n_cand > 1) qsort(s.touched, (size_t)n_cand, sizeof(int32_t), int_order);
                    sorted = 1;
                    *walked += n_cand;
                    for (Py_ssize_t i = 0; i < n_cand && p < block_end; i++) {
                        int32_t d = s.touched[i];
                        p = gallop(q->doc_ids, p, block_end, base + d);
                        if (p < block_end && q->doc_ids[p] == base + d) take(&s, d, m == first, f * (double)q->weights[p]);
                    }
                }
                s.pos[m] = block_end;
            }
            Py_ssize_t kept = 0;
            for (Py_ssize_t i = 0; i < n_cand; i++) {
                int32_t d = s.touched[i];
                s.acc[d] += s.gacc[d];
                s.gacc[d] = 0.0;
                s.gmark[d] = 0;
                if (s.acc[d] + rest[j + 1] >= theta - slack) {
                    s.touched[kept++] = d;
                } else {
                    s.acc[d] = 0.0;
                    s.mark[d] = 0;
                }
            }
            n_cand = kept;
        }
        for (Py_ssize_t i = 0; i < n_cand; i++) s.mark[s.touched[i]] = 0;
        /* the survivors, scored again in group order (the sums above were in bound order) */
        for (Py_ssize_t i = 0; i < n_cand; i++) {
            int32_t d = s.touched[i];
            int32_t doc = base + d;
            double score = 0.0;
            for (Py_ssize_t g = 0; g < G; g++) score += group_value(q, &s, g, doc);
            s.acc[d] = 0.0;
            if (eligible(q, positive, score, doc) && !offer(&hits, score, doc)) goto done;
        }
    }
    if (k >= 0) qsort(hits.hits, (size_t)hits.size, sizeof(Hit), hit_order);
    *out = hits.hits;
    hits.hits = NULL;
    result = hits.size;
done:
    if (result < 0) { /* out of memory mid-block: leave the workspace zero, as it came */
        memset(s.acc, 0, sizeof(double) * 2 * BLOCK);
        memset(s.mark, 0, 2 * BLOCK);
    }
    free(hits.hits);
    free(s.pos);
    free(order);
    free(rest);
    return result;
}

#define WORKSPACE_BYTES (BLOCK * (2 * sizeof(double) + 2 * sizeof(int32_t) + 2 * sizeof(uint8_t)))

static int need(Py_buffer *b, Py_ssize_t itemsize, const char *name) {
    if (b->len % itemsize != 0) {
        PyErr_Format(PyExc_ValueError, "%s: buffer length %zd is not a multiple of %zd", name, b->len, itemsize);
        return 0;
    }
    return 1;
}

PyDoc_STRVAR(top_k_doc,
             "top_k(indptr, doc_ids, weights, max_weight, n_docs, terms, factors, groups, exclude, k, positive, prune,\n"
             "      workspace) -> (document ids: int32 bytes, scores: float64 bytes, postings read)\n\n"
             "indptr int64 (terms + 1), doc_ids int32 and weights float32 (postings, ascending documents per term),\n"
             "max_weight float32 (per term), terms int64 (-1: no postings), factors float64, groups int64 (member\n"
             "offsets, groups + 1), exclude sorted int32, workspace writable, WORKSPACE_BYTES, zeroed when made.\n"
             "k < 0: every eligible document reached, in no particular order.");

static PyObject *top_k(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer b_indptr, b_doc_ids, b_weights, b_max, b_terms, b_factors, b_groups, b_exclude, b_work;
    Py_ssize_t n_docs, k;
    int positive, prune;
    if (!PyArg_ParseTuple(args, "y*y*y*y*ny*y*y*y*nppw*", &b_indptr, &b_doc_ids, &b_weights, &b_max, &n_docs, &b_terms,
                          &b_factors, &b_groups, &b_exclude, &k, &positive, &prune, &b_work))
        return NULL;
    PyObject *result = NULL;
    Hit *hits = NULL;
    int64_t walked = 0;
    if (!need(&b_indptr, 8, "indptr") || !need(&b_doc_ids, 4, "doc_ids") || !need(&b_weights, 4, "weights") ||
        !need(&b_max, 4, "max_weight") || !need(&b_terms, 8, "terms") || !need(&b_factors, 8, "factors") ||
        !need(&b_groups, 8, "groups") || !need(&b_exclude, 4, "exclude"))
        goto out;
    Py_ssize_t n_terms = b_indptr.len / 8 - 1, n_members = b_terms.len / 8, n_groups = b_groups.len / 8 - 1;
    const int64_t *indptr = b_indptr.buf, *terms = b_terms.buf, *groups = b_groups.buf;
    if (n_terms < 0 || n_groups < 0 || b_max.len / 4 != n_terms || b_factors.len / 8 != n_members ||
        b_doc_ids.len != b_weights.len || indptr[n_terms] * 4 != b_doc_ids.len || n_docs < 0 || n_docs > INT32_MAX ||
        (size_t)b_work.len < WORKSPACE_BYTES) {
        PyErr_SetString(PyExc_ValueError, "inconsistent array sizes");
        goto out;
    }
    for (Py_ssize_t i = 0; i < n_members; i++) {
        if (terms[i] < -1 || terms[i] >= n_terms) {
            PyErr_SetString(PyExc_ValueError, "term id out of range");
            goto out;
        }
    }
    if (groups[0] != 0 || groups[n_groups] != n_members) {
        PyErr_SetString(PyExc_ValueError, "malformed groups");
        goto out;
    }
    for (Py_ssize_t g = 0; g < n_groups; g++) {
        if (groups[g + 1] <= groups[g]) {
            PyErr_SetString(PyExc_ValueError, "malformed groups");
            goto out;
        }
    }
    Query q = {indptr, b_doc_ids.buf, b_weights.buf, terms, b_factors.buf, groups, n_groups, n_members, b_exclude.buf,
               b_exclude.len / 4};
    Py_ssize_t n_out;
    Py_BEGIN_ALLOW_THREADS
    n_out = run(&q, (int32_t)n_docs, b_max.buf, prune, k, positive, b_work.buf, &hits, &walked);
    Py_END_ALLOW_THREADS
    if (n_out < 0) {
        PyErr_NoMemory();
        goto out;
    }
    PyObject *ids = PyBytes_FromStringAndSize(NULL, n_out * 4);
    PyObject *scores = PyBytes_FromStringAndSize(NULL, n_out * 8);
    if (ids && scores) {
        int32_t *pi = (int32_t *)PyBytes_AS_STRING(ids);
        double *ps = (double *)PyBytes_AS_STRING(scores);
        for (Py_ssize_t i = 0; i < n_out; i++) {
            pi[i] = hits[i].doc;
            ps[i] = hits[i].score;
        }
        result = Py_BuildValue("(NNL)", ids, scores, (long long)walked);
    } else {
        Py_XDECREF(ids);
        Py_XDECREF(scores);
    }
out:
    free(hits);
    PyBuffer_Release(&b_indptr);
    PyBuffer_Release(&b_doc_ids);
    PyBuffer_Release(&b_weights);
    PyBuffer_Release(&b_max);
    PyBuffer_Release(&b_terms);
    PyBuffer_Release(&b_factors);
    PyBuffer_Release(&b_groups);
    PyBuffer_Release(&b_exclude);
    PyBuffer_Release(&b_work);
    return result;
}

static PyMethodDef methods[] = {
    {"top_k", top_k, METH_VARARGS, top_k_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_bm25kernel", "Footnote's BM25 query kernel (C): see index/bm25.py.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__bm25kernel(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "WORKSPACE_BYTES", (long)WORKSPACE_BYTES) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
