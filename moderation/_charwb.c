/* The vocabulary ids of a word's char_wb n-grams, found in a compiled hash table.
 *
 * moderation/char_ngrams.py encodes every n-gram of the vocabulary exactly as an
 * integer: each character becomes its index in the vocabulary's alphabet (1..A,
 * 0 for a character in no term) and the n-gram the number those indices spell in
 * base 2**bits. A word seen for the first time costs some twenty slices and dict
 * look-ups in Python, most of them cache misses in a dict of 200,000 strings; here
 * the same n-grams are spelled from the word's characters and looked up in an
 * open-addressing table of those integers, about a microsecond a word.
 *
 * The order of the ids is scikit-learn's char_wb analyser's: n from low to high,
 * windows left to right, and a padded word no longer than n emitted once as the
 * only n-gram from n up. Unknown n-grams are left out. The Python path it replaces
 * stays as the reference the tests compare with.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    uint32_t *index;      /* code point -> alphabet index (0: in no term) */
    Py_ssize_t index_len;
    int bits, low, high;
    uint64_t *keys;       /* 0 marks an empty slot: every n-gram's code is > 0 */
    int32_t *values;
    uint64_t mask;
    int shift;
} TableObject;

static inline uint64_t slot_of(const TableObject *t, uint64_t key) {
    return (key * 0x9E3779B97F4A7C15ULL) >> t->shift;
}

static int32_t lookup(const TableObject *t, uint64_t key) {
    uint64_t at = slot_of(t, key);
    for (;;) {
        uint64_t found = t->keys[at];
        if (found == key) return t->values[at];
        if (found == 0) return -1;
        at = (at + 1) & t->mask;
    }
}

static void Table_dealloc(TableObject *self) {
    PyMem_Free(self->index);
    PyMem_Free(self->keys);
    PyMem_Free(self->values);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Table(index, bits, low, high, codes, ids): ``index`` uint32 bytes, ``codes`` int64
 * bytes (distinct, each > 0), ``ids`` int64 bytes of the same length. */
static int Table_init(TableObject *self, PyObject *args, PyObject *kwds) {
    Py_buffer index, codes, ids;
    int bits, low, high;
    if (!PyArg_ParseTuple(args, "y*iiiy*y*", &index, &bits, &low, &high, &codes, &ids))
        return -1;
    int ok = -1;
    Py_ssize_t n = codes.len / 8;
    if (index.len % 4 || codes.len % 8 || ids.len != codes.len) {
        PyErr_SetString(PyExc_ValueError, "index must be uint32, codes and ids int64 of one length");
        goto done;
    }
    if (bits < 1 || low < 1 || high < low || (long)bits * high > 63) {
        PyErr_SetString(PyExc_ValueError, "n-grams of this range do not fit 63 bits");
        goto done;
    }
    uint64_t capacity = 16;
    int log2 = 4;
    while (capacity < (uint64_t)n * 2) {
        capacity <<= 1;
        log2++;
    }
    PyMem_Free(self->index);
    PyMem_Free(self->keys);
    PyMem_Free(self->values);
    self->index = PyMem_Malloc(index.len ? index.len : 1);
    self->keys = PyMem_Calloc(capacity, sizeof(uint64_t));
    self->values = PyMem_Malloc(capacity * sizeof(int32_t));
    if (!self->index || !self->keys || !self->values) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->index, index.buf, index.len);
    self->index_len = index.len / 4;
    self->bits = bits;
    self->low = low;
    self->high = high;
    self->mask = capacity - 1;
    self->shift = 64 - log2;
    const int64_t *code = codes.buf, *id = ids.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (code[i] <= 0 || id[i] < 0 || id[i] > INT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "codes must be > 0 and ids in int32");
            goto done;
        }
        uint64_t at = slot_of(self, (uint64_t)code[i]);
        while (self->keys[at] != 0 && self->keys[at] != (uint64_t)code[i])
            at = (at + 1) & self->mask;
        self->keys[at] = (uint64_t)code[i];
        self->values[at] = (int32_t)id[i];
    }
    ok = 0;
done:
    PyBuffer_Release(&index);
    PyBuffer_Release(&codes);
    PyBuffer_Release(&ids);
    return ok;
}

