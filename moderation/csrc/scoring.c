/* The compiled scorer's arithmetic on a few hundred terms, without numpy's per-call cost.
 *
 * distinct(values) is np.unique(values, return_inverse=True, return_counts=True) for
 * non-negative integers: a least-significant-digit radix sort (a byte a pass, as many
 * passes as the largest value needs) of the values' positions.
 *
 * score(table, term, count, starts, sublinear, norm) is one vectoriser's share of the
 * raw scores, as fastpath._Block.score_distinct defines it: for each segment of
 * distinct terms (one text's), the tf-idf weighted sum of each category's row of
 * ``table`` (V rows of k + 1 float64: idf * coef per category, then idf; a term's
 * k + 1 numbers side by side, so that gathering them touches one cache line rather
 * than k + 1 far apart), divided by the text's norm. Sums run in term order.
 *
 * score_texts(table, lengths, ids, sublinear, binary, norm) is the same for whole texts
 * given as runs of n-gram ids (repeats included, ``lengths[i]`` of them for text i):
 * each text's ids are counted and sorted here, and summed exactly as score() sums
 * them, so a text scores the same to the last bit either way.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Values as int64 from a buffer of int32 or int64 ("i", "l" or "q"); NULL on error. */
static int64_t *read_integers(PyObject *obj, Py_ssize_t *count) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    const char *format = view.format ? view.format : "B";
    if (*format == '<' || *format == '=' || *format == '@') format++;
    int64_t *out = NULL;
    int int32 = !strcmp(format, "i") && view.itemsize == 4;
    int int64 = (!strcmp(format, "l") || !strcmp(format, "q")) && view.itemsize == 8;
    if (!int32 && !int64) {
        PyErr_SetString(PyExc_TypeError, "expected an int32 or int64 array");
        goto done;
    }
    *count = view.len / view.itemsize;
    out = PyMem_Malloc((*count + 1) * sizeof(int64_t));
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    if (view.itemsize == 8) {
        memcpy(out, view.buf, *count * sizeof(int64_t));
    } else {
        const int32_t *in = view.buf;
        for (Py_ssize_t i = 0; i < *count; i++) out[i] = in[i];
    }
done:
    PyBuffer_Release(&view);
    return out;
}

static PyObject *as_bytes(const void *data, Py_ssize_t items) {
    return PyBytes_FromStringAndSize(data, items * (Py_ssize_t)sizeof(int64_t));
}

/* Sort items[0..n) stably, ascending by key (keys[item], or the item itself when keys is
 * NULL; every key at most ``largest``): least-significant byte first, a byte a pass.
 * ``spare`` has room for n items. */
static void radix_sort(int64_t *items, int64_t *spare, Py_ssize_t n, uint64_t largest,
                       const int64_t *keys) {
#define KEY(item) ((uint64_t)(keys ? keys[item] : (item)))
    for (int shift = 0; shift < 64 && (largest >> shift); shift += 8) {
        Py_ssize_t bucket[257] = {0};
        for (Py_ssize_t i = 0; i < n; i++) bucket[(KEY(items[i]) >> shift & 255) + 1]++;
        for (int b = 0; b < 256; b++) bucket[b + 1] += bucket[b];
        for (Py_ssize_t i = 0; i < n; i++) spare[bucket[KEY(items[i]) >> shift & 255]++] = items[i];
        memcpy(items, spare, n * sizeof(int64_t));
    }
#undef KEY
}

static PyObject *distinct(PyObject *module, PyObject *obj) {
    Py_ssize_t n = 0;
    int64_t *values = read_integers(obj, &n);
    if (!values) return NULL;
    PyObject *result = NULL;
    int64_t *order = PyMem_Malloc((n + 1) * sizeof(int64_t));
    int64_t *spare = PyMem_Malloc((n + 1) * sizeof(int64_t));
    int64_t *found = PyMem_Malloc((n + 1) * sizeof(int64_t));
    int64_t *where = PyMem_Malloc((n + 1) * sizeof(int64_t));
    int64_t *counts = PyMem_Malloc((n + 1) * sizeof(int64_t));
    if (!order || !spare || !found || !where || !counts) {
        PyErr_NoMemory();
        goto done;
    }
    uint64_t largest = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (values[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "values must be non-negative");
            goto done;
        }
        if ((uint64_t)values[i] > largest) largest = (uint64_t)values[i];
        order[i] = i;
    }
    radix_sort(order, spare, n, largest, values);
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t value = values[order[i]];
        if (!m || found[m - 1] != value) {
            found[m] = value;
            counts[m++] = 0;
        }
        counts[m - 1]++;
        where[order[i]] = m - 1;
    }
    result = Py_BuildValue("(NNN)", as_bytes(found, m), as_bytes(where, n), as_bytes(counts, m));
