/* CharTable: the vocabulary ids of words' char_wb n-grams.
 *
 * A char_wb n-gram is encoded exactly as an integer (moderation/char_ngrams.py): each
 * character becomes its index in the vocabulary's alphabet (1..A, 0 for a character in
 * no term) and the n-gram the number those indices spell in base 2**bits. ids(word)
 * gives a whitespace-free word's n-gram ids in scikit-learn's analyser order: n from
 * low to high, windows left to right, and a padded word no longer than n emitted once
 * as the only n-gram from n up; ids_texts(texts) does so for every whitespace word of
 * each text; char_tallier tallies those ids as they are found (tables.h), which is what
 * scoring a batch needs, without writing the ids out at all. The Python paths stay as
 * the fallback and as the tests' reference.
 */
#include "codemap.h"
#include "runs.h"
#include "tables.h"

typedef struct {
    PyObject_HEAD
    uint32_t *index; /* code point -> alphabet index (0: in no term) */
    Py_ssize_t index_len;
    int bits, low, high;
    CodeMap map;
    int64_t largest_id; /* the largest id in the map (-1 when empty) */
    int readers; /* calls looking up with the GIL released: __init__ must wait for none */
} CharTableObject;

static void CharTable_dealloc(CharTableObject *self) {
    PyMem_Free(self->index);
    codemap_free(&self->map);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* CharTable(index, bits, low, high, codes, ids): ``index`` uint32 bytes. */
static int CharTable_init(CharTableObject *self, PyObject *args, PyObject *kwds) {
    Py_buffer index, codes, ids;
    int bits, low, high, ok = -1;
    if (!PyArg_ParseTuple(args, "y*iiiy*y*", &index, &bits, &low, &high, &codes, &ids))
        return -1;
    if (index.len % 4) {
        PyErr_SetString(PyExc_ValueError, "index must be uint32");
        goto done;
    }
    if (self->readers) {
        PyErr_SetString(PyExc_RuntimeError, "CharTable is in use by another thread");
        goto done;
    }
    if (bits < 1 || low < 1 || high < low || (long)bits * high > 63) {
        PyErr_SetString(PyExc_ValueError, "n-grams of this range do not fit 63 bits");
        goto done;
    }
    PyMem_Free(self->index);
    self->index = PyMem_Malloc(index.len ? index.len : 1);
    if (!self->index) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->index, index.buf, index.len);
    self->index_len = index.len / 4;
    self->bits = bits;
    self->low = low;
    self->high = high;
    ok = codemap_fill(&self->map, &codes, &ids);
    self->largest_id = -1;
    for (Py_ssize_t i = 0; !ok && i < ids.len / 8; i++)
        if (((const int64_t *)ids.buf)[i] > self->largest_id)
            self->largest_id = ((const int64_t *)ids.buf)[i];
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

/* Codes waiting for their look-up: each slot is fetched as its code is spelled, and
 * looked up a few dozen codes later, when it has arrived. */
#define AHEAD 32

typedef struct {
    uint64_t code[AHEAD];
    int waiting;
} Pending;

/* Look the waiting codes up, in order, the ids found to out[count..); the new count. */
static inline Py_ssize_t drain(const CodeMap *map, Pending *p, int32_t *out, Py_ssize_t count) {
    for (int w = 0; w < p->waiting; w++) {
        int32_t id = codemap_get(map, p->code[w]);
        if (id >= 0) out[count++] = id;
    }
    p->waiting = 0;
    return count;
}

static inline Py_ssize_t wait_for(const CodeMap *map, Pending *p, uint64_t code, int32_t *out,
                                  Py_ssize_t count) {
    if (p->waiting == AHEAD) count = drain(map, p, out, count);
    codemap_prefetch(map, code);
    p->code[p->waiting++] = code;
    return count;
}

/* The ids of the char_wb n-grams of text[start:end), a whitespace-free word, written to
 * ``out`` (room for (high - low + 1) * (end - start + 2) ids); ``chars`` is scratch room
 * for end - start + 2 indices. Returns how many were written. */
static inline __attribute__((always_inline)) Py_ssize_t
word_ngrams(const CharTableObject *self, int kind, const void *data, Py_ssize_t start,
            Py_ssize_t end, uint32_t *chars, int32_t *out) {
    Py_ssize_t size = end - start + 2; /* padded with a space each side */
    uint32_t space = ' ' < self->index_len ? self->index[' '] : 0;
    chars[0] = chars[size - 1] = space;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        chars[i - start + 1] = c < (Py_UCS4)self->index_len ? self->index[c] : 0;
    }
    Py_ssize_t count = 0;
    Pending pending;
    pending.waiting = 0;
    for (int n = self->low; n <= self->high; n++) {
        if (size <= n) { /* the analyser's short-word rule */
            uint64_t code = spell(chars, (int)size, self->bits);
            if (code) count = wait_for(&self->map, &pending, code, out, count);
            break;
        }
        /* Window after window, the code rolls on by one character: shifted, the
         * character that left masked off, the new one added. ``clean`` counts the
         * characters since the last one in no term: a window is spelled when it has
         * none (n of them). */
        uint64_t mask = ((uint64_t)1 << (n * self->bits)) - 1, code = 0;
        Py_ssize_t clean = 0;
        for (Py_ssize_t i = 0; i < size; i++) {
            code = ((code << self->bits) | chars[i]) & mask;
            clean = chars[i] ? clean + 1 : 0;
            if (i + 1 < n || clean < n) continue;
            count = wait_for(&self->map, &pending, code, out, count);
        }
    }
    return drain(&self->map, &pending, out, count);
}

