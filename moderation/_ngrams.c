/* Vocabulary ids of n-grams, found in compiled hash tables: the look-ups the Python
 * paths in char_ngrams.py and word_ngrams.py do through dicts and numpy searches.
 *
 * Both vectorisers' n-grams are encoded exactly as integers there:
 * - a char_wb n-gram: each character becomes its index in the vocabulary's alphabet
 *   (1..A, 0 for a character in no term) and the n-gram the number those indices
 *   spell in base 2**bits;
 * - a word bigram: first token's number * base + second token's number (tokens are
 *   numbered from 1; 0 is a token in no term).
 * A CodeMap holds such integers (all > 0) in an open-addressing table.
 *
 * CharTable.ids(word) gives a whitespace-free word's char_wb n-gram ids in
 * scikit-learn's analyser order: n from low to high, windows left to right, and a
 * padded word no longer than n emitted once as the only n-gram from n up;
 * CharTable.ids_texts(texts) the same for every whitespace word of each text.
 *
 * WordTable.find(text) tokenises a text as the default token pattern \b\w\w+\b
 * does (maximal runs of two or more word characters, where a word character is
 * what Python's re calls \w: str.isalnum() or "_"), numbers each token, and gives
 * the ids of its known unigrams (in order), then of its known bigrams (in order),
 * each with the whitespace words (str.split) its first and last token lie in and
 * the text offsets it spans.
 *
 * The Python paths stay as the fallback and as the reference the tests compare with.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ---- integer codes to int32 ids ---------------------------------------------- */

typedef struct {
    uint64_t *keys; /* 0 marks an empty slot */
    int32_t *values;
    uint64_t mask;
    int shift;
} CodeMap;

static inline uint64_t mix(uint64_t key) { return key * 0x9E3779B97F4A7C15ULL; }

static int32_t codemap_get(const CodeMap *m, uint64_t key) {
    uint64_t at = mix(key) >> m->shift;
    for (;;) {
        uint64_t found = m->keys[at];
        if (found == key) return m->values[at];
        if (found == 0) return -1;
        at = (at + 1) & m->mask;
    }
}

static void codemap_free(CodeMap *m) {
    PyMem_Free(m->keys);
    PyMem_Free(m->values);
    m->keys = NULL;
    m->values = NULL;
}

/* Fill ``m`` from int64 buffers of codes (each > 0) and ids (0..INT32_MAX). */
static int codemap_fill(CodeMap *m, const Py_buffer *codes, const Py_buffer *ids) {
    if (codes->len % 8 || ids->len != codes->len) {
        PyErr_SetString(PyExc_ValueError, "codes and ids must be int64 of one length");
        return -1;
    }
    Py_ssize_t n = codes->len / 8;
    uint64_t capacity = 16;
    int log2 = 4;
    while (capacity < (uint64_t)n * 2) {
        capacity <<= 1;
        log2++;
    }
    codemap_free(m);
    m->keys = PyMem_Calloc(capacity, sizeof(uint64_t));
    m->values = PyMem_Malloc(capacity * sizeof(int32_t));
    if (!m->keys || !m->values) {
        codemap_free(m);
        PyErr_NoMemory();
        return -1;
    }
    m->mask = capacity - 1;
    m->shift = 64 - log2;
    const int64_t *code = codes->buf, *id = ids->buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (code[i] <= 0 || id[i] < 0 || id[i] > INT32_MAX) {
            codemap_free(m);
            PyErr_SetString(PyExc_ValueError, "codes must be > 0 and ids in int32");
            return -1;
        }
        uint64_t at = mix((uint64_t)code[i]) >> m->shift;
        while (m->keys[at] != 0 && m->keys[at] != (uint64_t)code[i]) at = (at + 1) & m->mask;
        m->keys[at] = (uint64_t)code[i];
        m->values[at] = (int32_t)id[i];
    }
    return 0;
}

/* ---- CharTable ---------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    uint32_t *index; /* code point -> alphabet index (0: in no term) */
    Py_ssize_t index_len;
    int bits, low, high;
    CodeMap map;
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

/* The ids of the char_wb n-grams of text[start:end), a whitespace-free word, written to
 * ``out`` (room for (high - low + 1) * (end - start + 2) ids); ``chars`` is scratch room
 * for end - start + 2 indices. Returns how many were written. */
