/* One vectoriser's tf-idf arithmetic, shared by moderation._scoring (scoring.c) and the
 * n-gram tables of moderation._ngrams, which count and score texts as they find their
 * n-grams.
 *
 * A table holds V rows of k + 1 float64: idf * coef per category, then idf (a term's
 * numbers side by side, so that gathering them touches one cache line rather than
 * k + 1 far apart). A text's raw score per category is the tf-idf weighted sum of its
 * distinct terms' rows, divided by the text's norm; the sums run in ascending term
 * order, so that every path (a live comment's sorted terms, a batch's tally) adds the
 * same numbers in the same order and scores a text the same to the last bit.
 */
#ifndef MODERATION_ARITH_H
#define MODERATION_ARITH_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const double *weights;
    Py_ssize_t width, k;
    int sublinear, binary, l1, l2;
} Arith;

/* log(c) + 1 for the small counts nearly every term has, computed as add_term would:
 * the same double, without a call of log() per term. Each file that includes this has
 * its own copy, filled by open_arith() (with the GIL held) before its first use. */
#define SMALL_COUNTS 64
static double sublinear_tf[SMALL_COUNTS];

/* Add one distinct term, seen ``count`` times, to the running sums s[0..k]. ``k`` is the
 * table's (a->k); where a caller passes it as a constant, the inlined copy keeps the
 * sums in registers and unrolls its loop: the same additions in the same order, so the
 * same doubles. */
static inline __attribute__((always_inline)) void
add_term_k(const Arith *a, Py_ssize_t k, int64_t term, int64_t count, double *s) {
    int64_t c = a->binary ? 1 : count;
    double tf = (double)c;
    if (a->sublinear) tf = c >= 1 && c < SMALL_COUNTS ? sublinear_tf[c] : log(tf) + 1.0;
    const double *row = a->weights + term * (k + 1); /* one cache line, mostly */
    for (Py_ssize_t j = 0; j < k; j++) s[j] += row[j] * tf;
    double entry = row[k] * tf;
    s[k] += a->l2 ? entry * entry : a->l1 ? fabs(entry) : 0.0;
}

static inline void add_term(const Arith *a, int64_t term, int64_t count, double *sum) {
    add_term_k(a, a->k, term, count, sum);
}

/* The k category sums divided by the text's norm. */
static inline void finish(const Arith *a, const double *sum, double *out) {
    double scale = a->l2 ? sqrt(sum[a->k]) : a->l1 ? sum[a->k] : 1.0;
    for (Py_ssize_t j = 0; j < a->k; j++) out[j] = sum[j] / scale;
}

/* The norm argument as flags; -1 with an exception set when it is none of the three. */
static inline int parse_norm(const char *norm, int *l1, int *l2) {
    *l2 = !strcmp(norm, "l2");
    *l1 = !strcmp(norm, "l1");
    if (!*l2 && !*l1 && strcmp(norm, "none")) {
        PyErr_SetString(PyExc_ValueError, "norm must be 'l1', 'l2' or 'none'");
        return -1;
    }
    return 0;
}

/* The table argument: a C-contiguous 2-d float64 array, a row per term of at least two
 * columns (k category weights, then the idf). */