static int check_str(CharTableObject *self, PyObject *text, const char *what) {
    if (!self->map.slots) {
        PyErr_SetString(PyExc_RuntimeError, "CharTable.__init__ was not called");
        return -1;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "a %s must be a str", what);
        return -1;
    }
    return 0;
}

static PyObject *char_ids(CharTableObject *self, PyObject *word) {
    if (check_str(self, word, "word")) return NULL;
    Py_ssize_t length = PyUnicode_GET_LENGTH(word);
    uint32_t small_chars[128];
    int32_t small_out[4 * 128];
    Py_ssize_t most = (Py_ssize_t)(self->high - self->low + 1) * (length + 2);
    uint32_t *chars = length + 2 <= 128 ? small_chars
                                        : PyMem_Malloc((length + 2) * sizeof(uint32_t));
    int32_t *out = most <= 4 * 128 ? small_out : PyMem_Malloc(most * sizeof(int32_t));
    if (!chars || !out) {
        if (chars != small_chars) PyMem_Free(chars);
        if (out != small_out) PyMem_Free(out);
        return PyErr_NoMemory();
    }
    Py_ssize_t count = word_ngrams(self, PyUnicode_KIND(word), PyUnicode_DATA(word), 0, length,
                                   chars, out);
    PyObject *result = PyBytes_FromStringAndSize((const char *)out, count * sizeof(int32_t));
    if (chars != small_chars) PyMem_Free(chars);
    if (out != small_out) PyMem_Free(out);
    return result;
}

static int char_usable(PyObject *obj, Py_ssize_t width) {
    CharTableObject *self = (CharTableObject *)obj;
    return table_usable("CharTable", self->map.slots != NULL, self->largest_id, width);
}

/* ids_texts(texts) -> (lengths, ids): int64 bytes, how many ids each text has, and
 * int32 bytes, the ids of each text's whitespace words (str.split's), one text after
 * another. The look-ups run with the GIL released: another thread runs Python meanwhile. */
static PyObject *CharTable_ids_texts(CharTableObject *self, PyObject *texts) {
    if (char_usable((PyObject *)self, PY_SSIZE_T_MAX) < 0) return NULL;
    PyObject *tuple = str_tuple(texts);
    if (!tuple) return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(tuple);
    Py_ssize_t per_char = self->high - self->low + 1;
    uint32_t *chars = NULL;
    PyObject *result = NULL;
    Runs runs;
    if (runs_open(&runs, count, sizeof(int32_t))) goto done;
    int failed = 0;
    self->readers++;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = 0; t < count && !failed; t++) {
        PyObject *text = PyTuple_GET_ITEM(tuple, t);
        Py_ssize_t length = PyUnicode_GET_LENGTH(text), written = 0;
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        /* every word of the text fits: at most per_char * (length + 2 * words) ids */
        int32_t *ids = runs_reserve(&runs, per_char * (2 * length + 2));
        PyMem_RawFree(chars);
        chars = PyMem_RawMalloc((length + 2) * sizeof(uint32_t));
        if (!ids || !chars) {
            failed = 1;
            break;
        }
        Py_ssize_t i = 0;
        while (i < length) {
            while (i < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) i++;
            Py_ssize_t j = i;
            while (j < length && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j))) j++;
            if (j > i) written += word_ngrams(self, kind, data, i, j, chars, ids + written);
            i = j;
        }
        runs_add(&runs, written);
    }
    Py_END_ALLOW_THREADS
    self->readers--;
    result = failed ? PyErr_NoMemory() : runs_result(&runs);