done:
    PyMem_Free(values);
    PyMem_Free(order);
    PyMem_Free(spare);
    PyMem_Free(found);
    PyMem_Free(where);
    PyMem_Free(counts);
    return result;
}

/* One vectoriser's arithmetic: its table (k + 1 rows of width float64) and tf-idf options. */
typedef struct {
    const double *weights;
    Py_ssize_t width, k;
    int sublinear, binary, l1, l2;
} Arith;

/* log(c) + 1 for the small counts nearly every term has, computed as add_term would:
 * the same double, without a call of log() per term. */
#define SMALL_COUNTS 64
static double sublinear_tf[SMALL_COUNTS];

/* Add one distinct term, seen ``count`` times, to the k + 1 running sums. */
static inline void add_term(const Arith *a, int64_t term, int64_t count, double *sum) {
    int64_t c = a->binary ? 1 : count;
    double tf = (double)c;
    if (a->sublinear) tf = c >= 1 && c < SMALL_COUNTS ? sublinear_tf[c] : log(tf) + 1.0;
    const double *row = a->weights + term * (a->k + 1);  /* one cache line, mostly */
    for (Py_ssize_t j = 0; j < a->k; j++) sum[j] += row[j] * tf;
    double entry = row[a->k] * tf;
    sum[a->k] += a->l2 ? entry * entry : a->l1 ? fabs(entry) : 0.0;
}

/* The k category sums divided by the text's norm. */
static inline void finish(const Arith *a, const double *sum, double *out) {
    double scale = a->l2 ? sqrt(sum[a->k]) : a->l1 ? sum[a->k] : 1.0;
    for (Py_ssize_t j = 0; j < a->k; j++) out[j] = sum[j] / scale;
}