static Py_ssize_t word_ngrams(const CharTableObject *self, int kind, const void *data,
                              Py_ssize_t start, Py_ssize_t end, uint32_t *chars, int32_t *out) {
    Py_ssize_t size = end - start + 2; /* padded with a space each side */
    uint32_t space = ' ' < self->index_len ? self->index[' '] : 0;
    chars[0] = chars[size - 1] = space;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        chars[i - start + 1] = c < (Py_UCS4)self->index_len ? self->index[c] : 0;
    }
    Py_ssize_t count = 0;
    for (int n = self->low; n <= self->high; n++) {
        if (size <= n) { /* the analyser's short-word rule */
            uint64_t code = spell(chars, (int)size, self->bits);
            int32_t id = code ? codemap_get(&self->map, code) : -1;
            if (id >= 0) out[count++] = id;
            break;
        }
        for (Py_ssize_t i = 0; i + n <= size; i++) {
            uint64_t code = spell(chars + i, n, self->bits);
            int32_t id = code ? codemap_get(&self->map, code) : -1;
            if (id >= 0) out[count++] = id;
        }
    }
    return count;
}

static int check_str(CharTableObject *self, PyObject *text, const char *what) {
    if (!self->map.keys) {
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

/* ids_texts(texts) -> (lengths, ids): int64 bytes, how many ids each text has, and
 * int32 bytes, the ids of each text's whitespace words (str.split's), one text after
 * another. */
static PyObject *CharTable_ids_texts(CharTableObject *self, PyObject *texts) {
    PyObject *seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq), used = 0, room = 4096;
    Py_ssize_t per_char = self->high - self->low + 1;
    int64_t *lengths = PyMem_Malloc((count + 1) * sizeof(int64_t));
    int32_t *ids = PyMem_Malloc(room * sizeof(int32_t));
    uint32_t *chars = NULL;
    PyObject *result = NULL;
    if (!lengths || !ids) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < count; t++) {
        PyObject *text = PySequence_Fast_GET_ITEM(seq, t);
        if (check_str(self, text, "text")) goto done;
        Py_ssize_t length = PyUnicode_GET_LENGTH(text), before = used;
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        /* every word of the text fits: at most per_char * (length + 2 * words) ids */
        Py_ssize_t most = per_char * (2 * length + 2);
        if (used + most > room) {
            while (used + most > room) room *= 2;
            int32_t *grown = PyMem_Realloc(ids, room * sizeof(int32_t));
            if (!grown) {
                PyErr_NoMemory();
                goto done;
            }
            ids = grown;
        }
        PyMem_Free(chars);
        chars = PyMem_Malloc((length + 2) * sizeof(uint32_t));
        if (!chars) {
            PyErr_NoMemory();
            goto done;
        }
        Py_ssize_t i = 0;
        while (i < length) {
            while (i < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) i++;
            Py_ssize_t j = i;
            while (j < length && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j))) j++;
            if (j > i) used += word_ngrams(self, kind, data, i, j, chars, ids + used);
            i = j;
        }
        lengths[t] = used - before;
    }
    result = Py_BuildValue("(y#y#)", (const char *)lengths, (Py_ssize_t)(count * sizeof(int64_t)),
                           (const char *)ids, (Py_ssize_t)(used * sizeof(int32_t)));
done:
    PyMem_Free(lengths);
    PyMem_Free(ids);
    PyMem_Free(chars);
    Py_DECREF(seq);
    return result;
}

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

static PyTypeObject CharTableType = {
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

/* ---- WordTable ---------------------------------------------------------------- */

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
} WordTableObject;

static inline int is_word(Py_UCS4 c) { return Py_UNICODE_ISALNUM(c) || c == '_'; }

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
    PyMem_Free(self->chars);
    PyMem_Free(self->starts);
    PyMem_Free(self->hashes);
    PyMem_Free(self->slots);
    PyMem_Free(self->unigram);
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
    self->chars = PyMem_Malloc((total + 1) * sizeof(Py_UCS4));
    self->starts = PyMem_Malloc((n + 2) * sizeof(Py_ssize_t));
    self->hashes = PyMem_Malloc((n + 1) * sizeof(uint64_t));
    self->slots = PyMem_Calloc(capacity, sizeof(uint32_t));
    self->unigram = PyMem_Malloc((n + 1) * sizeof(int64_t));
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

