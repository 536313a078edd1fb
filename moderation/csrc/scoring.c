/* The compiled scorer's arithmetic on a few hundred terms, without numpy's per-call cost.
 *
 * distinct(values) is np.unique(values, return_inverse=True, return_counts=True) for
 * non-negative integers: a least-significant-digit radix sort (a byte a pass, as many
 * passes as the largest value needs) of the values' positions.
 *
 * score(table, term, count, starts, sublinear, norm) is one vectoriser's share of the
 * raw scores, as feature_block.FeatureBlock.score_distinct defines it: for each segment of
 * distinct terms (one text's), the tf-idf weighted sum of each category's row of
 * ``table``, divided by the text's norm (arith.h has the arithmetic and the table's
 * layout). Sums run in term order.
 *
 * score_texts(table, lengths, ids, sublinear, binary, norm) is the same for whole texts
 * given as runs of n-gram ids (repeats included, ``lengths[i]`` of them for text i):
 * each text's ids are tallied here and summed in ascending order exactly as score()
 * sums them, so a text scores the same to the last bit either way. The n-gram tables
 * of moderation._ngrams tally texts the same way as they find the n-grams.
 */
#include "arith.h"

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

/* Sort items[0..n) stably, ascending by key (keys[item], every key at most ``largest``):
 * least-significant byte first, a byte a pass. ``spare`` has room for n items. */
static void radix_sort(int64_t *items, int64_t *spare, Py_ssize_t n, uint64_t largest,
                       const int64_t *keys) {
#define KEY(item) ((uint64_t)keys[item])
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

static PyObject *score(PyObject *module, PyObject *args) {
    PyObject *table_obj, *term_obj, *count_obj, *starts_obj;
    int sublinear, binary;
    const char *norm;
    if (!PyArg_ParseTuple(args, "OOOOpps", &table_obj, &term_obj, &count_obj, &starts_obj,
                          &sublinear, &binary, &norm))
        return NULL;
    Py_buffer table;
    Arith arith;
    if (open_arith(table_obj, sublinear, binary, norm, &table, &arith) < 0) return NULL;
    PyObject *result = NULL;
    Py_ssize_t terms = 0, counted = 0, segments = 0;
    int64_t *term = NULL, *count = NULL, *starts = NULL;
    double *out = NULL, *sum = NULL;
    Py_ssize_t width = arith.width, k = arith.k, rows = k + 1;
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
    Py_buffer table;
    Arith arith;
    if (open_arith(table_obj, sublinear, binary, norm, &table, &arith) < 0) return NULL;
    PyObject *result = NULL;
    Py_ssize_t texts = 0, total = 0;
    int64_t *lengths = NULL, *ids = NULL;
    double *out = NULL, *sum = NULL;
    Tally tally = {0};
    Py_ssize_t width = arith.width, k = arith.k;
    if (!(lengths = read_integers(lengths_obj, &texts)) || !(ids = read_integers(ids_obj, &total)))
        goto done;
    Py_ssize_t expected = 0;
    for (Py_ssize_t i = 0; i < texts; i++) {
        if (lengths[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "lengths must be non-negative");
            goto done;
        }
        expected += lengths[i];
    }
    if (expected != total) {
        PyErr_SetString(PyExc_ValueError, "the lengths do not add up to the number of ids");
        goto done;
    }
    for (Py_ssize_t t = 0; t < total; t++) {
        if (ids[t] < 0 || ids[t] >= width) {
            PyErr_SetString(PyExc_IndexError, "a term is outside the table");
            goto done;
        }
    }
    out = PyMem_Malloc((texts * k + 1) * sizeof(double));
    sum = PyMem_Malloc((k + 1) * sizeof(double));
    if (!out || !sum || tally_open(&tally, width) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    /* Plain arithmetic on buffers held here: another thread runs Python meanwhile. */
    Py_BEGIN_ALLOW_THREADS
    const int64_t *id = ids;
    for (Py_ssize_t i = 0; i < texts; id += lengths[i], i++) {
        for (Py_ssize_t t = 0; t < lengths[i]; t++) tally_add(&tally, &arith, id[t]);
        tally_score(&tally, &arith, sum, out + i * k);
    }
    Py_END_ALLOW_THREADS
    result = PyBytes_FromStringAndSize((const char *)out, texts * k * (Py_ssize_t)sizeof(double));
done:
    PyBuffer_Release(&table);
    tally_close(&tally);
    PyMem_Free(lengths);
    PyMem_Free(ids);
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
    return PyModule_Create(&module);
}
