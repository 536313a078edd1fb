/* Batches of texts scored through the n-gram tables (moderation._ngrams's functions):
 *
 * score_texts(texts, parts) sums, for each text, the raw scores of each part: a part is
 * (table, weights, sublinear, binary, norm), the table a CharTable or WordTable finding
 * the n-grams, the weights and options its vectoriser's (arith.h). The parts are added
 * in order to zeros, as fastpath.CompiledScorer adds its blocks' scores.
 *
 * normalise_and_score(normalizer, before, texts, parts) is (normalised texts,
 * score_texts(normalised texts, parts)), the texts normalised through
 * moderation._normalize's C entry in the same stretch without the GIL: a helper thread
 * scoring a batch then needs the GIL only to start and to finish. With the GIL, first,
 * each non-ASCII text goes through ``before`` (the NFKC pass), and the rare one whose
 * lower-casing needs Python (U+0130, U+03A3) through normalizer.normalize().
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "batch.h"
#include "normalize_api.h"
#include "tables.h"

/* A text as the talliers read it. */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t length;
} TextRef;

typedef struct {
    const Tallier *tallier;
    PyObject *table; /* borrowed from the parts argument, which the caller holds */
    Py_buffer weights;
    Arith arith;
    Tally tally;
    Scratch scratch;
} Part;

typedef struct {
    Part *parts;
    Py_ssize_t count, k;
} Parts;

static void parts_close(Parts *p) {
    for (Py_ssize_t i = 0; i < p->count; i++) {
        PyBuffer_Release(&p->parts[i].weights);
        tally_close(&p->parts[i].tally);
        scratch_close(&p->parts[i].scratch);
    }
    PyMem_Free(p->parts);
    p->parts = NULL;
    p->count = 0;
}

/* The parts argument, each table checked against its weights; -1 with an error set. */
static int parts_open(PyObject *obj, Parts *p) {
    p->parts = NULL;
    p->count = 0;
    PyObject *seq = PySequence_Fast(obj, "parts must be a sequence of (table, weights, "
                                         "sublinear, binary, norm)");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    p->parts = PyMem_Calloc(n + 1, sizeof(Part));
    if (!p->parts) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Part *part = &p->parts[i];
        PyObject *weights;
        int sublinear, binary;
        const char *norm;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "OOpps;a part is (table, "
                              "weights, sublinear, binary, norm)", &part->table, &weights,
                              &sublinear, &binary, &norm))
            goto fail;
        part->tallier = PyObject_TypeCheck(part->table, &CharTableType)   ? &char_tallier
                        : PyObject_TypeCheck(part->table, &WordTableType) ? &word_tallier
                                                                           : NULL;
        if (!part->tallier) {
            PyErr_SetString(PyExc_TypeError, "a part's table must be a CharTable or WordTable");
            goto fail;
        }
        if (open_arith(weights, sublinear, binary, norm, &part->weights, &part->arith) < 0)
            goto fail;
        p->count++; /* its buffer is held: released by parts_close() */
        if (part->tallier->usable(part->table, part->arith.width) < 0) goto fail;
        if (i && part->arith.k != p->parts[0].arith.k) {
            PyErr_SetString(PyExc_ValueError, "the parts' weights differ in categories");
            goto fail;
        }
        if (tally_open(&part->tally, part->arith.width) < 0) {
            PyErr_NoMemory();
            goto fail;
        }
    }
    p->k = n ? p->parts[0].arith.k : 0;
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    parts_close(p);
    return -1;
}

static void parts_reading(Parts *p, int delta) {
    for (Py_ssize_t i = 0; i < p->count; i++)
        p->parts[i].tallier->reading(p->parts[i].table, delta);
}

/* Each text's summed raw scores to out (count x k); -1 when out of memory. No GIL. */
static int score_refs(Parts *p, const TextRef *texts, Py_ssize_t count, double *out) {
    double *sum = PyMem_RawMalloc((p->k + 1) * sizeof(double));
    double *share = PyMem_RawMalloc((p->k + 1) * sizeof(double));
    int failed = !sum || !share;
    for (Py_ssize_t t = 0; t < count && !failed; t++) {
        double *row = out + t * p->k;
        for (Py_ssize_t j = 0; j < p->k; j++) row[j] = 0.0;
        for (Py_ssize_t i = 0; i < p->count && !failed; i++) {
            Part *part = &p->parts[i];
            failed = part->tallier->tally(part->table, texts[t].kind, texts[t].data,
                                          texts[t].length, &part->scratch, &part->tally,
                                          &part->arith) < 0;
            tally_score(&part->tally, &part->arith, sum, share);
            for (Py_ssize_t j = 0; j < p->k; j++) row[j] += share[j];
        }
    }
    PyMem_RawFree(sum);
    PyMem_RawFree(share);
    return failed ? -1 : 0;
}