/* The text's tokens with their numbers and whitespace words; NULL on error (set). */
static Token *tokenise(const WordTableObject *self, PyObject *text, Py_ssize_t *count) {
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Token *tokens = PyMem_Malloc((length / 2 + 1) * sizeof(Token));
    if (!tokens) {
        PyErr_NoMemory();
        return NULL;
    }
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
    *count = n;
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

/* find(text) -> bytes: int64 rows (id, first word, last word, start, end), the known
 * unigrams in order, then the known bigrams in order. */
static PyObject *WordTable_find(WordTableObject *self, PyObject *text) {
    if (check_text(self, text)) return NULL;
    Py_ssize_t n;
    Token *tokens = tokenise(self, text, &n);
    if (!tokens) return NULL;
    int64_t *rows = PyMem_Malloc((2 * n + 1) * 5 * sizeof(int64_t));
    if (!rows) {
        PyMem_Free(tokens);
        return PyErr_NoMemory();
    }
    Py_ssize_t m = 0;
    for (Py_ssize_t k = 0; self->unigrams && k < n; k++) {
        int64_t id = self->unigram[tokens[k].number];
        if (id < 0) continue;
        int64_t *row = rows + 5 * m++;
        row[0] = id;
        row[1] = row[2] = tokens[k].unit;
        row[3] = tokens[k].start;
        row[4] = tokens[k].end;
    }
    for (Py_ssize_t k = 0; self->bigrams && k + 1 < n; k++) {
        if (!tokens[k].number || !tokens[k + 1].number) continue;
        int32_t id = codemap_get(&self->pairs, (uint64_t)tokens[k].number * self->base
                                                   + tokens[k + 1].number);
        if (id < 0) continue;
        int64_t *row = rows + 5 * m++;
        row[0] = id;
        row[1] = tokens[k].unit;
        row[2] = tokens[k + 1].unit;
        row[3] = tokens[k].start;
        row[4] = tokens[k + 1].end;
    }
    PyObject *result = PyBytes_FromStringAndSize((const char *)rows, m * 5 * sizeof(int64_t));
    PyMem_Free(rows);
    PyMem_Free(tokens);
    return result;
}

/* ids_many(texts) -> (lengths, ids): int64 bytes, how many ids each text has and the
 * ids one text after another (unigrams, then bigrams, as find). */
static PyObject *WordTable_ids_many(WordTableObject *self, PyObject *texts) {
    PyObject *seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq), used = 0, room = 1024;
    int64_t *lengths = PyMem_Malloc((count + 1) * sizeof(int64_t));
    int64_t *ids = PyMem_Malloc(room * sizeof(int64_t));
    PyObject *result = NULL;
    if (!lengths || !ids) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < count; t++) {
        PyObject *text = PySequence_Fast_GET_ITEM(seq, t);
        if (check_text(self, text)) goto done;
        Py_ssize_t n;
        Token *tokens = tokenise(self, text, &n);
        if (!tokens) goto done;
        if (used + 2 * n > room) {
            while (used + 2 * n > room) room *= 2;
            int64_t *grown = PyMem_Realloc(ids, room * sizeof(int64_t));
            if (!grown) {
                PyMem_Free(tokens);
                PyErr_NoMemory();
                goto done;
            }
            ids = grown;
        }
        Py_ssize_t before = used;
        for (Py_ssize_t k = 0; self->unigrams && k < n; k++) {
            int64_t id = self->unigram[tokens[k].number];
            if (id >= 0) ids[used++] = id;
        }
        for (Py_ssize_t k = 0; self->bigrams && k + 1 < n; k++) {
            if (!tokens[k].number || !tokens[k + 1].number) continue;
            int32_t id = codemap_get(&self->pairs, (uint64_t)tokens[k].number * self->base
                                                       + tokens[k + 1].number);
            if (id >= 0) ids[used++] = id;
        }
        lengths[t] = used - before;
        PyMem_Free(tokens);
    }
    result = Py_BuildValue("(y#y#)", (const char *)lengths, (Py_ssize_t)(count * sizeof(int64_t)),
                           (const char *)ids, (Py_ssize_t)(used * sizeof(int64_t)));
done:
    PyMem_Free(lengths);
    PyMem_Free(ids);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef WordTable_methods[] = {
    {"find", (PyCFunction)WordTable_find, METH_O,
     "find(text) -> bytes: int64 rows (id, first word, last word, start, end)."},
    {"ids_many", (PyCFunction)WordTable_ids_many, METH_O,
     "ids_many(texts) -> (lengths, ids): int64 bytes, ids per text and all ids."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WordTableType = {
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

/* ---- module ------------------------------------------------------------------- */

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
