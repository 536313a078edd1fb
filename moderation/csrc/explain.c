/* moderation._explain: the per-occurrence part of an explanation (moderation/explain.py),
 * which in Python is loops over every n-gram occurrence of the words shown.
 *
 * evidence(text, spans, blocks, limit, per_word) -> [(start, end, weight, grams)]
 *   text      the comment as written (str)
 *   spans     int64 buffer: each normalised word's (start, end) in ``text``
 *   blocks    sequence of (shares, first, last, ids, terms, strip), one per vectoriser:
 *             float64 buffer, each occurrence's share of the category's linear score;
 *             int64 buffers, the first and last word it lies in; int32/int64 buffer, its
 *             vocabulary id; the list of each id's n-gram; whether an n-gram's name is
 *             that string with white space stripped (character n-grams)
 *   limit     most stretches given; per_word: most n-grams named per stretch
 * Each result is a stretch of ``text`` (punctuation trimmed), its weight and its
 * strongest n-grams [(name, weight)], strongest stretches first.
 *
 * Every sum runs in the order numpy and Python run it in explain.py (np.bincount adds
 * element by element from zero; the n-gram sums add occurrence after occurrence into
 * a name's total, first-seen names first), and sorts keep equal weights in their
 * first order, so the result is the Python path's exactly; tests/test_explain.py
 * compares the two. N-grams are told apart by their text, not by a hash.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const double *shares;
    const int64_t *first, *last;
    Py_buffer ids; /* int32 or int64 */
    PyObject *terms; /* list */
    const uint64_t *hashes; /* name_hash of each term's name */
    int strip;
    Py_ssize_t n;
    /* occurrences by word: word u's are at[index[u]:index[u + 1]], in occurrence order */
    Py_ssize_t *index, *at;
    Py_buffer views[4];
} Block;

static int64_t block_id(const Block *b, Py_ssize_t i) {
    return b->ids.itemsize == 4 ? ((const int32_t *)b->ids.buf)[i] : ((const int64_t *)b->ids.buf)[i];
}

static void block_release(Block *b) {
    for (int k = 0; k < 4; k++)
        if (b->views[k].obj) PyBuffer_Release(&b->views[k]);
    if (b->ids.obj) PyBuffer_Release(&b->ids);
    PyMem_Free(b->index);
    PyMem_Free(b->at);
}

static int get_view(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (view->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected items of %zd bytes", what, itemsize);
        return -1;
    }
    return 0;
}

