/* The C entry of moderation._normalize that moderation._ngrams calls (through the
 * capsule moderation._normalize._C_API): a text normalised without the GIL, so that a
 * batch can be normalised and scored in one stretch on a helper thread. */
#ifndef MODERATION_NORMALIZE_API_H
#define MODERATION_NORMALIZE_API_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NORMALIZE_API_CAPSULE "moderation._normalize._C_API"

typedef struct NormalizeScratch NormalizeScratch; /* buffers, reused text after text */

typedef struct {
    /* Scratch for ascii() (raw allocator, no GIL needed); NULL when out of memory. */
    NormalizeScratch *(*scratch_new)(void);
    void (*scratch_free)(NormalizeScratch *scratch);
    /* Whether normalize() takes ``text`` (a ready str): its lower-casing needs no
     * Python. Every ASCII text does. No GIL needed. */
    int (*lowers_simply)(PyObject *text);
    /* ``text`` normalised by ``normalizer`` (an initialised Normalizer): its characters
     * in *out, valid until the scratch's next use, and their number in *n; ``text`` is
     * a ready str that lowers_simply() and, unless ASCII, has been through the NFKC
     * pass. -1 when out of memory (no error set). No GIL needed. */
    int (*normalize)(PyObject *normalizer, PyObject *text, NormalizeScratch *scratch,
                     const Py_UCS4 **out, Py_ssize_t *n);
    /* Whether ``obj`` is a Normalizer whose __init__ has run. */
    int (*ready)(PyObject *obj);
} NormalizeAPI;

#endif
