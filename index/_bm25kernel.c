/* Footnote's BM25 query kernel: exact top-k over precomputed postings (see index/bm25.py, which has the same
 * computation in numpy for installs without a C compiler; tests/index/test_bm25.py checks both against
 * rank-bm25).
 *
 * A query is a list of groups of (term, factor). A group's value for a document is the best of its members:
 * the first member's contribution if the document is in its postings (else 0), then the maximum with
 * factor * contribution of every other member containing it. A document's score is the sum of its groups'
 * values, added in group order (so every path gives bit-identical scores). A plain query has one group per
 * term, repeats included (rank-bm25 counts a repeated query term twice). Term id -1 is a term with no postings
 * (a group whose own term the corpus lacks still has its expansions, from 0).
 *
 * Two strategies, same result:
 *   - exhaustive: every posting of every group into a dense accumulator; the documents touched are listed as
 *     they are first met, so selection and clean-up cost the postings, not the corpus.
 *   - max-score (when every contribution is >= 0 and a top k is asked): groups in decreasing order of their
 *     upper bound (the largest contribution in their postings); once the bounds of the groups left add up to
 *     less than the k-th best partial score, a document none of the processed groups reached cannot enter the
 *     top k, so the long postings of common terms are never walked: the few candidates left are scored by
 *     binary search in them, in group order.
 *
 * The caller owns the workspace (per thread): a float64 and an int32 array of 2 * n_docs each, zero on entry
 * and left zero on return. Arrays arrive through the buffer protocol (numpy arrays); the GIL is released while
 * scoring.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double score;
    int32_t doc;
} Hit;

/* a better than b: higher score, then lower document id */
static inline int better(double sa, int32_t da, double sb, int32_t db) {
    return sa > sb || (sa == sb && da < db);
}

/* A min-heap (worst at the root) of at most k hits. */
typedef struct {
    Hit *hits;
    Py_ssize_t size, cap;
} Heap;

static void heap_sift_down(Heap *h, Py_ssize_t i) {
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

static inline void heap_offer(Heap *h, double score, int32_t doc) {
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
        heap_sift_down(h, 0);
    }
}

static int hit_order(const void *a, const void *b) {
    const Hit *x = a, *y = b;
    if (better(x->score, x->doc, y->score, y->doc)) return -1;
    if (better(y->score, y->doc, x->score, x->doc)) return 1;
    return 0;
}

typedef struct {
    const int64_t *indptr;
    const int32_t *doc_ids;
    const float *weights;
    const int64_t *terms;   /* member term ids */
    const double *factors;  /* member factors */
    const int64_t *groups;  /* member offsets of each group: group g is members groups[g]..groups[g+1] */
    Py_ssize_t n_groups;
    const int32_t *exclude; /* sorted document ids never returned */
    Py_ssize_t n_exclude;
} Query;

static inline int excluded(const Query *q, int32_t doc) {
    Py_ssize_t lo = 0, hi = q->n_exclude;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (q->exclude[mid] < doc) lo = mid + 1; else hi = mid;
    }
    return lo < q->n_exclude && q->exclude[lo] == doc;
}

/* Position of doc in the postings of term t, or -1. Term -1 has no postings. */
static inline int64_t find_posting(const Query *q, int64_t t, int32_t doc) {
    if (t < 0) return -1;
    int64_t lo = q->indptr[t], hi = q->indptr[t + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (q->doc_ids[mid] < doc) lo = mid + 1; else hi = mid;
    }
    return lo < q->indptr[t + 1] && q->doc_ids[lo] == doc ? lo : -1;
}