done:
    runs_close(&runs);
    PyMem_RawFree(chars);
    Py_DECREF(tuple);
    return result;
}

/* Every n-gram of text data[0:length) (a str of ``kind``) into ``tally``; ``chars`` and
 * ``ids`` have room for the longest word (see word_ngrams()). Every id the table holds
 * is a row of the weights (char_usable() says so first). */
static inline __attribute__((always_inline)) void
tally_text(const CharTableObject *self, int kind, const void *data, Py_ssize_t length,
           uint32_t *chars, int32_t *ids, Tally *tally, const Arith *arith) {
    Py_ssize_t i = 0;
    while (i < length) {
        while (i < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) i++;
        Py_ssize_t j = i;
        while (j < length && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j))) j++;
        Py_ssize_t found = j > i ? word_ngrams(self, kind, data, i, j, chars, ids) : 0;
        for (Py_ssize_t g = 0; g < found; g++) tally_add(tally, arith, ids[g]);
        i = j;
    }
}

static void char_reading(PyObject *obj, int delta) { ((CharTableObject *)obj)->readers += delta; }

static int char_tally(PyObject *obj, int kind, const void *data, Py_ssize_t length,
                      Scratch *scratch, Tally *tally, const Arith *arith) {
    const CharTableObject *self = (const CharTableObject *)obj;
    if (length + 2 > scratch->size) { /* room for its longest word, whatever it is */
        Py_ssize_t room = 2 * (length + 2);
        scratch_close(scratch);
        scratch->room[0] = PyMem_RawMalloc(room * sizeof(uint32_t));
        scratch->room[1] = PyMem_RawMalloc((self->high - self->low + 1) * room * sizeof(int32_t));
        if (!scratch->room[0] || !scratch->room[1]) return -1;
        scratch->size = room;
    }
    /* one copy of the walk per kind of str: a read is then one load, not a switch */
    if (kind == PyUnicode_1BYTE_KIND)
        tally_text(self, PyUnicode_1BYTE_KIND, data, length, scratch->room[0], scratch->room[1],
                   tally, arith);
    else if (kind == PyUnicode_2BYTE_KIND)
        tally_text(self, PyUnicode_2BYTE_KIND, data, length, scratch->room[0], scratch->room[1],
                   tally, arith);
    else
        tally_text(self, PyUnicode_4BYTE_KIND, data, length, scratch->room[0], scratch->room[1],
                   tally, arith);
    return 0;
}

const Tallier char_tallier = {&CharTableType, char_usable, char_reading, char_tally};

static PyObject *CharTable_ids(CharTableObject *self, PyObject *word) {
    return char_ids(self, word);
}

static PyObject *CharTable_ids_many(CharTableObject *self, PyObject *words) {
    PyObject *seq = PySequence_Fast(words, "words must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *result = PyList_New(n);
    if (!result) {
        Py_DECREF(seq);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ids = char_ids(self, PySequence_Fast_GET_ITEM(seq, i));
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

static PyMethodDef CharTable_methods[] = {
    {"ids", (PyCFunction)CharTable_ids, METH_O,
     "ids(word) -> bytes: int32 vocabulary ids of the word's char_wb n-grams."},
    {"ids_many", (PyCFunction)CharTable_ids_many, METH_O,
     "ids_many(words) -> list of bytes: ids(word) for each word."},
    {"ids_texts", (PyCFunction)CharTable_ids_texts, METH_O,
     "ids_texts(texts) -> (lengths, ids): int64 and int32 bytes, every word's ids per text."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject CharTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "moderation._ngrams.CharTable",
    .tp_doc = "CharTable(index, bits, low, high, codes, ids): char_wb n-gram codes to ids.",
    .tp_basicsize = sizeof(CharTableObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)CharTable_init,
    .tp_dealloc = (destructor)CharTable_dealloc,
    .tp_methods = CharTable_methods,
};
