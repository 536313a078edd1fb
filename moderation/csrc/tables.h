/* The n-gram table types of moderation._ngrams (char_table.c, word_table.c), and what
 * each does for a batch: find a text's n-grams and tally their ids (arith.h), with the
 * GIL released. batch.c scores batches through these. */
#ifndef MODERATION_TABLES_H
#define MODERATION_TABLES_H

#include "arith.h"

extern PyTypeObject CharTableType;
extern PyTypeObject WordTableType;

/* Scratch room a table reuses text after text (raw allocator: no GIL needed). */
typedef struct {
    void *room[2];
    Py_ssize_t size; /* the longest text it has room for */
} Scratch;

static inline void scratch_close(Scratch *s) {
    PyMem_RawFree(s->room[0]);
    PyMem_RawFree(s->room[1]);
    s->room[0] = s->room[1] = NULL;
    s->size = -1;
}

/* A table's part in scoring a batch. */
typedef struct {
    PyTypeObject *type;
    /* 0 when the table is filled and each id it finds is a row of ``width`` (with the
     * GIL; -1 with an error set otherwise). */
    int (*usable)(PyObject *table, Py_ssize_t width);
    /* Count a reader in (+1) or out (-1): __init__ refuses while one reads (GIL held). */
    void (*reading)(PyObject *table, int delta);
    /* The n-grams of the text data[0:length) (a str's ``kind`` and data) into ``tally``;
     * -1 when out of memory (no error set). No GIL needed. */
    int (*tally)(PyObject *table, int kind, const void *data, Py_ssize_t length,
                 Scratch *scratch, Tally *tally, const Arith *arith);
} Tallier;

extern const Tallier char_tallier, word_tallier;

/* The texts of a sequence as a tuple of str, each ready to be read without the GIL (the
 * tuple holds them, and nothing can change it); NULL on error (set). */
static inline PyObject *str_tuple(PyObject *texts) {
    PyObject *tuple = PySequence_Tuple(texts);
    if (!tuple) return NULL;
    for (Py_ssize_t t = 0; t < PyTuple_GET_SIZE(tuple); t++) {
        PyObject *text = PyTuple_GET_ITEM(tuple, t);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "a text must be a str");
            Py_DECREF(tuple);
            return NULL;
        }
        if (PyUnicode_READY(text) < 0) {
            Py_DECREF(tuple);
            return NULL;
        }
    }
    return tuple;
}

/* Tallier.usable for a table of type ``name``: ``filled`` when __init__ has run, and
 * ``largest`` its largest id (-1 for none). */
static inline int table_usable(const char *name, int filled, int64_t largest, Py_ssize_t width) {
    if (!filled) {
        PyErr_Format(PyExc_RuntimeError, "%s.__init__ was not called", name);
        return -1;
    }
    if (largest >= width) {
        PyErr_SetString(PyExc_IndexError, "a term is outside the table");
        return -1;
    }
    return 0;
}

#endif
