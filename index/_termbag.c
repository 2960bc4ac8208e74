/* Footnote's per-term build loops in C: what index/tokenize.py (`Analyzer._collect`, the Han-run branch) and
 * index/analysis.py (`_analyse_documents`, numbering a passage's bag) do in Python for every term of every
 * passage. Both Python paths stay as the reference and the fallback for installs without a C compiler;
 * tests/index/test_termbag.py checks that the two give identical terms and bags.
 *
 * han_terms(runs, tokens, word_terms, miss, stop, min_gram, max_gram) -> a list of term lists, one per run
 *     The terms of a passage's Han runs, segmented together: `tokens` are the segmenter's (word, start, end) of
 *     the runs joined by one separator character ("\n", which jieba never joins to a word); a token that starts
 *     on a separator is skipped. Per run: for each of its tokens, word_terms[word] (a tuple; `miss(word)`
 *     computes and caches it when absent), then the character n-grams (min_gram..max_gram characters) of the
 *     runs of one-character words, none starting or ending with a character of `stop` (tokenize.py
 *     `_unknown_run_grams`).
 *
 * bag(terms, vocab, bag_terms, bag_counts) -> number of distinct terms
 *     The bag of a passage's terms (collections.Counter's, in order of first occurrence): each distinct term's id
 *     in the dict `vocab` (a new term gets id len(vocab)) appended to the list `bag_terms`, its count to
 *     `bag_counts`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int extend_list(PyObject *list, PyObject *seq) {
    PyObject *fast = PySequence_Fast(seq, "word terms must be a sequence");
    if (fast == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_Append(list, items[i]) < 0) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    return 0;
}

static int cmp_ssize(const void *a, const void *b) {
    Py_ssize_t x = *(const Py_ssize_t *)a, y = *(const Py_ssize_t *)b;
    return (x > y) - (x < y);
}

/* 1 if run[i] is in stop, 0 if not, -1 on error. */
static int char_in(PyObject *run, Py_ssize_t i, PyObject *stop) {
    PyObject *ch = PyUnicode_Substring(run, i, i + 1);
    if (ch == NULL) return -1;
    int found = PySet_Contains(stop, ch);
    Py_DECREF(ch);
    return found;
}

/* The terms of one run (`run`, at `base` in the segmented text) from its tokens items[lo:hi], appended to `terms`. */
static int run_terms(PyObject *run, Py_ssize_t base, PyObject **items, Py_ssize_t lo, Py_ssize_t hi,
                     PyObject *word_terms, PyObject *miss, PyObject *stop, Py_ssize_t min_gram, Py_ssize_t max_gram,
                     PyObject *terms, Py_ssize_t *singles) {
    Py_ssize_t n_singles = 0;
    for (Py_ssize_t i = lo; i < hi; i++) {
        PyObject *token = items[i];
        PyObject *word = PyTuple_GET_ITEM(token, 0);
        Py_ssize_t w_start = PyLong_AsSsize_t(PyTuple_GET_ITEM(token, 1));
        if (w_start == -1 && PyErr_Occurred()) return -1;
        Py_ssize_t w_end = PyLong_AsSsize_t(PyTuple_GET_ITEM(token, 2));
        if (w_end == -1 && PyErr_Occurred()) return -1;
        PyObject *found = PyDict_GetItemWithError(word_terms, word); /* borrowed */
        if (found != NULL) {
            if (extend_list(terms, found) < 0) return -1;
        } else {
            if (PyErr_Occurred()) return -1;
            PyObject *computed = PyObject_CallOneArg(miss, word);
            if (computed == NULL) return -1;
            int failed = extend_list(terms, computed);
            Py_DECREF(computed);
            if (failed < 0) return -1;
        }
        if (w_end - w_start == 1) singles[n_singles++] = w_start - base;
    }
    if (n_singles < 2) return 0;
    qsort(singles, (size_t)n_singles, sizeof(Py_ssize_t), cmp_ssize);
    Py_ssize_t unique = 1;
    for (Py_ssize_t i = 1; i < n_singles; i++)
        if (singles[i] != singles[unique - 1]) singles[unique++] = singles[i];
    n_singles = unique;
    Py_ssize_t run_start = 0;
    for (Py_ssize_t i = 1; i <= n_singles; i++) {
        if (i < n_singles && singles[i] == singles[i - 1] + 1) continue;
        Py_ssize_t first = singles[run_start], last = singles[i - 1] + 1;
        run_start = i;
        for (Py_ssize_t g_start = first; g_start < last - 1; g_start++) {
            int is_stop = char_in(run, g_start, stop);
            if (is_stop < 0) return -1;
            if (is_stop) continue;
            Py_ssize_t g_last = last < g_start + max_gram ? last : g_start + max_gram;
            for (Py_ssize_t g_end = g_start + min_gram; g_end <= g_last; g_end++) {
                is_stop = char_in(run, g_end - 1, stop);
                if (is_stop < 0) return -1;
                if (is_stop) continue;
                PyObject *gram = PyUnicode_Substring(run, g_start, g_end);
                if (gram == NULL) return -1;
                int failed = PyList_Append(terms, gram);
                Py_DECREF(gram);
                if (failed < 0) return -1;
            }
        }
    }
    return 0;
}