/* The norm argument as flags; -1 with an exception set when it is none of the three. */
static int parse_norm(const char *norm, int *l1, int *l2) {
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
static int get_table(PyObject *obj, Py_buffer *table) {
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

static PyObject *score(PyObject *module, PyObject *args) {
    PyObject *table_obj, *term_obj, *count_obj, *starts_obj;
    int sublinear, binary;
    const char *norm;
    if (!PyArg_ParseTuple(args, "OOOOpps", &table_obj, &term_obj, &count_obj, &starts_obj,
                          &sublinear, &binary, &norm))
        return NULL;
    int l1, l2;
    Py_buffer table;
    if (parse_norm(norm, &l1, &l2) < 0 || get_table(table_obj, &table) < 0) return NULL;
    PyObject *result = NULL;
    Py_ssize_t terms = 0, counted = 0, segments = 0;
    int64_t *term = NULL, *count = NULL, *starts = NULL;
    double *out = NULL, *sum = NULL;
    Py_ssize_t rows = table.shape[1], width = table.shape[0], k = rows - 1;
    if (!(term = read_integers(term_obj, &terms)) || !(count = read_integers(count_obj, &counted))
        || !(starts = read_integers(starts_obj, &segments)))
        goto done;
    if (counted != terms) {
        PyErr_SetString(PyExc_ValueError, "term and count differ in length");
        goto done;
    }
    out = PyMem_Malloc((segments * k + 1) * sizeof(double));
    sum = PyMem_Malloc(rows * sizeof(double));
    if (!out || !sum) {
        PyErr_NoMemory();
        goto done;
    }
    Arith arith = {table.buf, width, k, sublinear, binary, l1, l2};
    for (Py_ssize_t s = 0; s < segments; s++) {
        Py_ssize_t from = starts[s], to = s + 1 < segments ? starts[s + 1] : terms;
        if (from < 0 || to > terms || from > to) {
            PyErr_SetString(PyExc_ValueError, "segment starts must rise within the terms");
            goto done;
        }
        for (Py_ssize_t j = 0; j < rows; j++) sum[j] = 0.0;
        for (Py_ssize_t t = from; t < to; t++) {
            if (term[t] < 0 || term[t] >= width) {
                PyErr_SetString(PyExc_IndexError, "a term is outside the table");
                goto done;
            }
            add_term(&arith, term[t], count[t], sum);
        }
        finish(&arith, sum, out + s * k);
    }
    result = PyBytes_FromStringAndSize((const char *)out, segments * k * (Py_ssize_t)sizeof(double));
done:
    PyBuffer_Release(&table);
    PyMem_Free(term);
    PyMem_Free(count);
    PyMem_Free(starts);
    PyMem_Free(out);
    PyMem_Free(sum);
    return result;
}

static PyObject *score_texts(PyObject *module, PyObject *args) {
    PyObject *table_obj, *lengths_obj, *ids_obj;
    int sublinear, binary;
    const char *norm;
    if (!PyArg_ParseTuple(args, "OOOpps", &table_obj, &lengths_obj, &ids_obj, &sublinear,
                          &binary, &norm))
        return NULL;
    int l1, l2;
    Py_buffer table;
    if (parse_norm(norm, &l1, &l2) < 0 || get_table(table_obj, &table) < 0) return NULL;
    PyObject *result = NULL;
    Py_ssize_t texts = 0, total = 0, longest = 0;
    int64_t *lengths = NULL, *ids = NULL, *distinct = NULL, *spare = NULL, *count = NULL;
    int32_t *slot = NULL;
    double *out = NULL, *sum = NULL;
    Py_ssize_t width = table.shape[0], k = table.shape[1] - 1;
    if (!(lengths = read_integers(lengths_obj, &texts)) || !(ids = read_integers(ids_obj, &total)))
        goto done;
    Py_ssize_t expected = 0;
    for (Py_ssize_t i = 0; i < texts; i++) {
        if (lengths[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "lengths must be non-negative");
            goto done;
        }
        expected += lengths[i];
        if (lengths[i] > longest) longest = lengths[i];
    }
    if (expected != total) {
        PyErr_SetString(PyExc_ValueError, "the lengths do not add up to the number of ids");
        goto done;
    }
    /* slot[id]: where a text's id is counted, -1 when the text has not had it yet. */
    slot = PyMem_Malloc((width + 1) * sizeof(int32_t));
    distinct = PyMem_Malloc((longest + 1) * sizeof(int64_t));
    spare = PyMem_Malloc((longest + 1) * sizeof(int64_t));
    count = PyMem_Malloc((longest + 1) * sizeof(int64_t));
    out = PyMem_Calloc(texts * k + 1, sizeof(double));  /* a text without terms scores 0 */
    sum = PyMem_Malloc((k + 1) * sizeof(double));
    if (!slot || !distinct || !spare || !count || !out || !sum) {
        PyErr_NoMemory();
        goto done;
    }
    if (longest > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "a text has too many ids");
        goto done;
    }
    memset(slot, 0xff, width * sizeof(int32_t));
    Arith arith = {table.buf, width, k, sublinear, binary, l1, l2};
    const int64_t *id = ids;
    int outside = 0;
    /* Plain arithmetic on buffers held here: another thread runs Python meanwhile. */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < texts && !outside; id += lengths[i], i++) {
        Py_ssize_t m = 0;
        for (Py_ssize_t t = 0; t < lengths[i]; t++) {
            int64_t term = id[t];
            if (term < 0 || term >= width) {
                outside = 1;
                break;
            }
            if (slot[term] < 0) {
                slot[term] = (int32_t)m;
                distinct[m] = term;
                count[m++] = 1;
            } else {
                count[slot[term]]++;
            }
        }
        if (outside || !m) continue;
        /* Counts stay where slot[] points while the terms are put in order. */
        radix_sort(distinct, spare, m, (uint64_t)(width - 1), NULL);
        for (Py_ssize_t j = 0; j <= k; j++) sum[j] = 0.0;
        for (Py_ssize_t d = 0; d < m; d++) {
            add_term(&arith, distinct[d], count[slot[distinct[d]]], sum);
        }
        for (Py_ssize_t d = 0; d < m; d++) slot[distinct[d]] = -1;
        finish(&arith, sum, out + i * k);
    }
    Py_END_ALLOW_THREADS
    if (outside) {
        PyErr_SetString(PyExc_IndexError, "a term is outside the table");
        goto done;
    }
    result = PyBytes_FromStringAndSize((const char *)out, texts * k * (Py_ssize_t)sizeof(double));
done:
    PyBuffer_Release(&table);
    PyMem_Free(lengths);
    PyMem_Free(ids);
    PyMem_Free(slot);
    PyMem_Free(distinct);
    PyMem_Free(spare);
    PyMem_Free(count);
    PyMem_Free(out);
    PyMem_Free(sum);
    return result;
}

static PyMethodDef methods[] = {
    {"distinct", distinct, METH_O,
     "distinct(values) -> (distinct, where, counts): int64 bytes, as np.unique with "
     "return_inverse and return_counts, for non-negative int32 or int64 values."},
    {"score", score, METH_VARARGS,
     "score(table, term, count, starts, sublinear, binary, norm) -> bytes: float64 "
     "(segments, k) raw scores of each segment of distinct terms."},
    {"score_texts", score_texts, METH_VARARGS,
     "score_texts(table, lengths, ids, sublinear, binary, norm) -> bytes: float64 "
     "(texts, k) raw scores of texts given as runs of n-gram ids."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scoring",
    "Counting distinct terms and scoring them, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__scoring(void) {
    for (int c = 1; c < SMALL_COUNTS; c++) sublinear_tf[c] = log((double)c) + 1.0;
    return PyModule_Create(&module);
}