static void ref_of(PyObject *text, TextRef *ref) {
    ref->kind = PyUnicode_KIND(text);
    ref->data = PyUnicode_DATA(text);
    ref->length = PyUnicode_GET_LENGTH(text);
}

PyObject *batch_score_texts(PyObject *module, PyObject *args) {
    PyObject *texts, *parts_obj;
    if (!PyArg_ParseTuple(args, "OO", &texts, &parts_obj)) return NULL;
    PyObject *tuple = str_tuple(texts), *result = NULL;
    if (!tuple) return NULL;
    Parts parts;
    Py_ssize_t count = PyTuple_GET_SIZE(tuple);
    TextRef *refs = NULL;
    double *out = NULL;
    if (parts_open(parts_obj, &parts) < 0) goto done;
    refs = PyMem_Malloc((count + 1) * sizeof(TextRef));
    out = PyMem_Malloc((count * parts.k + 1) * sizeof(double));
    if (!refs || !out) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < count; t++) ref_of(PyTuple_GET_ITEM(tuple, t), &refs[t]);
    int failed;
    parts_reading(&parts, 1);
    Py_BEGIN_ALLOW_THREADS
    failed = score_refs(&parts, refs, count, out);
    Py_END_ALLOW_THREADS
    parts_reading(&parts, -1);
    result = failed ? PyErr_NoMemory()
                    : PyBytes_FromStringAndSize((const char *)out,
                                                count * parts.k * (Py_ssize_t)sizeof(double));
done:
    parts_close(&parts);
    PyMem_Free(refs);
    PyMem_Free(out);
    Py_DECREF(tuple);
    return result;
}

/* Normalised forms, one after another: ASCII ones a byte a character (their scoring then
 * reads a 1-byte str's layout), the others four. */
typedef struct {
    void *chars;
    Py_ssize_t used, room, size;
} Forms;

static int forms_add(Forms *f, const Py_UCS4 *chars, Py_ssize_t n) {
    if (f->used + n > f->room) {
        Py_ssize_t room = f->room ? f->room : 4096;
        while (room < f->used + n) room *= 2;
        void *grown = PyMem_RawRealloc(f->chars, room * f->size);
        if (!grown) return -1;
        f->chars = grown;
        f->room = room;
    }
    if (f->size == 1)
        for (Py_ssize_t j = 0; j < n; j++) ((char *)f->chars)[f->used + j] = (char)chars[j];
    else
        memcpy((Py_UCS4 *)f->chars + f->used, chars, n * sizeof(Py_UCS4));
    f->used += n;
    return 0;
}

/* Where each text's normalised form is found. */
enum { IN_ASCII_FORMS, IN_WIDE_FORMS, IN_PYTHON };

