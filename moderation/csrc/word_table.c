/* WordTable: the vocabulary ids of a text's word unigrams and bigrams.
 *
 * find(text) tokenises a text as the default token pattern \b\w\w+\b does (maximal runs
 * of two or more word characters, where a word character is what Python's re calls
 * \w: str.isalnum() or "_"), numbers each token through its own string table, and
 * gives the ids of its known unigrams (in order), then of its known bigrams (in order:
 * first token's number * base + second's, looked up as an integer code), each with
 * the whitespace words (str.split's) its first and last token lie in and the text
 * offsets it spans; word_tallier tallies the ids of a text's n-grams as they are found
 * (tables.h), which is all scoring a batch needs. The Python path in word_ngrams.py
 * stays as the fallback and as the tests' reference.
 */
#include "codemap.h"
#include "runs.h"
#include "tables.h"

typedef struct {
    PyObject_HEAD
    Py_UCS4 *chars;        /* every token's code points, one after another */
    Py_ssize_t *starts;    /* token number -> its first code point in chars (1-based) */
    uint64_t *hashes;      /* token number -> hash of its code points */
    uint32_t *slots;       /* open addressing: token numbers, 0 empty */
    uint64_t slot_mask;
    int slot_shift;
    int64_t *unigram;      /* token number -> unigram id, -1 if none */
    Py_ssize_t base;       /* tokens + 1 */
    int unigrams, bigrams;
    CodeMap pairs;
    int64_t largest_id; /* the largest unigram or bigram id (-1 when none) */
    int readers; /* calls looking up with the GIL released: __init__ must wait for none */
} WordTableObject;

/* ASCII word characters (a-z, A-Z, 0-9, "_"): above them, str.isalnum() asks up to four
 * of CPython's character tables. */