/* One block from its tuple; occurrences indexed by word (a counting sort, stable). */
static int block_load(Block *b, PyObject *tuple, Py_ssize_t n_units) {
    PyObject *shares, *first, *last, *ids, *hashes;
    memset(b, 0, sizeof(*b));
    if (!PyArg_ParseTuple(tuple, "OOOOO!Op;a block is (shares, first, last, ids, terms, hashes, "
                          "strip)", &shares, &first, &last, &ids, &PyList_Type, &b->terms,
                          &hashes, &b->strip))
        return -1;
    if (get_view(shares, &b->views[0], 8, "shares") || get_view(first, &b->views[1], 8, "first") ||
        get_view(last, &b->views[2], 8, "last") || get_view(hashes, &b->views[3], 8, "hashes") ||
        PyObject_GetBuffer(ids, &b->ids, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    b->n = b->views[0].len / 8;
    if (b->ids.itemsize != 4 && b->ids.itemsize != 8) {
        PyErr_SetString(PyExc_TypeError, "ids must be int32 or int64");
        return -1;
    }
    if (b->views[1].len / 8 != b->n || b->views[2].len / 8 != b->n || b->ids.len / b->ids.itemsize != b->n) {
        PyErr_SetString(PyExc_ValueError, "a block's arrays differ in length");
        return -1;
    }
    b->shares = b->views[0].buf;
    b->first = b->views[1].buf;
    b->last = b->views[2].buf;
    b->hashes = b->views[3].buf;
    Py_ssize_t terms = PyList_GET_SIZE(b->terms), pairs = 0;
    if (b->views[3].len / 8 != terms) {
        PyErr_SetString(PyExc_ValueError, "hashes: one per term");
        return -1;
    }
    for (Py_ssize_t i = 0; i < b->n; i++) {
        int64_t id = block_id(b, i);
        if (b->first[i] < 0 || b->first[i] > b->last[i] || b->last[i] >= n_units || id < 0 ||
            id >= terms) {
            PyErr_SetString(PyExc_IndexError, "an occurrence lies outside the words or terms");
            return -1;
        }
        pairs += b->last[i] - b->first[i] + 1;
    }
    b->index = PyMem_Calloc(n_units + 1, sizeof(Py_ssize_t));
    b->at = PyMem_Malloc((pairs + 1) * sizeof(Py_ssize_t));
    if (!b->index || !b->at) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < b->n; i++)
        for (int64_t u = b->first[i]; u <= b->last[i]; u++) b->index[u + 1]++;
    for (Py_ssize_t u = 0; u < n_units; u++) b->index[u + 1] += b->index[u];
    Py_ssize_t *fill = PyMem_Malloc((n_units + 1) * sizeof(Py_ssize_t));
    if (!fill) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(fill, b->index, (n_units + 1) * sizeof(Py_ssize_t));
    for (Py_ssize_t i = 0; i < b->n; i++)
        for (int64_t u = b->first[i]; u <= b->last[i]; u++) b->at[fill[u]++] = i;
    PyMem_Free(fill);
    return 0;
}

/* An n-gram's name: [start, end) of its term (white space stripped when ``strip``). */
static void name_of(const Block *b, int64_t id, PyObject **term, Py_ssize_t *start,
                    Py_ssize_t *end) {
    *term = PyList_GET_ITEM(b->terms, id);
    *start = 0;
    *end = PyUnicode_GET_LENGTH(*term);
    if (!b->strip) return;
    int kind = PyUnicode_KIND(*term);
    const void *data = PyUnicode_DATA(*term);
    while (*start < *end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, *start))) (*start)++;
    while (*end > *start && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, *end - 1))) (*end)--;
}

static int same_name(PyObject *a, Py_ssize_t a0, Py_ssize_t a1, PyObject *b, Py_ssize_t b0,
                     Py_ssize_t b1) {
    if (a1 - a0 != b1 - b0) return 0;
    int ka = PyUnicode_KIND(a), kb = PyUnicode_KIND(b);
    const void *da = PyUnicode_DATA(a), *db = PyUnicode_DATA(b);
    for (Py_ssize_t i = 0; i < a1 - a0; i++)
        if (PyUnicode_READ(ka, da, a0 + i) != PyUnicode_READ(kb, db, b0 + i)) return 0;
    return 1;
}

/* str.isalnum() or "_" of one character: what explain._trim keeps. */
static inline int word_char(Py_UCS4 c) { return c == '_' || Py_UNICODE_ISALNUM(c); }

static void trim(PyObject *text, Py_ssize_t *a, Py_ssize_t *b) {
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    while (*a < *b && !word_char(PyUnicode_READ(kind, data, *a))) (*a)++;
    while (*b > *a && !word_char(PyUnicode_READ(kind, data, *b - 1))) (*b)--;
}

typedef struct {
    uint64_t hash;
    int64_t id; /* the first term seen with this name, in block ``block`` */
    int block;
    double sum;
} Gram;

typedef struct {
    double weight;
    Py_ssize_t index;
} Ranked;

/* Strongest first; equal weights keep their order (a stable sort by -weight, which
 * puts NaN last, as numpy's does). */
static int by_weight(const void *x, const void *y) {
    const Ranked *a = x, *b = y;
    int na = a->weight != a->weight, nb = b->weight != b->weight;
    if (na != nb) return na - nb;
    if (a->weight > b->weight) return -1;
    if (a->weight < b->weight) return 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* A hash of a name's code points (the same text in any kind of str hashes alike). */
static uint64_t name_hash(PyObject *term, Py_ssize_t start, Py_ssize_t end) {
    int kind = PyUnicode_KIND(term);
    const void *data = PyUnicode_DATA(term);
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = start; i < end; i++) {
        h ^= PyUnicode_READ(kind, data, i);
        h *= 1099511628211ULL;
    }
    return h;
}

/* The strongest n-grams of the words ``members[0:count]`` as a list of (name, weight).
 * Names are found through a hash table of their text (``slots``: room for a power of two
 * at least twice the occurrences), compared in full on a matching hash. */