/* The first position >= pos in doc_ids[pos:end] whose document is >= doc (end if none): galloping search. */
static inline int64_t gallop(const int32_t *doc_ids, int64_t pos, int64_t end, int32_t doc) {
    if (pos >= end || doc_ids[pos] >= doc) return pos;
    int64_t step = 1, lo = pos, hi = pos + 1;
    while (hi < end && doc_ids[hi] < doc) {
        lo = hi;
        step *= 2;
        hi = lo + step;
    }
    if (hi > end) hi = end;
    /* doc_ids[lo] < doc; answer in (lo, hi] */
    lo += 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (doc_ids[mid] < doc) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static int doc_order(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The value of group g for one document, by binary search in each member's postings. */
static double group_value(const Query *q, Py_ssize_t g, int32_t doc) {
    int64_t first = q->groups[g], last = q->groups[g + 1];
    int64_t p = find_posting(q, q->terms[first], doc);
    if (last - first == 1) return p < 0 ? 0.0 : (q->factors[first] == 1.0 ? (double)q->weights[p] : q->factors[first] * (double)q->weights[p]);
    double v = p < 0 ? 0.0 : q->factors[first] * (double)q->weights[p];
    for (int64_t m = first + 1; m < last; m++) {
        p = find_posting(q, q->terms[m], doc);
        if (p >= 0) {
            double e = q->factors[m] * (double)q->weights[p];
            if (e > v) v = e;
        }
    }
    return v;
}

/* Add group g into acc for every document it reaches, listing newly touched documents (mark != 0 once
 * touched). gacc/gmark: a second accumulator for groups of several members (their maximum), else unused. */
static void add_group(const Query *q, Py_ssize_t g, double *acc, int32_t *mark, int32_t *touched, Py_ssize_t *n_touched,
                      double *gacc, int32_t *gmark, int32_t *gtouched, double *max_seen) {
    int64_t first = q->groups[g], last = q->groups[g + 1];
    double best = *max_seen;
    if (last - first == 1) {
        int64_t t = q->terms[first];
        double f = q->factors[first];
        if (t < 0) return;
        const int32_t *ids = q->doc_ids;
        const float *w = q->weights;
        Py_ssize_t nt = *n_touched;
        for (int64_t p = q->indptr[t]; p < q->indptr[t + 1]; p++) {
            int32_t d = ids[p];
            if (!mark[d]) {
                mark[d] = 1;
                touched[nt++] = d;
            }
            acc[d] += f == 1.0 ? (double)w[p] : f * (double)w[p];
            if (acc[d] > best) best = acc[d];
        }
        *n_touched = nt;
        *max_seen = best;
        return;
    }
    Py_ssize_t ng = 0;
    for (int64_t m = first; m < last; m++) {
        int64_t t = q->terms[m];
        double f = q->factors[m];
        if (t < 0) continue;
        for (int64_t p = q->indptr[t]; p < q->indptr[t + 1]; p++) {
            int32_t d = q->doc_ids[p];
            double e = f * (double)q->weights[p];
            if (!gmark[d]) {
                gmark[d] = 1;
                gtouched[ng++] = d;
                /* the first member sets the value; a document only expansions reach starts from 0 */
                gacc[d] = m == first ? e : (e > 0.0 ? e : 0.0);
            } else if (e > gacc[d]) {
                gacc[d] = e;
            }
        }
    }
    Py_ssize_t nt = *n_touched;
    for (Py_ssize_t i = 0; i < ng; i++) {
        int32_t d = gtouched[i];
        if (!mark[d]) {
            mark[d] = 1;
            touched[nt++] = d;
        }
        acc[d] += gacc[d];
        if (acc[d] > best) best = acc[d];
        gacc[d] = 0.0;
        gmark[d] = 0;
    }
    *n_touched = nt;
    *max_seen = best;
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

typedef struct {
    double bound;
    Py_ssize_t group;
} Bound;

static int bound_order(const void *a, const void *b) {
    const Bound *x = a, *y = b;
    if (x->bound != y->bound) return x->bound > y->bound ? -1 : 1;
    return x->group < y->group ? -1 : (x->group > y->group);
}

/* The scoring proper; returns the number of hits written to *out, -1 when memory ran out. acc and mark hold
 * 2 * n_docs entries (the second halves accumulate groups of several members). */
static Py_ssize_t run(const Query *q, Py_ssize_t n_docs, const float *max_weight, int prune, Py_ssize_t k, int positive,
                      double *acc, int32_t *mark, Hit **out, Py_ssize_t *postings_walked) {
    size_t n = (size_t)(n_docs > 0 ? n_docs : 1);
    double *gacc = acc + n_docs;
    int32_t *gmark = mark + n_docs;
    int32_t *touched = malloc(sizeof(int32_t) * n);
    int32_t *gtouched = malloc(sizeof(int32_t) * n);
    Bound *order = malloc(sizeof(Bound) * (size_t)(q->n_groups + 1));
    double *rest = malloc(sizeof(double) * (size_t)(q->n_groups + 1));
    Hit *hits = NULL;
    Heap heap = {NULL, 0, k > 0 ? k : 0};
    Py_ssize_t n_touched = 0, n_out = -1, walked = 0;
    double max_seen = -INFINITY;
    if (!touched || !gtouched || !order || !rest) goto done;
    for (Py_ssize_t g = 0; g < q->n_groups; g++) {
        order[g].group = g;
        order[g].bound = prune ? group_bound(q, max_weight, g) : 0.0;
    }
    prune = prune && k > 0 && q->n_groups > 1;
    if (prune) {
        heap.hits = malloc(sizeof(Hit) * (size_t)k);
        if (!heap.hits) goto done;
        qsort(order, (size_t)q->n_groups, sizeof(Bound), bound_order);
    }
    rest[q->n_groups] = 0.0;
    for (Py_ssize_t i = q->n_groups - 1; i >= 0; i--) rest[i] = rest[i + 1] + order[i].bound;
    Py_ssize_t processed = 0;
    double theta = -INFINITY;
    while (processed < q->n_groups) {
        Py_ssize_t g = order[processed].group;
        int64_t length = 0;
        for (int64_t m = q->groups[g]; m < q->groups[g + 1]; m++)
            if (q->terms[m] >= 0) length += q->indptr[q->terms[m] + 1] - q->indptr[q->terms[m]];
        /* Before walking a long list, see whether the groups left can still matter: the k-th best partial
         * score (a lower bound of the k-th best final score; costs the documents touched so far) against the
         * sum of their bounds. */
        if (prune && processed > 0 && rest[processed] < max_seen && length > 2 * n_touched) {
            heap.size = 0;
            for (Py_ssize_t i = 0; i < n_touched; i++) {
                int32_t d = touched[i];
                if ((!positive || acc[d] > 0.0) && !excluded(q, d)) heap_offer(&heap, acc[d], d);
            }
            if (heap.size == k && heap.hits[0].score > rest[processed] * (1.0 + 1e-9) + 1e-12) {
                theta = heap.hits[0].score;
                break;
            }
        }
        walked += length;
        add_group(q, g, acc, mark, touched, &n_touched, gacc, gmark, gtouched, &max_seen);
        processed++;
    }
    if (prune && processed == q->n_groups) {
        /* every group walked (in bound order): the candidates are the documents at or above the k-th best */
        heap.size = 0;
        for (Py_ssize_t i = 0; i < n_touched; i++) {
            int32_t d = touched[i];
            if ((!positive || acc[d] > 0.0) && !excluded(q, d)) heap_offer(&heap, acc[d], d);
        }
        theta = heap.size == k ? heap.hits[0].score : -INFINITY;
    }
    if (prune) {
        /* Candidates: touched documents that can still reach theta, in document order. The groups left are
         * looked up in their postings (galloping forward: candidates ascend), one group at a time, dropping
         * candidates that can no longer reach theta as the bound of what is left shrinks. */
        double slack = fabs(theta) * 1e-9 + 1e-12;
        Py_ssize_t n_cand = 0;
        for (Py_ssize_t i = 0; i < n_touched; i++) {
            int32_t d = touched[i];
            if (acc[d] + rest[processed] >= theta - slack) {
                touched[n_cand++] = d;
            } else {
                acc[d] = 0.0;
                mark[d] = 0;
            }
        }
        n_touched = n_cand;
        qsort(touched, (size_t)n_touched, sizeof(int32_t), doc_order);
        for (Py_ssize_t j = processed; j < q->n_groups && n_touched > 0; j++) {
            Py_ssize_t g = order[j].group;
            int64_t first = q->groups[g], last = q->groups[g + 1];
            for (int64_t m = first; m < last; m++) {
                int64_t t = q->terms[m];
                if (t < 0) continue;
                double f = q->factors[m];
                int64_t pos = q->indptr[t], end = q->indptr[t + 1];
                for (Py_ssize_t i = 0; i < n_touched && pos < end; i++) {
                    int32_t d = touched[i];
                    pos = gallop(q->doc_ids, pos, end, d);
                    if (pos < end && q->doc_ids[pos] == d) {
                        double e = f * (double)q->weights[pos];
                        if (last - first == 1) {
                            gacc[d] = e;
                        } else if (!gmark[d]) {
                            gmark[d] = 1;
                            gacc[d] = m == first ? e : (e > 0.0 ? e : 0.0);
                        } else if (e > gacc[d]) {
                            gacc[d] = e;
                        }
                    }
                }
            }
            double left = rest[j + 1];
            n_cand = 0;
            for (Py_ssize_t i = 0; i < n_touched; i++) {
                int32_t d = touched[i];
                acc[d] += gacc[d];
                gacc[d] = 0.0;
                gmark[d] = 0;
                if (acc[d] + left >= theta - slack) {
                    touched[n_cand++] = d;
                } else {
                    acc[d] = 0.0;
                    mark[d] = 0;
                }
            }
            n_touched = n_cand;
        }
        /* the survivors, scored again in group order (their sums above were in bound order) */
        for (Py_ssize_t i = 0; i < n_touched; i++) {
            int32_t d = touched[i];
            double s = 0.0;
            for (Py_ssize_t g = 0; g < q->n_groups; g++) s += group_value(q, g, d);
            acc[d] = s;
        }
    }
    /* selection over the touched documents */
    Py_ssize_t cap = k < 0 || k > n_touched ? n_touched : k;
    hits = malloc(sizeof(Hit) * (size_t)(cap > 0 ? cap : 1));
    if (!hits) goto done;
    free(heap.hits);
    heap.hits = hits;
    heap.size = 0;
    heap.cap = cap;
    n_out = 0;
    for (Py_ssize_t i = 0; i < n_touched; i++) {
        int32_t d = touched[i];
        if ((!positive || acc[d] > 0.0) && !excluded(q, d)) {
            if (cap == n_touched) {
                hits[n_out].score = acc[d];
                hits[n_out].doc = d;
                n_out++;
            } else {
                heap_offer(&heap, acc[d], d);
            }
        }
    }
    if (cap != n_touched) n_out = heap.size;
    heap.hits = NULL;
    qsort(hits, (size_t)n_out, sizeof(Hit), hit_order);
    *out = hits;
    hits = NULL;
done:
    for (Py_ssize_t i = 0; i < n_touched; i++) {
        acc[touched[i]] = 0.0;
        mark[touched[i]] = 0;
    }
    free(heap.hits);
    free(hits);
    free(touched);
    free(gtouched);
    free(order);
    free(rest);
    *postings_walked = walked;
    return n_out;
}

static int need(Py_buffer *b, Py_ssize_t itemsize, const char *name) {
    if (b->len % itemsize != 0) {
        PyErr_Format(PyExc_ValueError, "%s: buffer length %zd is not a multiple of %zd", name, b->len, itemsize);
        return 0;
    }
    return 1;
}

PyDoc_STRVAR(top_k_doc,
             "top_k(indptr, doc_ids, weights, max_weight, terms, factors, groups, exclude, k, positive, prune, acc, mark)\n"
             "-> (doc ids as int32 bytes, scores as float64 bytes, postings walked)\n\n"
             "indptr int64, doc_ids int32, weights float32, max_weight float32 (per term), terms int64, factors\n"
             "float64, groups int64 (len groups + 1), exclude sorted int32, acc float64 and mark int32 (2 * n_docs each,\n"
             "zero; left zero). k < 0 returns every eligible document reached, best first.");

static PyObject *top_k(PyObject *self, PyObject *args) {
    Py_buffer b_indptr, b_doc_ids, b_weights, b_max, b_terms, b_factors, b_groups, b_exclude, b_acc, b_mark;
    Py_ssize_t k;
    int positive, prune;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*nppw*w*", &b_indptr, &b_doc_ids, &b_weights, &b_max, &b_terms,
                          &b_factors, &b_groups, &b_exclude, &k, &positive, &prune, &b_acc, &b_mark))
        return NULL;
    PyObject *result = NULL;
    Hit *hits = NULL;
    Py_ssize_t n_out = 0, walked = 0;
    if (!need(&b_indptr, 8, "indptr") || !need(&b_doc_ids, 4, "doc_ids") || !need(&b_weights, 4, "weights") ||
        !need(&b_max, 4, "max_weight") || !need(&b_terms, 8, "terms") || !need(&b_factors, 8, "factors") ||
        !need(&b_groups, 8, "groups") || !need(&b_exclude, 4, "exclude") || !need(&b_acc, 8, "acc") ||
        !need(&b_mark, 4, "mark"))
        goto out;
    Py_ssize_t n_docs = b_acc.len / 16, n_terms = b_indptr.len / 8 - 1, n_members = b_terms.len / 8;
    Py_ssize_t n_groups = b_groups.len / 8 - 1;
    const int64_t *indptr = b_indptr.buf, *terms = b_terms.buf, *groups = b_groups.buf;
    if (b_mark.len / 8 != n_docs || b_factors.len / 8 != n_members || n_groups < 0 || b_max.len / 4 != n_terms ||
        b_doc_ids.len != b_weights.len || (n_terms >= 0 && indptr[n_terms] * 4 != b_doc_ids.len)) {
        PyErr_SetString(PyExc_ValueError, "inconsistent array sizes");
        goto out;
    }
    for (Py_ssize_t i = 0; i < n_members; i++) {
        if (terms[i] < -1 || terms[i] >= n_terms) {
            PyErr_SetString(PyExc_ValueError, "term id out of range");
            goto out;
        }
    }
    for (Py_ssize_t g = 0; g <= n_groups; g++) {
        if (groups[g] < 0 || groups[g] > n_members || (g > 0 && groups[g] <= groups[g - 1]) || (g == 0 && groups[0] != 0) ||
            (g == n_groups && groups[g] != n_members)) {
            PyErr_SetString(PyExc_ValueError, "malformed groups");
            goto out;
        }
    }
    Query q = {indptr, b_doc_ids.buf, b_weights.buf, terms, b_factors.buf, groups, n_groups, b_exclude.buf, b_exclude.len / 4};
    Py_BEGIN_ALLOW_THREADS
    n_out = run(&q, n_docs, b_max.buf, prune, k, positive, b_acc.buf, b_mark.buf, &hits, &walked);
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
        result = Py_BuildValue("(NNn)", ids, scores, walked);
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
    PyBuffer_Release(&b_acc);
    PyBuffer_Release(&b_mark);
    return result;
}

static PyMethodDef methods[] = {
    {"top_k", top_k, METH_VARARGS, top_k_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bm25kernel", "Footnote's BM25 query kernel (C).", -1, methods};

PyMODINIT_FUNC PyInit__bm25kernel(void) { return PyModule_Create(&module); }