static const uint8_t ascii_word[128] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['_'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static inline int is_word(Py_UCS4 c) {
    return c < 128 ? ascii_word[c] : Py_UNICODE_ISALNUM(c) || c == '_';
}

static uint64_t hash_chars(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over code points */
    for (Py_ssize_t i = start; i < end; i++) {
        h ^= PyUnicode_READ(kind, data, i);
        h *= 1099511628211ULL;
    }
    return h;
}

/* The number of the token text[start:end), 0 if it is in no term. */
static uint32_t token_number(const WordTableObject *t, int kind, const void *data,
                             Py_ssize_t start, Py_ssize_t end) {
    uint64_t h = hash_chars(kind, data, start, end);
    uint64_t at = mix(h) >> t->slot_shift;
    for (;;) {
        uint32_t number = t->slots[at];
        if (!number) return 0;
        if (t->hashes[number] == h &&
            t->starts[number + 1] - t->starts[number] == end - start) {
            const Py_UCS4 *c = t->chars + t->starts[number];
            Py_ssize_t i = 0;
            while (i < end - start && c[i] == PyUnicode_READ(kind, data, start + i)) i++;
            if (i == end - start) return number;
        }
        at = (at + 1) & t->slot_mask;
    }
}

static void WordTable_free(WordTableObject *self) {
    table_free(self->chars);
    table_free(self->starts);
    table_free(self->hashes);
    table_free(self->slots);
    table_free(self->unigram);
    self->chars = NULL;
    self->starts = NULL;
    self->hashes = NULL;
    self->slots = NULL;
    self->unigram = NULL;
    codemap_free(&self->pairs);
}

static void WordTable_dealloc(WordTableObject *self) {
    WordTable_free(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* WordTable(tokens, unigram, pair_codes, pair_ids, unigrams, bigrams): ``tokens`` the
 * list of distinct token strings numbered 1.. in order; ``unigram`` int64 bytes, one
 * per number 0..len(tokens). */
static int WordTable_init(WordTableObject *self, PyObject *args, PyObject *kwds) {
    PyObject *tokens;
    Py_buffer unigram, codes, ids;
    int unigrams, bigrams, ok = -1;
    if (self->readers) {
        PyErr_SetString(PyExc_RuntimeError, "WordTable is in use by another thread");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O!y*y*y*pp", &PyList_Type, &tokens, &unigram, &codes, &ids,
                          &unigrams, &bigrams))
        return -1;
    WordTable_free(self);
    Py_ssize_t n = PyList_GET_SIZE(tokens), total = 0;
    if (n >= UINT32_MAX || unigram.len != (n + 1) * 8) {
        PyErr_SetString(PyExc_ValueError, "unigram must hold one int64 per token and one for 0");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *token = PyList_GET_ITEM(tokens, i);
        if (!PyUnicode_Check(token)) {
            PyErr_SetString(PyExc_TypeError, "tokens must be str");
            goto done;
        }
        total += PyUnicode_GET_LENGTH(token);
    }
    uint64_t capacity = 16;
    int log2 = 4;
    while (capacity < (uint64_t)n * 2) {
        capacity <<= 1;
        log2++;
    }
    /* read at random, one token after another: see table_calloc() */
    self->chars = table_calloc(total + 1, sizeof(Py_UCS4));
    self->starts = table_calloc(n + 2, sizeof(Py_ssize_t));
    self->hashes = table_calloc(n + 1, sizeof(uint64_t));
    self->slots = table_calloc(capacity, sizeof(uint32_t));
    self->unigram = table_calloc(n + 1, sizeof(int64_t));
    if (!self->chars || !self->starts || !self->hashes || !self->slots || !self->unigram) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->unigram, unigram.buf, unigram.len);
    self->slot_mask = capacity - 1;
    self->slot_shift = 64 - log2;
    self->base = n + 1;
    self->unigrams = unigrams;
    self->bigrams = bigrams;
    Py_ssize_t at_char = 0;
    self->starts[0] = self->starts[1] = 0;
    self->hashes[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *token = PyList_GET_ITEM(tokens, i);
        Py_ssize_t length = PyUnicode_GET_LENGTH(token);
        int kind = PyUnicode_KIND(token);
        const void *data = PyUnicode_DATA(token);
        uint32_t number = (uint32_t)(i + 1);
        for (Py_ssize_t j = 0; j < length; j++) self->chars[at_char + j] = PyUnicode_READ(kind, data, j);
        self->starts[number] = at_char;
        at_char += length;
        self->starts[number + 1] = at_char;
        if (token_number(self, kind, data, 0, length)) {
            PyErr_SetString(PyExc_ValueError, "tokens must be distinct");
            goto done;
        }
        uint64_t h = hash_chars(kind, data, 0, length);
        self->hashes[number] = h;
        uint64_t slot = mix(h) >> self->slot_shift;
        while (self->slots[slot]) slot = (slot + 1) & self->slot_mask;
        self->slots[slot] = number;
    }
    ok = codemap_fill(&self->pairs, &codes, &ids);
    self->largest_id = -1;
    for (Py_ssize_t i = 0; !ok && i <= n; i++)
        if (self->unigram[i] > self->largest_id) self->largest_id = self->unigram[i];
    for (Py_ssize_t i = 0; !ok && i < ids.len / 8; i++)
        if (((const int64_t *)ids.buf)[i] > self->largest_id)
            self->largest_id = ((const int64_t *)ids.buf)[i];
done:
    if (ok) WordTable_free(self);
    PyBuffer_Release(&unigram);
    PyBuffer_Release(&codes);
    PyBuffer_Release(&ids);
    return ok;
}

typedef struct {
    Py_ssize_t start, end, unit;
    uint32_t number;
} Token;

/* The tokens of text data[0:length) (a str's kind and data) with their numbers and
 * whitespace words, written to ``tokens`` (room for length / 2 + 1); returns how many. */
static Py_ssize_t tokens_of(const WordTableObject *self, int kind, const void *data,
                            Py_ssize_t length, Token *tokens) {
    Py_ssize_t n = 0, unit = 0, i = 0;
    if (length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0))) unit = -1;
    while (i < length) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        Py_ssize_t j = i + 1;
        if (Py_UNICODE_ISSPACE(c)) {
            while (j < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j))) j++;
            unit++;
        } else if (is_word(c)) {
            while (j < length && is_word(PyUnicode_READ(kind, data, j))) j++;
            if (j - i >= 2) {
                tokens[n].start = i;
                tokens[n].end = j;
                tokens[n].unit = unit;
                tokens[n].number = token_number(self, kind, data, i, j);
                n++;
            }
        }
        i = j;
    }
    return n;
}

/* The text's tokens (free with PyMem_RawFree) and their number in *count; NULL when out
 * of memory, with no error set: it runs without the GIL too. */
static Token *tokenise(const WordTableObject *self, PyObject *text, Py_ssize_t *count) {
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    Token *tokens = PyMem_RawMalloc((length / 2 + 1) * sizeof(Token));
    if (tokens) *count = tokens_of(self, PyUnicode_KIND(text), PyUnicode_DATA(text), length, tokens);
    return tokens;
}

static int check_text(WordTableObject *self, PyObject *text) {
    if (!self->slots) {
        PyErr_SetString(PyExc_RuntimeError, "WordTable.__init__ was not called");
        return -1;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "a text must be a str");
        return -1;
    }
    return 0;
}

/* One found n-gram, from token a to token b: its id to ``ids`` or, if that is NULL, its
 * row (id, first word, last word, start, end) to ``rows``. */
static inline void put(int64_t *ids, int64_t *rows, Py_ssize_t m, int64_t id, const Token *a,
                       const Token *b) {
    if (ids) {
        ids[m] = id;
        return;
    }
    int64_t *row = rows + 5 * m;
    row[0] = id;
    row[1] = a->unit;
    row[2] = b->unit;
    row[3] = a->start;
    row[4] = b->end;
}

/* The text's known unigrams in order, then its known bigrams in order, through put()
 * (room for 2 * n). Returns how many. */
