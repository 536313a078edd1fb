/* moderation._ngrams: vocabulary ids of char_wb and word n-grams through compiled hash
 * tables, the look-ups moderation/char_ngrams.py and word_ngrams.py otherwise do
 * through dicts and numpy searches (char_table.c, word_table.c); and a batch's raw
 * scores from them (batch.c). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "batch.h"
#include "tables.h"

static PyMethodDef methods[] = {
    {"score_texts", batch_score_texts, METH_VARARGS,
     "score_texts(texts, parts) -> bytes: float64 (texts, k), each text's raw scores summed "
     "over the parts, each (table, weights, sublinear, binary, norm)."},
    {"normalise_and_score", batch_normalise_and_score, METH_VARARGS,
     "normalise_and_score(normalizer, before, texts, parts) -> (list of str, bytes): the "
     "texts normalised and score_texts() of them."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ngrams",
    "Vocabulary ids of char_wb and word n-grams through compiled hash tables, and the raw "
    "scores of batches of texts from them.", -1, methods,
};

static int add_type(PyObject *m, PyTypeObject *type, const char *name) {
    if (PyType_Ready(type) < 0) return -1;
    Py_INCREF(type);
    if (PyModule_AddObject(m, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__ngrams(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (add_type(m, &CharTableType, "CharTable") || add_type(m, &WordTableType, "WordTable")) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