/* The code of chars[0..n), or 0 when one of them is in no term. */
static inline uint64_t spell(const uint32_t *chars, int n, int bits) {
    uint64_t code = 0;
    for (int j = 0; j < n; j++) {
        if (!chars[j]) return 0;
        code = (code << bits) | chars[j];
    }
    return code;
}

static PyObject *word_ids(TableObject *self, PyObject *word) {
    if (!self->keys) {
        PyErr_SetString(PyExc_RuntimeError, "Table.__init__ was not called");
        return NULL;
    }
    if (!PyUnicode_Check(word)) {
        PyErr_SetString(PyExc_TypeError, "a word must be a str");
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(word);
    Py_ssize_t size = length + 2; /* padded with a space each side */
    int kind = PyUnicode_KIND(word);
    const void *data = PyUnicode_DATA(word);
    uint32_t small_chars[128];
    int32_t small_out[4 * 128];
    Py_ssize_t most = (Py_ssize_t)(self->high - self->low + 1) * size;
    uint32_t *chars = size <= 128 ? small_chars : PyMem_Malloc(size * sizeof(uint32_t));
    int32_t *out = most <= 4 * 128 ? small_out : PyMem_Malloc(most * sizeof(int32_t));
    if (!chars || !out) {
        if (chars != small_chars) PyMem_Free(chars);
        if (out != small_out) PyMem_Free(out);
        return PyErr_NoMemory();
    }
    uint32_t space = ' ' < self->index_len ? self->index[' '] : 0;
    chars[0] = chars[size - 1] = space;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        chars[i + 1] = c < (Py_UCS4)self->index_len ? self->index[c] : 0;
    }
    Py_ssize_t count = 0;
    for (int n = self->low; n <= self->high; n++) {
        if (size <= n) { /* the analyser's short-word rule */
            uint64_t code = spell(chars, (int)size, self->bits);
            int32_t id = code ? lookup(self, code) : -1;
            if (id >= 0) out[count++] = id;
            break;
        }
        for (Py_ssize_t i = 0; i + n <= size; i++) {
            uint64_t code = spell(chars + i, n, self->bits);
            int32_t id = code ? lookup(self, code) : -1;
            if (id >= 0) out[count++] = id;
        }
    }
    PyObject *result = PyBytes_FromStringAndSize((const char *)out, count * sizeof(int32_t));
    if (chars != small_chars) PyMem_Free(chars);
    if (out != small_out) PyMem_Free(out);
    return result;
}

static PyObject *Table_ids(TableObject *self, PyObject *word) {
    return word_ids(self, word);
}

static PyObject *Table_ids_many(TableObject *self, PyObject *words) {
    PyObject *seq = PySequence_Fast(words, "words must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *result = PyList_New(n);
    if (!result) {
        Py_DECREF(seq);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ids = word_ids(self, PySequence_Fast_GET_ITEM(seq, i));
        if (!ids) {
            Py_DECREF(result);
            Py_DECREF(seq);
            return NULL;
        }
        PyList_SET_ITEM(result, i, ids);
    }
    Py_DECREF(seq);
    return result;
}

static PyMethodDef Table_methods[] = {
    {"ids", (PyCFunction)Table_ids, METH_O,
     "ids(word) -> bytes: int32 vocabulary ids of the word's char_wb n-grams."},
    {"ids_many", (PyCFunction)Table_ids_many, METH_O,
     "ids_many(words) -> list of bytes: ids(word) for each word."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "moderation._charwb.Table",
    .tp_doc = "Table(index, bits, low, high, codes, ids): char_wb n-gram codes to ids.",
    .tp_basicsize = sizeof(TableObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Table_init,
    .tp_dealloc = (destructor)Table_dealloc,
    .tp_methods = Table_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_charwb",
    "char_wb n-gram ids of words through a compiled hash table.", -1, NULL,
};

PyMODINIT_FUNC PyInit__charwb(void) {
    if (PyType_Ready(&TableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&TableType);
    if (PyModule_AddObject(m, "Table", (PyObject *)&TableType) < 0) {
        Py_DECREF(&TableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