static Py_ssize_t known(const WordTableObject *self, const Token *tokens, Py_ssize_t n,
                        int64_t *ids, int64_t *rows) {
    Py_ssize_t m = 0;
    for (Py_ssize_t k = 0; self->unigrams && k < n; k++) {
        int64_t id = self->unigram[tokens[k].number];
        if (id >= 0) put(ids, rows, m++, id, tokens + k, tokens + k);
    }
    for (Py_ssize_t k = 0; self->bigrams && k + 1 < n; k++) {
        if (!tokens[k].number || !tokens[k + 1].number) continue;
        int32_t id = codemap_get(&self->pairs, (uint64_t)tokens[k].number * self->base
                                                   + tokens[k + 1].number);
        if (id >= 0) put(ids, rows, m++, id, tokens + k, tokens + k + 1);
    }
    return m;
}

/* find(text) -> bytes: int64 rows (id, first word, last word, start, end), the known
 * unigrams in order, then the known bigrams in order. */
static PyObject *WordTable_find(WordTableObject *self, PyObject *text) {
    if (check_text(self, text)) return NULL;
    Py_ssize_t n;
    Token *tokens = tokenise(self, text, &n);
    if (!tokens) return PyErr_NoMemory();
    int64_t *rows = PyMem_Malloc((2 * n + 1) * 5 * sizeof(int64_t));
    if (!rows) {
        PyMem_RawFree(tokens);
        return PyErr_NoMemory();
    }
    Py_ssize_t m = known(self, tokens, n, NULL, rows);
    PyObject *result = PyBytes_FromStringAndSize((const char *)rows, m * 5 * sizeof(int64_t));
    PyMem_Free(rows);
    PyMem_RawFree(tokens);
    return result;
}

static int word_usable(PyObject *obj, Py_ssize_t width) {
    WordTableObject *self = (WordTableObject *)obj;
    return table_usable("WordTable", self->slots != NULL, self->largest_id, width);
}

/* ids_many(texts) -> (lengths, ids): int64 bytes, how many ids each text has and the
 * ids one text after another (unigrams, then bigrams, as find). The look-ups run with
 * the GIL released (the texts held by a tuple, read only). */
static PyObject *WordTable_ids_many(WordTableObject *self, PyObject *texts) {
    if (word_usable((PyObject *)self, PY_SSIZE_T_MAX) < 0) return NULL;
    PyObject *tuple = str_tuple(texts);
    if (!tuple) return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(tuple);
    PyObject *result = NULL;
    Runs runs;
    if (runs_open(&runs, count, sizeof(int64_t))) goto done;
    int failed = 0;
    self->readers++;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = 0; t < count && !failed; t++) {
        Py_ssize_t n;
        Token *tokens = tokenise(self, PyTuple_GET_ITEM(tuple, t), &n);
        int64_t *ids = tokens ? runs_reserve(&runs, 2 * n) : NULL;
        if (ids) runs_add(&runs, known(self, tokens, n, ids, NULL));
        else failed = 1;
        PyMem_RawFree(tokens);
    }
    Py_END_ALLOW_THREADS
    self->readers--;
    result = failed ? PyErr_NoMemory() : runs_result(&runs);
    runs_close(&runs);
done:
    Py_DECREF(tuple);
    return result;
}

static void word_reading(PyObject *obj, int delta) { ((WordTableObject *)obj)->readers += delta; }

static int word_tally(PyObject *obj, int kind, const void *data, Py_ssize_t length,
                      Scratch *scratch, Tally *tally, const Arith *arith) {
    const WordTableObject *self = (const WordTableObject *)obj;
    if (length > scratch->size) {
        Py_ssize_t room = 2 * length + 2;
        scratch_close(scratch);
        scratch->room[0] = PyMem_RawMalloc((room / 2 + 1) * sizeof(Token));
        scratch->room[1] = PyMem_RawMalloc((room + 1) * sizeof(int64_t));
        if (!scratch->room[0] || !scratch->room[1]) return -1;
        scratch->size = room;
    }
    Token *tokens = scratch->room[0];
    int64_t *ids = scratch->room[1];
    Py_ssize_t n = tokens_of(self, kind, data, length, tokens);
    Py_ssize_t found = known(self, tokens, n, ids, NULL);
    for (Py_ssize_t g = 0; g < found; g++) tally_add(tally, arith, ids[g]);
    return 0;
}

const Tallier word_tallier = {&WordTableType, word_usable, word_reading, word_tally};

static PyMethodDef WordTable_methods[] = {
    {"find", (PyCFunction)WordTable_find, METH_O,
     "find(text) -> bytes: int64 rows (id, first word, last word, start, end)."},
    {"ids_many", (PyCFunction)WordTable_ids_many, METH_O,
     "ids_many(texts) -> (lengths, ids): int64 bytes, ids per text and all ids."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject WordTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "moderation._ngrams.WordTable",
    .tp_doc = "WordTable(tokens, unigram, pair_codes, pair_ids, unigrams, bigrams): "
              "word unigram and bigram ids of texts.",
    .tp_basicsize = sizeof(WordTableObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)WordTable_init,
    .tp_dealloc = (destructor)WordTable_dealloc,
    .tp_methods = WordTable_methods,
};