static PyObject *grams_of(const Block *blocks, Py_ssize_t n_blocks, const Py_ssize_t *members,
                          Py_ssize_t count, Py_ssize_t per_word, Gram **room, Py_ssize_t *size) {
    Py_ssize_t found = 0, occurrences = 0;
    for (Py_ssize_t k = 0; k < n_blocks; k++)
        for (Py_ssize_t m = 0; m < count; m++)
            occurrences += blocks[k].index[members[m] + 1] - blocks[k].index[members[m]];
    uint64_t capacity = 16;
    while (capacity < 2 * (uint64_t)occurrences) capacity <<= 1;
    Py_ssize_t *slots = PyMem_Malloc(capacity * sizeof(Py_ssize_t));
    if (!slots) return PyErr_NoMemory();
    for (uint64_t j = 0; j < capacity; j++) slots[j] = -1;
    for (Py_ssize_t k = 0; k < n_blocks; k++) {
        const Block *b = &blocks[k];
        for (Py_ssize_t m = 0; m < count; m++) {
            Py_ssize_t u = members[m];
            for (Py_ssize_t j = b->index[u]; j < b->index[u + 1]; j++) {
                Py_ssize_t i = b->at[j];
                /* a character n-gram lies in one word; a word n-gram's share is split
                 * between the words it spans */
                double value = b->strip ? b->shares[i]
                                        : b->shares[i] / (double)(b->last[i] - b->first[i] + 1);
                int64_t id = block_id(b, i);
                uint64_t h = b->hashes[id], at = (h * 0x9E3779B97F4A7C15ULL) & (capacity - 1);
                Py_ssize_t g;
                for (;; at = (at + 1) & (capacity - 1)) {
                    g = slots[at];
                    if (g < 0) break;
                    Gram *seen = &(*room)[g];
                    if (seen->hash != h) continue;
                    if (seen->block == k && seen->id == id) break; /* the same term */
                    PyObject *term;
                    Py_ssize_t start, end;
                    name_of(b, id, &term, &start, &end);
                    PyObject *other;
                    Py_ssize_t other_start, other_end;
                    name_of(&blocks[seen->block], seen->id, &other, &other_start, &other_end);
                    if (same_name(other, other_start, other_end, term, start, end)) break;
                }
                if (g < 0) {
                    if (found == *size) {
                        Py_ssize_t grown = *size * 2;
                        Gram *more = PyMem_Realloc(*room, grown * sizeof(Gram));
                        if (!more) {
                            PyMem_Free(slots);
                            return PyErr_NoMemory();
                        }
                        *room = more;
                        *size = grown;
                    }
                    g = slots[at] = found++;
                    (*room)[g] = (Gram){h, id, (int)k, 0.0};
                }
                (*room)[g].sum += value;
            }
        }
    }
    PyMem_Free(slots);
    Ranked *order = PyMem_Malloc((found + 1) * sizeof(Ranked));
    if (!order) return PyErr_NoMemory();
    for (Py_ssize_t g = 0; g < found; g++) order[g] = (Ranked){(*room)[g].sum, g};
    qsort(order, found, sizeof(Ranked), by_weight);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t r = 0; out && r < found && r < per_word; r++) {
        const Gram *g = &(*room)[order[r].index];
        if (!(g->sum > 0)) break;
        PyObject *term;
        Py_ssize_t start, end;
        name_of(&blocks[g->block], g->id, &term, &start, &end);
        PyObject *pair = Py_BuildValue("(Nd)", PyUnicode_Substring(term, start, end), g->sum);
        if (!pair || PyList_Append(out, pair)) Py_CLEAR(out);
        Py_XDECREF(pair);
    }
    PyMem_Free(order);
    return out;
}

/* shares(raw, norm2, distinct, counts, where, coef, column, offset, single) -> bytes: each
 * occurrence's share of category ``column``'s linear score, float64, as explain.py's
 * _tfidf and _occurrences compute it: tfidf = raw / sqrt(norm2), rounded to float32
 * when ``single`` (the vectoriser's dtype), times the term's weight coef[offset + term,
 * column] (float32 or float64), divided by the term's count; ``where``: each
 * occurrence's index into the distinct terms. The caller computes raw (from np.log)
 * and norm2 (np.dot) with numpy, so every number is numpy's. */