PyObject *batch_normalise_and_score(PyObject *module, PyObject *args) {
    PyObject *normalizer, *before, *texts, *parts_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &normalizer, &before, &texts, &parts_obj)) return NULL;
    NormalizeAPI *api = PyCapsule_Import(NORMALIZE_API_CAPSULE, 0);
    if (!api) return NULL;
    if (!api->ready(normalizer)) {
        PyErr_SetString(PyExc_TypeError, "normalizer must be an initialised Normalizer");
        return NULL;
    }
    PyObject *tuple = str_tuple(texts), *ready = NULL, *result = NULL, *normalised = NULL;
    if (!tuple) return NULL;
    Parts parts = {NULL, 0, 0};
    Py_ssize_t count = PyTuple_GET_SIZE(tuple);
    TextRef *refs = NULL;
    Py_ssize_t *ends = NULL; /* where a text's form ends in its Forms */
    char *where = NULL;
    double *out = NULL;
    Forms narrow = {NULL, 0, 0, 1}, wide = {NULL, 0, 0, sizeof(Py_UCS4)};
    NormalizeScratch *scratch = NULL;
    if (parts_open(parts_obj, &parts) < 0) goto done;
    refs = PyMem_Malloc((count + 1) * sizeof(TextRef));
    ends = PyMem_Malloc((count + 1) * sizeof(Py_ssize_t));
    where = PyMem_Malloc(count + 1);
    out = PyMem_Malloc((count * parts.k + 1) * sizeof(double));
    scratch = api->scratch_new();
    if (!refs || !ends || !where || !out || !scratch || !(ready = PyList_New(count))) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    /* With the GIL: each non-ASCII text through ``before`` (the NFKC pass), and the rare
     * one whose lower-casing needs Python normalised there and then. */
    for (Py_ssize_t t = 0; t < count; t++) {
        PyObject *text = PyTuple_GET_ITEM(tuple, t), *one;
        if (PyUnicode_IS_ASCII(text)) {
            one = Py_NewRef(text);
            where[t] = IN_ASCII_FORMS;
        } else {
            one = before == Py_None ? Py_NewRef(text) : PyObject_CallOneArg(before, text);
            if (one && (!PyUnicode_Check(one) || PyUnicode_READY(one) < 0)) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "before must give a str");
                Py_CLEAR(one);
            }
            if (!one) goto done;
            if (api->lowers_simply(one)) {
                where[t] = IN_WIDE_FORMS;
            } else {
                where[t] = IN_PYTHON;
                Py_SETREF(one, PyObject_CallMethod(normalizer, "normalize", "O", one));
                if (!one) goto done;
                if (!PyUnicode_Check(one) || PyUnicode_READY(one) < 0) {
                    Py_DECREF(one);
                    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "normalize gave no str");
                    goto done;
                }
            }
        }
        PyList_SET_ITEM(ready, t, one);
    }
    int failed = 0;
    parts_reading(&parts, 1);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = 0; t < count && !failed; t++) {
        PyObject *text = PyList_GET_ITEM(ready, t);
        if (where[t] == IN_PYTHON) {
            ref_of(text, &refs[t]);
            continue;
        }
        Forms *forms = where[t] == IN_ASCII_FORMS ? &narrow : &wide;
        const Py_UCS4 *chars;
        Py_ssize_t n;
        failed = api->normalize(normalizer, text, scratch, &chars, &n) < 0 ||
                 forms_add(forms, chars, n) < 0;
        ends[t] = forms->used;
    }
    /* The forms are in place (their buffers grew as they came): point at them. */
    Py_ssize_t start[2] = {0, 0};
    for (Py_ssize_t t = 0; t < count && !failed; t++) {
        if (where[t] == IN_PYTHON) continue;
        int w = where[t] == IN_WIDE_FORMS;
        refs[t].kind = w ? PyUnicode_4BYTE_KIND : PyUnicode_1BYTE_KIND;
        refs[t].data = (char *)(w ? wide.chars : narrow.chars) + start[w] * (w ? 4 : 1);
        refs[t].length = ends[t] - start[w];
        start[w] = ends[t];
    }
    if (!failed) failed = score_refs(&parts, refs, count, out);
    Py_END_ALLOW_THREADS
    parts_reading(&parts, -1);
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    if (!(normalised = PyList_New(count))) goto done;
    for (Py_ssize_t t = 0; t < count; t++) {
        PyObject *one;
        if (where[t] == IN_PYTHON) {
            one = Py_NewRef(PyList_GET_ITEM(ready, t));
        } else if (where[t] == IN_WIDE_FORMS) {
            one = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, refs[t].data, refs[t].length);
        } else if ((one = PyUnicode_New(refs[t].length, 127))) {
            memcpy(PyUnicode_1BYTE_DATA(one), refs[t].data, refs[t].length);
        }
        if (!one) goto done;
        PyList_SET_ITEM(normalised, t, one);
    }
    PyObject *scores = PyBytes_FromStringAndSize((const char *)out,
                                                 count * parts.k * (Py_ssize_t)sizeof(double));
    if (scores) result = PyTuple_Pack(2, normalised, scores);
    Py_XDECREF(scores);
done:
    parts_close(&parts);
    if (scratch) api->scratch_free(scratch);
    PyMem_RawFree(narrow.chars);
    PyMem_RawFree(wide.chars);
    PyMem_Free(refs);
    PyMem_Free(ends);
    PyMem_Free(where);
    PyMem_Free(out);
    Py_XDECREF(ready);
    Py_XDECREF(normalised);
    Py_DECREF(tuple);
    return result;
}
