/* moderation._ngrams's batch scoring functions (batch.c), for the module's method table. */
#ifndef MODERATION_BATCH_H
#define MODERATION_BATCH_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *batch_score_texts(PyObject *module, PyObject *args);
PyObject *batch_normalise_and_score(PyObject *module, PyObject *args);

#endif