static PyObject *shares(PyObject *module, PyObject *args) {
    PyObject *raw_obj, *distinct_obj, *counts_obj, *where_obj, *coef_obj;
    double norm2;
    Py_ssize_t column, offset;
    int single;
    if (!PyArg_ParseTuple(args, "OdOOOOnnp", &raw_obj, &norm2, &distinct_obj, &counts_obj,
                          &where_obj, &coef_obj, &column, &offset, &single))
        return NULL;
    Py_buffer raw = {0}, distinct = {0}, counts = {0}, where = {0}, coef = {0};
    PyObject *out = NULL;
    double *per = NULL;
    if (get_view(raw_obj, &raw, 8, "raw") || get_view(distinct_obj, &distinct, 8, "distinct") ||
        get_view(counts_obj, &counts, 8, "counts") || get_view(where_obj, &where, 8, "where") ||
        PyObject_GetBuffer(coef_obj, &coef, PyBUF_C_CONTIGUOUS | PyBUF_ND | PyBUF_FORMAT) < 0)
        goto done;
    int f32 = !strcmp(coef.format, "f") && coef.itemsize == 4;
    if (coef.ndim != 2 || (!f32 && (strcmp(coef.format, "d") || coef.itemsize != 8))) {
        PyErr_SetString(PyExc_TypeError, "coef must be a 2-d float32 or float64 array");
        goto done;
    }
    Py_ssize_t m = raw.len / 8, n = where.len / 8, rows = coef.shape[0], k = coef.shape[1];
    if (distinct.len / 8 != m || counts.len / 8 != m || column < 0 || column >= k) {
        PyErr_SetString(PyExc_ValueError, "raw, distinct and counts differ, or no such column");
        goto done;
    }
    per = PyMem_Malloc((m + 1) * sizeof(double));
    if (!per) {
        PyErr_NoMemory();
        goto done;
    }
    const double *r = raw.buf, norm = sqrt(norm2);
    const int64_t *t = distinct.buf, *c = counts.buf, *w = where.buf;
    for (Py_ssize_t d = 0; d < m; d++) {
        Py_ssize_t row = offset + t[d];
        if (row < 0 || row >= rows || c[d] < 1) {
            PyErr_SetString(PyExc_IndexError, "a term is outside the weights, or a count < 1");
            goto done;
        }
        double tfidf = r[d] / norm;
        if (single) tfidf = (double)(float)tfidf;
        double weight = f32 ? (double)((const float *)coef.buf)[row * k + column]
                            : ((const double *)coef.buf)[row * k + column];
        per[d] = tfidf * weight / (double)c[d];
    }
    out = PyBytes_FromStringAndSize(NULL, n * 8);
    if (!out) goto done;
    double *o = (double *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (w[i] < 0 || w[i] >= m) {
            Py_CLEAR(out);
            PyErr_SetString(PyExc_IndexError, "where points outside the distinct terms");
            goto done;
        }
        o[i] = per[w[i]];
    }
done:
    PyMem_Free(per);
    Py_buffer *views[] = {&raw, &distinct, &counts, &where, &coef};
    for (int v = 0; v < 5; v++)
        if (views[v]->obj) PyBuffer_Release(views[v]);
    return out;
}

/* split_spans(text) -> bytes: the (start, end) of each word str.split() finds, int64. */
static PyObject *split_spans(PyObject *module, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), words = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++)
        words += !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)) &&
                 (i == 0 || Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i - 1)));
    PyObject *out = PyBytes_FromStringAndSize(NULL, words * 16);
    if (!out) return NULL;
    int64_t *o = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n;) {
        while (i < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) i++;
        if (i == n) break;
        Py_ssize_t j = i;
        while (j < n && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j))) j++;
        *o++ = i;
        *o++ = j;
        i = j;
    }
    return out;
}