static inline int get_table(PyObject *obj, Py_buffer *table) {
    if (PyObject_GetBuffer(obj, table, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0)
        return -1;
    if (table->ndim != 2 || table->itemsize != 8 || strcmp(table->format, "d") ||
        table->shape[1] < 2) {
        PyBuffer_Release(table);
        PyErr_SetString(PyExc_TypeError, "table must be a 2-d float64 array of k + 1 columns");
        return -1;
    }
    return 0;
}

/* The (table, sublinear, binary, norm) arguments as an Arith over ``table`` (released by
 * the caller); -1 with an exception set when one is unusable. */
static inline int open_arith(PyObject *table_obj, int sublinear, int binary,
                             const char *norm, Py_buffer *table, Arith *a) {
    if (sublinear_tf[1] != 1.0)
        for (int c = 1; c < SMALL_COUNTS; c++) sublinear_tf[c] = log((double)c) + 1.0;
    int l1, l2;
    if (parse_norm(norm, &l1, &l2) < 0 || get_table(table_obj, table) < 0) return -1;
    Arith made = {table->buf, table->shape[0], table->shape[1] - 1, sublinear, binary, l1, l2};
    *a = made;
    return 0;
}

/* A text's terms counted as they come, then summed in ascending order: a count per
 * term of the table, and a bit per term seen, with a bit per 64 of those to find them.
 * Counting touches one counter a term; the ordered walk visits only the words of bits
 * that hold one, and leaves everything zero for the next text. Every buffer is from
 * the raw allocator: texts are counted with the GIL released. */
typedef struct {
    uint32_t *count; /* a text's n-grams number fewer than 2**32 */
    uint64_t *seen, *summary;
    Py_ssize_t width, summary_words;
} Tally;

static inline void tally_close(Tally *t) {
    PyMem_RawFree(t->count);
    PyMem_RawFree(t->seen);
    PyMem_RawFree(t->summary);
    t->count = NULL;
    t->seen = t->summary = NULL;
}

/* Room for terms 0..width-1; -1 when out of memory (no error set: no GIL needed). */
static inline int tally_open(Tally *t, Py_ssize_t width) {
    Py_ssize_t words = (width + 63) / 64;
    t->width = width;
    t->summary_words = (words + 63) / 64;
    t->count = PyMem_RawCalloc(width + 1, sizeof(uint32_t));
    t->seen = PyMem_RawCalloc(words + 1, sizeof(uint64_t));
    t->summary = PyMem_RawCalloc(t->summary_words + 1, sizeof(uint64_t));
    if (!t->count || !t->seen || !t->summary) {
        tally_close(t);
        return -1;
    }
    return 0;
}

/* One occurrence of ``term`` (0 <= term < width); its row is fetched ahead of the sum. */
static inline void tally_add(Tally *t, const Arith *a, Py_ssize_t term) {
    if (t->count[term]++) return;
    __builtin_prefetch(a->weights + term * (a->k + 1));
    t->seen[term >> 6] |= (uint64_t)1 << (term & 63);
    t->summary[term >> 12] |= (uint64_t)1 << ((term >> 6) & 63);
}

/* Every counted term of ``t`` into s[0..k], in ascending order, and the tally emptied;
 * whether there was one. */
static inline __attribute__((always_inline)) int
tally_walk(Tally *t, const Arith *a, Py_ssize_t k, double *s) {
    int any = 0;
    for (Py_ssize_t w0 = 0; w0 < t->summary_words; w0++) {
        uint64_t words = t->summary[w0];
        if (!words) continue;
        t->summary[w0] = 0;
        any = 1;
        while (words) {
            Py_ssize_t w = w0 * 64 + __builtin_ctzll(words);
            words &= words - 1;
            uint64_t bits = t->seen[w];
            t->seen[w] = 0;
            while (bits) {
                Py_ssize_t term = w * 64 + __builtin_ctzll(bits);
                bits &= bits - 1;
                add_term_k(a, k, term, t->count[term], s);
                t->count[term] = 0;
            }
        }
    }
    return any;
}

/* The counted text's raw scores to out[0..k) (zeros without a term), and the tally
 * emptied; ``sum`` is room for k + 1 doubles. */
static inline void tally_score(Tally *t, const Arith *a, double *sum, double *out) {
    int any;
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    switch (a->k) { /* a copy of the walk for one and two categories, sums in registers */
    case 1:
        any = tally_walk(t, a, 1, s);
        break;
    case 2:
        any = tally_walk(t, a, 2, s);
        break;
    default:
        for (Py_ssize_t j = 0; j <= a->k; j++) sum[j] = 0.0;
        any = tally_walk(t, a, a->k, sum);
    }
    if (a->k <= 2)
        for (Py_ssize_t j = 0; j <= a->k; j++) sum[j] = s[j];
    if (any) finish(a, sum, out);
    else
        for (Py_ssize_t j = 0; j < a->k; j++) out[j] = 0.0;
}

#endif
