/* The compiled scorer's arithmetic on a few hundred terms, without numpy's per-call cost.
 *
 * distinct(values) is np.unique(values, return_inverse=True, return_counts=True) for
 * non-negative integers: a least-significant-digit radix sort (a byte a pass, as many
 * passes as the largest value needs) of the values' positions.
 *
 * score(table, term, count, starts, sublinear, norm) is one vectoriser's share of the
 * raw scores, as fastpath._Block.score_distinct defines it: for each segment of
 * distinct terms (one text's), the tf-idf weighted sum of each category's row of
 * ``table`` (k + 1 rows of V float64: idf * coef per category, then idf), divided by
 * the text's norm. Sums run in term order.
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
    for (int shift = 0; shift < 64 && (largest >> shift); shift += 8) {
        Py_ssize_t bucket[257] = {0};
        for (Py_ssize_t i = 0; i < n; i++) bucket[((uint64_t)values[order[i]] >> shift & 255) + 1]++;
        for (int b = 0; b < 256; b++) bucket[b + 1] += bucket[b];
        for (Py_ssize_t i = 0; i < n; i++)
            spare[bucket[(uint64_t)values[order[i]] >> shift & 255]++] = order[i];
        int64_t *swap = order;
        order = spare;
        spare = swap;
    }
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
    int l2 = !strcmp(norm, "l2"), l1 = !strcmp(norm, "l1");
    if (!l2 && !l1 && strcmp(norm, "none")) {
        PyErr_SetString(PyExc_ValueError, "norm must be 'l1', 'l2' or 'none'");
        return NULL;
    }
    Py_buffer table;
    if (PyObject_GetBuffer(table_obj, &table, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0)
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t terms = 0, counted = 0, segments = 0;
    int64_t *term = NULL, *count = NULL, *starts = NULL;
    double *out = NULL, *sum = NULL;
    if (table.ndim != 2 || table.itemsize != 8 || strcmp(table.format, "d") ||
        table.shape[0] < 2) {
        PyErr_SetString(PyExc_TypeError, "table must be a 2-d float64 array of k + 1 rows");
        goto done;
    }
    Py_ssize_t rows = table.shape[0], width = table.shape[1], k = rows - 1;
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
    const double *weights = table.buf;
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
            double tf = binary ? 1.0 : (double)count[t];
            if (sublinear) tf = log(tf) + 1.0;
            for (Py_ssize_t j = 0; j < k; j++) sum[j] += weights[j * width + term[t]] * tf;
            double entry = weights[k * width + term[t]] * tf;
            sum[k] += l2 ? entry * entry : l1 ? fabs(entry) : 0.0;
        }
        double scale = l2 ? sqrt(sum[k]) : l1 ? sum[k] : 1.0;
        for (Py_ssize_t j = 0; j < k; j++) out[s * k + j] = sum[j] / scale;
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

static PyMethodDef methods[] = {
    {"distinct", distinct, METH_O,
     "distinct(values) -> (distinct, where, counts): int64 bytes, as np.unique with "
     "return_inverse and return_counts, for non-negative int32 or int64 values."},
    {"score", score, METH_VARARGS,
     "score(table, term, count, starts, sublinear, binary, norm) -> bytes: float64 "
     "(segments, k) raw scores of each segment of distinct terms."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scoring",
    "Counting distinct terms and scoring them, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__scoring(void) { return PyModule_Create(&module); }