/* name_hashes(terms, strip) -> bytes: name_hash of each term's name, uint64. */
static PyObject *name_hashes(PyObject *module, PyObject *args) {
    PyObject *terms;
    int strip;
    if (!PyArg_ParseTuple(args, "O!p", &PyList_Type, &terms, &strip)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(terms);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * 8);
    if (!out) return NULL;
    uint64_t *h = (uint64_t *)PyBytes_AS_STRING(out);
    Block b = {.terms = terms, .strip = strip};
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_Check(PyList_GET_ITEM(terms, i))) {
            Py_DECREF(out);
            PyErr_SetString(PyExc_TypeError, "terms must be str");
            return NULL;
        }
        PyObject *term;
        Py_ssize_t start, end;
        name_of(&b, i, &term, &start, &end);
        h[i] = name_hash(term, start, end);
    }
    return out;
}

static PyObject *evidence(PyObject *module, PyObject *args) {
    PyObject *text, *spans_obj, *blocks_obj;
    Py_ssize_t limit, per_word;
    if (!PyArg_ParseTuple(args, "UOOnn", &text, &spans_obj, &blocks_obj, &limit, &per_word))
        return NULL;
    Py_buffer spans_view;
    if (get_view(spans_obj, &spans_view, 16, "spans")) return NULL;
    const int64_t *spans = spans_view.buf;
    Py_ssize_t n_units = spans_view.len / 16, length = PyUnicode_GET_LENGTH(text);
    PyObject *seq = PySequence_Fast(blocks_obj, "blocks must be a sequence");
    PyObject *result = NULL;
    Block *blocks = NULL;
    double *totals = NULL;
    Py_ssize_t *members = NULL, *owner_start = NULL, n_blocks = 0, size = 64;
    int64_t *stretch = NULL;
    Ranked *order = NULL;
    Gram *room = PyMem_Malloc(size * sizeof(Gram));
    if (!seq || !room) goto done;
    for (Py_ssize_t u = 0; u < n_units; u++) {
        if (spans[2 * u] < 0 || spans[2 * u] > spans[2 * u + 1] || spans[2 * u + 1] > length) {
            PyErr_SetString(PyExc_IndexError, "a span lies outside the text");
            goto done;
        }
    }
    n_blocks = PySequence_Fast_GET_SIZE(seq);
    blocks = PyMem_Calloc(n_blocks + 1, sizeof(Block));
    totals = PyMem_Calloc(n_units + 1, sizeof(double));
    members = PyMem_Malloc((n_units + 1) * sizeof(Py_ssize_t));
    owner_start = PyMem_Malloc((n_units + 2) * sizeof(Py_ssize_t));
    stretch = PyMem_Malloc((2 * n_units + 1) * sizeof(int64_t));
    order = PyMem_Malloc((n_units + 1) * sizeof(Ranked));
    if (!blocks || !totals || !members || !owner_start || !stretch || !order) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < n_blocks; k++)
        if (block_load(&blocks[k], PySequence_Fast_GET_ITEM(seq, k), n_units)) goto done;

    /* Each word's total: np.bincount over the blocks' (word, share) pairs, in order. */
    for (Py_ssize_t k = 0; k < n_blocks; k++) {
        const Block *b = &blocks[k];
        for (Py_ssize_t i = 0; i < b->n; i++) {
            int64_t width = b->last[i] - b->first[i] + 1;
            for (int64_t u = b->first[i]; u <= b->last[i]; u++)
                totals[u] += width == 1 ? b->shares[i] : b->shares[i] / (double)width;
        }
    }

    /* The stretches: the words' own spans when they are disjoint and in order, else
     * the trimmed spans, words that trim to the same one merged (explain._stretches). */
    int disjoint = 1;
    for (Py_ssize_t u = 1; u < n_units && disjoint; u++)
        disjoint = spans[2 * (u - 1) + 1] <= spans[2 * u];
    Py_ssize_t n_stretches = 0;
    if (disjoint) {
        for (Py_ssize_t u = 0; u < n_units; u++) {
            stretch[2 * u] = spans[2 * u];
            stretch[2 * u + 1] = spans[2 * u + 1];
            members[u] = u;
            owner_start[u] = u;
            order[u] = (Ranked){totals[u], u};
        }
        owner_start[n_units] = n_units;
        n_stretches = n_units;
    } else {
        /* first-seen trimmed spans, each with the words in it (in word order) */
        Py_ssize_t *owner = PyMem_Malloc((n_units + 1) * sizeof(Py_ssize_t));
        if (!owner) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t u = 0; u < n_units; u++) {
            Py_ssize_t a = spans[2 * u], b = spans[2 * u + 1], s;
            trim(text, &a, &b);
            owner[u] = -1;
            if (a >= b) continue;
            /* words sharing a span are usually neighbours (a link's placeholder and its
             * domain token): the last stretch first */
            s = n_stretches && stretch[2 * (n_stretches - 1)] == a &&
                        stretch[2 * (n_stretches - 1) + 1] == b ? n_stretches - 1 : 0;
            for (; s < n_stretches; s++)
                if (stretch[2 * s] == a && stretch[2 * s + 1] == b) break;
            if (s == n_stretches) {
                stretch[2 * s] = a;
                stretch[2 * s + 1] = b;
                n_stretches++;
            }
            owner[u] = s;
        }
        /* members grouped by stretch, in word order (a counting sort), and each stretch's
         * total summed over them in that order from zero, as np.bincount does */
        for (Py_ssize_t t = 0; t <= n_stretches; t++) owner_start[t] = 0;
        for (Py_ssize_t u = 0; u < n_units; u++)
            if (owner[u] >= 0) owner_start[owner[u] + 1]++;
        for (Py_ssize_t t = 0; t < n_stretches; t++) owner_start[t + 1] += owner_start[t];
        for (Py_ssize_t t = 0; t < n_stretches; t++) order[t] = (Ranked){0.0, t};
        Py_ssize_t *fill = PyMem_Malloc((n_stretches + 1) * sizeof(Py_ssize_t));
        if (!fill) {
            PyMem_Free(owner);
            PyErr_NoMemory();
            goto done;
        }
        memcpy(fill, owner_start, (n_stretches + 1) * sizeof(Py_ssize_t));
        for (Py_ssize_t u = 0; u < n_units; u++) {
            if (owner[u] < 0) continue;
            members[fill[owner[u]]++] = u;
            order[owner[u]].weight += totals[u];
        }
        PyMem_Free(fill);
        PyMem_Free(owner);
    }

    qsort(order, n_stretches, sizeof(Ranked), by_weight);
    result = PyList_New(0);
    for (Py_ssize_t r = 0; result && r < n_stretches && PyList_GET_SIZE(result) < limit; r++) {
        if (!(order[r].weight > 0)) break; /* strongest first: the rest are no stronger */
        Py_ssize_t s = order[r].index, a = stretch[2 * s], b = stretch[2 * s + 1];
        trim(text, &a, &b);
        if (a >= b) continue;
        PyObject *grams = grams_of(blocks, n_blocks, members + owner_start[s],
                                   owner_start[s + 1] - owner_start[s], per_word, &room, &size);
        PyObject *item = grams ? Py_BuildValue("(nndN)", a, b, order[r].weight, grams) : NULL;
        if (!item || PyList_Append(result, item)) Py_CLEAR(result);
        Py_XDECREF(item);
    }