static PyObject *han_terms(PyObject *self, PyObject *args) {
    PyObject *runs, *tokens, *word_terms, *miss, *stop;
    Py_ssize_t min_gram, max_gram;
    if (!PyArg_ParseTuple(args, "O!OO!OOnn", &PyList_Type, &runs, &tokens, &PyDict_Type, &word_terms, &miss, &stop,
                          &min_gram, &max_gram))
        return NULL;
    if (!PyAnySet_Check(stop)) {
        PyErr_SetString(PyExc_TypeError, "stop must be a set or frozenset");
        return NULL;
    }
    PyObject *fast = PySequence_Fast(tokens, "tokens must be a sequence");
    if (fast == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    Py_ssize_t n_runs = PyList_GET_SIZE(runs);
    PyObject *out = PyList_New(n_runs);
    Py_ssize_t *singles = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n > 0 ? n : 1));
    if (out == NULL || singles == NULL) {
        if (singles == NULL) PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyTuple_Check(items[i]) || PyTuple_GET_SIZE(items[i]) != 3) {
            PyErr_SetString(PyExc_TypeError, "a token must be a (word, start, end) tuple");
            goto fail;
        }
    }
    Py_ssize_t at = 0, base = 0;
    for (Py_ssize_t r = 0; r < n_runs; r++) {
        PyObject *run = PyList_GET_ITEM(runs, r);
        if (!PyUnicode_Check(run)) {
            PyErr_SetString(PyExc_TypeError, "runs must be strings");
            goto fail;
        }
        Py_ssize_t end = base + PyUnicode_GET_LENGTH(run);
        /* Skip the separators before this run's tokens, then take the tokens that start inside it. */
        while (at < n) {
            Py_ssize_t s0 = PyLong_AsSsize_t(PyTuple_GET_ITEM(items[at], 1));
            if (s0 == -1 && PyErr_Occurred()) goto fail;
            if (s0 >= base) break;
            at++;
        }
        Py_ssize_t lo = at;
        while (at < n) {
            Py_ssize_t s0 = PyLong_AsSsize_t(PyTuple_GET_ITEM(items[at], 1));
            if (s0 == -1 && PyErr_Occurred()) goto fail;
            if (s0 >= end) break;
            at++;
        }
        PyObject *terms = PyList_New(0);
        if (terms == NULL) goto fail;
        PyList_SET_ITEM(out, r, terms);
        if (run_terms(run, base, items, lo, at, word_terms, miss, stop, min_gram, max_gram, terms, singles) < 0)
            goto fail;
        base = end + 1; /* one separator character between runs */
    }
    PyMem_Free(singles);
    Py_DECREF(fast);
    return out;
fail:
    PyMem_Free(singles);
    Py_XDECREF(out);
    Py_DECREF(fast);
    return NULL;
}

static PyObject *bag(PyObject *self, PyObject *args) {
    PyObject *terms, *vocab, *bag_terms, *bag_counts;
    if (!PyArg_ParseTuple(args, "O!O!O!O!", &PyList_Type, &terms, &PyDict_Type, &vocab, &PyList_Type, &bag_terms,
                          &PyList_Type, &bag_counts))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(terms);
    if (n == 0) return PyLong_FromLong(0);
    /* Open addressing over term ids: slot -> index into the distinct ids (or -1). */
    size_t size = 16;
    while (size < (size_t)n * 2) size <<= 1;
    Py_ssize_t *slots = PyMem_Malloc(sizeof(Py_ssize_t) * size);
    Py_ssize_t *ids = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)n);
    Py_ssize_t *counts = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)n);
    Py_ssize_t distinct = 0;
    PyObject *result = NULL;
    if (slots == NULL || ids == NULL || counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t s = 0; s < size; s++) slots[s] = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *term = PyList_GET_ITEM(terms, i);
        Py_ssize_t id;
        PyObject *known = PyDict_GetItemWithError(vocab, term); /* borrowed */
        if (known != NULL) {
            id = PyLong_AsSsize_t(known);
            if (id == -1 && PyErr_Occurred()) goto done;
        } else {
            if (PyErr_Occurred()) goto done;
            id = PyDict_GET_SIZE(vocab);
            PyObject *new_id = PyLong_FromSsize_t(id);
            if (new_id == NULL) goto done;
            int failed = PyDict_SetItem(vocab, term, new_id);
            Py_DECREF(new_id);
            if (failed < 0) goto done;
        }
        size_t s = ((size_t)id * 0x9E3779B97F4A7C15ULL) & (size - 1);
        while (slots[s] >= 0 && ids[slots[s]] != id) s = (s + 1) & (size - 1);
        if (slots[s] >= 0) {
            counts[slots[s]]++;
        } else {
            slots[s] = distinct;
            ids[distinct] = id;
            counts[distinct] = 1;
            distinct++;
        }
    }
    for (Py_ssize_t d = 0; d < distinct; d++) {
        PyObject *value = PyLong_FromSsize_t(ids[d]);
        if (value == NULL) goto done;
        int failed = PyList_Append(bag_terms, value);
        Py_DECREF(value);
        if (failed < 0) goto done;
        value = PyLong_FromSsize_t(counts[d]);
        if (value == NULL) goto done;
        failed = PyList_Append(bag_counts, value);
        Py_DECREF(value);
        if (failed < 0) goto done;
    }
    result = PyLong_FromSsize_t(distinct);
done:
    PyMem_Free(slots);
    PyMem_Free(ids);
    PyMem_Free(counts);
    return result;
}

static PyMethodDef methods[] = {
    {"han_terms", han_terms, METH_VARARGS, "The terms of one segmented Han run (see the module comment)."},
    {"bag", bag, METH_VARARGS, "Number a passage's bag of terms (see the module comment)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_termbag", "Footnote's per-term build loops.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__termbag(void) { return PyModule_Create(&module); }
