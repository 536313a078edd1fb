/* moderation._ngrams: vocabulary ids of char_wb and word n-grams through compiled hash
 * tables, the look-ups moderation/char_ngrams.py and word_ngrams.py otherwise do
 * through dicts and numpy searches. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "tables.h"

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ngrams",
    "Vocabulary ids of char_wb and word n-grams through compiled hash tables.", -1, NULL,
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