done:
    for (Py_ssize_t k = 0; blocks && k < n_blocks; k++) block_release(&blocks[k]);
    PyMem_Free(blocks);
    PyMem_Free(totals);
    PyMem_Free(members);
    PyMem_Free(owner_start);
    PyMem_Free(stretch);
    PyMem_Free(order);
    PyMem_Free(room);
    Py_XDECREF(seq);
    PyBuffer_Release(&spans_view);
    return result;
}

static PyMethodDef methods[] = {
    {"split_spans", split_spans, METH_O,
     "split_spans(text) -> bytes: (start, end) of each str.split() word, int64."},
    {"shares", shares, METH_VARARGS,
     "shares(raw, norm2, distinct, counts, where, coef, column, offset, single) -> bytes: "
     "each occurrence's share of a category's linear score (float64)."},
    {"name_hashes", name_hashes, METH_VARARGS,
     "name_hashes(terms, strip) -> bytes: a uint64 hash of each term's name (stripped of "
     "white space when ``strip``), for evidence()."},
    {"evidence", evidence, METH_VARARGS,
     "evidence(text, spans, blocks, limit, per_word) -> list of (start, end, weight, grams): "
     "the stretches of text that raised a category's score most, with their n-grams."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_explain",
    "The per-occurrence part of an explanation, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__explain(void) { return PyModule_Create(&module); }
