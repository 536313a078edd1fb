/* moderation._normalize: moderation/normalize.py's passes in C, for a text already in
 * NFKC form (the Python module runs that one pass first when a text needs it).
 *
 * Each pass reproduces one regular-expression substitution of normalize.py on the
 * pass's input: every pattern's matches are found where Python's re finds them
 * (leftmost, alternatives in order, greedy quantifiers backtracking in their order),
 * each worked out by hand from the pattern's structure; the comment above each pass
 * gives the pattern and the reasoning. Character classes use CPython's own
 * predicates, so \w, \d and \s mean here what they mean to re on a str. The Python
 * passes stay the reference: tests/test_native_normalize.py compares the two on
 * every text we have and on random texts built to wake each pass.
 *
 * Tracking: with ``track``, each output character carries the span [start, end) of the
 * original text it came from, by Rewrite's rule (moderation/rewrite.py): a replacement
 * of the same length keeps each character's own span, any other maps every new
 * character to the whole match.
 *
 * The data (invisible ranges, look-alikes, leetspeak table, top-level domains) comes
 * from normalize.py through the constructor, so it is written down once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "normalize_api.h"

/* ---------------------------------------------------------------- buffers */

typedef struct {
    Py_UCS4 *c;
    Py_ssize_t *s, *e; /* per character, its original span; NULL when not tracking */
    Py_ssize_t n, cap;
} Buf;

/* Buffers and every pass's scratch room come from the raw allocator and set no exception
 * when it fails (the caller does, see no_memory()): a batch of ASCII texts is
 * normalised with the GIL released. */
static void buf_free(Buf *b) {
    PyMem_RawFree(b->c);
    PyMem_RawFree(b->s);
    PyMem_RawFree(b->e);
    b->c = NULL;
    b->s = b->e = NULL;
    b->n = b->cap = 0;
}

static int buf_reserve(Buf *b, Py_ssize_t extra, int track) {
    if (b->n + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) cap *= 2;
    Py_UCS4 *c = PyMem_RawRealloc(b->c, cap * sizeof(Py_UCS4));
    if (!c) return -1;
    b->c = c;
    if (track) {
        Py_ssize_t *s = PyMem_RawRealloc(b->s, cap * sizeof(Py_ssize_t));
        if (!s) return -1;
        b->s = s;
        Py_ssize_t *e = PyMem_RawRealloc(b->e, cap * sizeof(Py_ssize_t));
        if (!e) return -1;
        b->e = e;
    }
    b->cap = cap;
    return 0;
}

/* After a failed load() or pass (with the GIL held): MemoryError unless the failure set
 * an exception of its own (pass_lower's and link_hosts' Python calls can). */
static void *no_memory(void) {
    if (!PyErr_Occurred()) PyErr_NoMemory();
    return NULL;
}

/* One pass's edits of ``in`` into ``out``: unchanged stretches are copied only once
 * something changes, so a pass that finds nothing to do costs its scan alone. */
typedef struct {
    const Buf *in;
    Buf *out;
    Py_ssize_t last; /* in[last:] not yet copied */
    int changed, track;
} Edit;

static void edit_open(Edit *ed, const Buf *in, Buf *out, int track) {
    ed->in = in;
    ed->out = out;
    ed->last = 0;
    ed->changed = 0;
    ed->track = track;
    out->n = 0;
}

static int edit_copy(Edit *ed, Py_ssize_t to) {
    Py_ssize_t m = to - ed->last;
    if (m <= 0) return 0;
    if (buf_reserve(ed->out, m, ed->track)) return -1;
    memcpy(ed->out->c + ed->out->n, ed->in->c + ed->last, m * sizeof(Py_UCS4));
    if (ed->track) {
        memcpy(ed->out->s + ed->out->n, ed->in->s + ed->last, m * sizeof(Py_ssize_t));
        memcpy(ed->out->e + ed->out->n, ed->in->e + ed->last, m * sizeof(Py_ssize_t));
    }
    ed->out->n += m;
    ed->last = to;
    return 0;
}

/* Replace in[a:b] by chars[0:m] (Rewrite's span rule). */
static int edit_replace(Edit *ed, Py_ssize_t a, Py_ssize_t b, const Py_UCS4 *chars,
                        Py_ssize_t m) {
    if (edit_copy(ed, a)) return -1;
    if (buf_reserve(ed->out, m, ed->track)) return -1;
    Buf *out = ed->out;
    const Buf *in = ed->in;
    for (Py_ssize_t i = 0; i < m; i++) {
        out->c[out->n + i] = chars[i];
        if (ed->track) {
            int own = m == b - a;
            out->s[out->n + i] = own ? in->s[a + i] : in->s[a];
            out->e[out->n + i] = own ? in->e[a + i] : in->e[b - 1];
        }
    }
    out->n += m;
    ed->last = b;
    ed->changed = 1;
    return 0;
}

/* Finish the pass: 1 when ``out`` holds the new text, 0 when nothing changed. */
static int edit_close(Edit *ed) {
    if (!ed->changed) return 0;
    if (edit_copy(ed, ed->in->n)) return -1;
    return 1;
}

/* ---------------------------------------------------------------- classes */

/* Character properties: what re's \w, \d and \s match on a str (sre:
 * Py_UNICODE_ISALNUM or "_", Py_UNICODE_ISDECIMAL, Py_UNICODE_ISSPACE), and the classes
 * the passes look for. Below 128 they come from a table (the object's, which adds the
 * classes its data defines); above, from CPython's predicates. */
enum {
    P_WORD = 1, P_DIGIT = 2, P_SPACE = 4, P_LOWER = 8, P_LEET = 16, P_MARK = 32, P_AT = 64,
    P_LINKISH = 128, /* "." or ":" */
    P_INVISIBLE = 256, P_OTHER_SPACE = 512 /* white space but " " */, P_NONASCII = 1024,
    P_PHONE_START = 2048 /* + ( or a digit */, P_SEPARATOR = 4096 /* " " or a mark */,
};
static uint16_t ascii_props[128];

static void fill_ascii_props(void) {
    for (int c = 0; c < 128; c++) {
        uint16_t k = 0;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            k |= P_WORD;
        if (c >= '0' && c <= '9') k |= P_DIGIT;
        if (Py_UNICODE_ISSPACE(c)) k |= c == ' ' ? P_SPACE : P_SPACE | P_OTHER_SPACE;
        if (c >= 'a' && c <= 'z') k |= P_LOWER;
        if (c == '.' || c == '-' || c == '_' || c == '*') k |= P_MARK;
        if (c == '@') k |= P_AT;
        if (c == '.' || c == ':') k |= P_LINKISH;
        if (c == '+' || c == '(' || (c >= '0' && c <= '9')) k |= P_PHONE_START;
        if (c == ' ' || (k & P_MARK)) k |= P_SEPARATOR;
        ascii_props[c] = k;
    }
}

static inline int is_word(Py_UCS4 c) {
    return c < 128 ? (ascii_props[c] & P_WORD) != 0 : Py_UNICODE_ISALNUM(c);
}
static inline int is_digit(Py_UCS4 c) {
    return c < 128 ? (ascii_props[c] & P_DIGIT) != 0 : Py_UNICODE_ISDECIMAL(c);
}
static inline int is_space(Py_UCS4 c) {
    return c < 128 ? (ascii_props[c] & P_SPACE) != 0 : Py_UNICODE_ISSPACE(c);
}
static inline int is_lower(Py_UCS4 c) { return c >= 'a' && c <= 'z'; }
static inline int spacing_mark(Py_UCS4 c) { /* [.\-_*·] */
    return c == '.' || c == '-' || c == '_' || c == '*' || c == 0xB7;
}

/* word at i, with nothing (a non-word) outside the text */
static inline int word_at(const Buf *b, Py_ssize_t i) {
    return i >= 0 && i < b->n && is_word(b->c[i]);
}
static inline int boundary(const Buf *b, Py_ssize_t i) {
    return word_at(b, i - 1) != word_at(b, i);
}
static inline int starts_with(const Buf *b, Py_ssize_t i, const char *ascii) {
    for (; *ascii; ascii++, i++)
        if (i >= b->n || b->c[i] != (Py_UCS4)(unsigned char)*ascii) return 0;
    return 1;
}

/* ---------------------------------------------------------------- the object */

#define DIRECT 0x800 /* look-ups below this code point are one index */

typedef struct {
    PyObject_HEAD
    Py_UCS4 (*ranges)[2]; /* invisible characters, inclusive ranges */
    Py_ssize_t n_ranges;
    uint16_t props[128]; /* ascii_props with the data's invisible and leet characters */
    Py_UCS4 homoglyph[DIRECT]; /* 0: not a look-alike */
    Py_UCS4 *far_keys, *far_values; /* look-alikes at DIRECT and above, sorted */
    Py_ssize_t n_far;
    int has_homoglyphs;
    Py_UCS4 leet[128];                 /* 0: unchanged */
    Py_UCS4 *leet_far_keys, *leet_far_values;
    Py_ssize_t n_leet_far;
    Py_UCS4 *leet_class; /* the characters of [0-9@$!|€] */
    Py_ssize_t n_leet_class;
    Py_UCS4 homoglyph_min; /* the smallest look-alike */
    Py_UCS4 **tlds;
    Py_ssize_t *tld_len, n_tlds;
    int ready;
} NormalizerObject;

static int invisible(const NormalizerObject *nz, Py_UCS4 c) {
    if (c < 128) return (nz->props[c] & P_INVISIBLE) != 0;
    for (Py_ssize_t i = 0; i < nz->n_ranges; i++)
        if (c >= nz->ranges[i][0] && c <= nz->ranges[i][1]) return 1;
    return 0;
}

static Py_UCS4 lookup_far(const Py_UCS4 *keys, const Py_UCS4 *values, Py_ssize_t n,
                          Py_UCS4 c) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (keys[mid] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && keys[lo] == c ? values[lo] : 0;
}

static inline Py_UCS4 homoglyph(const NormalizerObject *nz, Py_UCS4 c) {
    if (c < DIRECT) return nz->homoglyph[c];
    return nz->n_far ? lookup_far(nz->far_keys, nz->far_values, nz->n_far, c) : 0;
}

static inline int leet_char(const NormalizerObject *nz, Py_UCS4 c) {
    if (c < 128) return (nz->props[c] & P_LEET) != 0;
    for (Py_ssize_t i = 0; i < nz->n_leet_class; i++)
        if (nz->leet_class[i] == c) return 1;
    return 0;
}

static inline Py_UCS4 unleet(const NormalizerObject *nz, Py_UCS4 c) {
    Py_UCS4 to = c < 128 ? nz->leet[c]
                         : lookup_far(nz->leet_far_keys, nz->leet_far_values, nz->n_leet_far, c);
    return to ? to : c;
}

static void Normalizer_dealloc(NormalizerObject *self) {
    PyMem_Free(self->ranges);
    PyMem_Free(self->far_keys);
    PyMem_Free(self->far_values);
    PyMem_Free(self->leet_far_keys);
    PyMem_Free(self->leet_far_values);
    PyMem_Free(self->leet_class);
    for (Py_ssize_t i = 0; i < self->n_tlds; i++) PyMem_Free(self->tlds ? self->tlds[i] : NULL);
    PyMem_Free(self->tlds);
    PyMem_Free(self->tld_len);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A one-character str as its code point; -1 with an error set otherwise. */
static long one_char(PyObject *obj, const char *what) {
    if (!PyUnicode_Check(obj) || PyUnicode_GET_LENGTH(obj) != 1) {
        PyErr_Format(PyExc_ValueError, "%s: expected one-character strings", what);
        return -1;
    }
    return (long)PyUnicode_READ_CHAR(obj, 0);
}

/* A {char: char} dict into a direct table below ``direct`` and sorted far arrays. */
static int read_char_map(PyObject *map, const char *what, Py_UCS4 *table, Py_UCS4 direct,
                         Py_UCS4 **far_keys, Py_UCS4 **far_values, Py_ssize_t *n_far) {
    if (!PyDict_Check(map)) {
        PyErr_Format(PyExc_TypeError, "%s must be a dict", what);
        return -1;
    }
    Py_ssize_t size = PyDict_Size(map), pos = 0, far = 0;
    PyObject *key, *value;
    *far_keys = PyMem_Malloc((size + 1) * sizeof(Py_UCS4));
    *far_values = PyMem_Malloc((size + 1) * sizeof(Py_UCS4));
    if (!*far_keys || !*far_values) {
        PyErr_NoMemory();
        return -1;
    }
    while (PyDict_Next(map, &pos, &key, &value)) {
        long k = one_char(key, what), v = one_char(value, what);
        if (k < 0 || v < 0) return -1;
        if (v == 0 || k == 0) {
            PyErr_Format(PyExc_ValueError, "%s: NUL cannot be mapped", what);
            return -1;
        }
        if ((Py_UCS4)k < direct) {
            table[k] = (Py_UCS4)v;
        } else { /* insertion into the sorted far arrays */
            Py_ssize_t at = far++;
            while (at > 0 && (*far_keys)[at - 1] > (Py_UCS4)k) {
                (*far_keys)[at] = (*far_keys)[at - 1];
                (*far_values)[at] = (*far_values)[at - 1];
                at--;
            }
            (*far_keys)[at] = (Py_UCS4)k;
            (*far_values)[at] = (Py_UCS4)v;
        }
    }
    *n_far = far;
    return 0;
}

/* Normalizer(invisible, homoglyphs, leet_class, leet, tlds):
 *   invisible   sequence of (first, last) code point ranges
 *   homoglyphs  dict of one character to one character
 *   leet_class  str: the characters leetspeak tokens are made of besides a-z
 *   leet        dict of one character to one character
 *   tlds        sequence of ASCII top-level domains, in the pattern's order */
static int Normalizer_init(NormalizerObject *self, PyObject *args, PyObject *kwds) {
    PyObject *invisible_obj, *homoglyphs, *leet_class, *leet, *tlds_obj;
    if (self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "a Normalizer is initialised once");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOUOO", &invisible_obj, &homoglyphs, &leet_class, &leet,
                          &tlds_obj))
        return -1;
    memcpy(self->props, ascii_props, sizeof(ascii_props));
    PyObject *ranges = PySequence_Fast(invisible_obj, "invisible must be a sequence");
    if (!ranges) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(ranges);
    self->ranges = PyMem_Malloc((n + 1) * sizeof(*self->ranges));
    if (!self->ranges) {
        Py_DECREF(ranges);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long lo, hi;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(ranges, i), "kk;invisible ranges are "
                              "(first, last) pairs", &lo, &hi)) {
            Py_DECREF(ranges);
            return -1;
        }
        if (lo > hi || hi > 0x10FFFF) {
            Py_DECREF(ranges);
            PyErr_SetString(PyExc_ValueError, "invisible: a range must rise within Unicode");
            return -1;
        }
        self->ranges[i][0] = (Py_UCS4)lo;
        self->ranges[i][1] = (Py_UCS4)hi;
        for (unsigned long c = lo; c <= hi && c < 128; c++) self->props[c] |= P_INVISIBLE;
    }
    self->n_ranges = n;
    Py_DECREF(ranges);

    if (read_char_map(homoglyphs, "homoglyphs", self->homoglyph, DIRECT, &self->far_keys,
                      &self->far_values, &self->n_far))
        return -1;
    self->has_homoglyphs = PyDict_Size(homoglyphs) > 0;
    self->homoglyph_min = self->n_far ? self->far_keys[0] : DIRECT;
    for (Py_UCS4 c = DIRECT; c-- > 0;)
        if (self->homoglyph[c]) self->homoglyph_min = c;
    if (read_char_map(leet, "leet", self->leet, 128, &self->leet_far_keys,
                      &self->leet_far_values, &self->n_leet_far))
        return -1;

    self->n_leet_class = PyUnicode_GET_LENGTH(leet_class);
    self->leet_class = PyMem_Malloc((self->n_leet_class + 1) * sizeof(Py_UCS4));
    if (!self->leet_class) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < self->n_leet_class; i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(leet_class, i);
        if (is_lower(c)) {
            PyErr_SetString(PyExc_ValueError, "leet_class: a-z are the tokens' letters");
            return -1;
        }
        self->leet_class[i] = c;
        if (c < 128) self->props[c] |= P_LEET;
    }

    PyObject *tlds = PySequence_Fast(tlds_obj, "tlds must be a sequence");
    if (!tlds) return -1;
    self->n_tlds = PySequence_Fast_GET_SIZE(tlds);
    self->tlds = PyMem_Calloc(self->n_tlds + 1, sizeof(Py_UCS4 *));
    self->tld_len = PyMem_Calloc(self->n_tlds + 1, sizeof(Py_ssize_t));
    if (!self->tlds || !self->tld_len) {
        Py_DECREF(tlds);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < self->n_tlds; i++) {
        PyObject *tld = PySequence_Fast_GET_ITEM(tlds, i);
        if (!PyUnicode_Check(tld) || PyUnicode_GET_LENGTH(tld) == 0) {
            Py_DECREF(tlds);
            PyErr_SetString(PyExc_ValueError, "tlds must be non-empty strings");
            return -1;
        }
        Py_ssize_t len = PyUnicode_GET_LENGTH(tld);
        self->tlds[i] = PyMem_Malloc(len * sizeof(Py_UCS4));
        if (!self->tlds[i]) {
            Py_DECREF(tlds);
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t j = 0; j < len; j++) {
            Py_UCS4 c = PyUnicode_READ_CHAR(tld, j);
            if (!is_lower(c)) { /* the end-of-domain test below relies on it */
                Py_DECREF(tlds);
                PyErr_SetString(PyExc_ValueError, "tlds must be spelled in a-z");
                return -1;
            }
            self->tlds[i][j] = c;
        }
        self->tld_len[i] = len;
    }
    Py_DECREF(tlds);
    self->ready = 1;
    return 0;
}

/* The properties of any character (above 128 from CPython's predicates). */
static uint16_t far_props(const NormalizerObject *nz, Py_UCS4 c) {
    uint16_t k = P_NONASCII;
    if (Py_UNICODE_ISALNUM(c)) k |= P_WORD;
    if (Py_UNICODE_ISDECIMAL(c)) k |= P_DIGIT | P_PHONE_START;
    if (Py_UNICODE_ISSPACE(c)) k |= P_SPACE | P_OTHER_SPACE;
    if (leet_char(nz, c)) k |= P_LEET;
    if (spacing_mark(c)) k |= P_MARK | P_SEPARATOR;
    if (invisible(nz, c)) k |= P_INVISIBLE;
    return k;
}

static inline uint16_t props(const NormalizerObject *nz, Py_UCS4 c) {
    return c < 128 ? nz->props[c] : far_props(nz, c);
}

/* The union of the text's characters' properties: which passes could find anything. */
static unsigned present(const NormalizerObject *nz, const Buf *b) {
    unsigned f = 0;
    for (Py_ssize_t i = 0; i < b->n; i++) {
        Py_UCS4 c = b->c[i];
        f |= props(nz, c);
    }
    return f;
}

/* ---------------------------------------------------------------- the passes */

/* _INVISIBLE: every run of invisible characters goes. */
static int pass_invisible(const NormalizerObject *nz, const Buf *in, Buf *out, int track) {
    Edit ed;
    edit_open(&ed, in, out, track);
    for (Py_ssize_t i = 0; i < in->n;) {
        if (!invisible(nz, in->c[i])) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < in->n && invisible(nz, in->c[j])) j++;
        if (edit_replace(&ed, i, j, NULL, 0)) return -1;
        i = j;
    }
    return edit_close(&ed);
}

/* _lower: str.lower(), or, when that changes the length (a character lowering to
 * several), each character lowered on its own where that gives one character. The
 * length never changes, so neither do the spans: done in place. */
static int pass_lower(Buf *b) {
    PyObject *text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, b->c, b->n);
    if (!text) return -1;
    PyObject *lowered = PyObject_CallMethod(text, "lower", NULL);
    Py_DECREF(text);
    if (!lowered) return -1;
    if (PyUnicode_GET_LENGTH(lowered) == b->n) {
        for (Py_ssize_t i = 0; i < b->n; i++) b->c[i] = PyUnicode_READ_CHAR(lowered, i);
        Py_DECREF(lowered);
        return 0;
    }
    Py_DECREF(lowered);
    for (Py_ssize_t i = 0; i < b->n; i++) {
        PyObject *one = PyUnicode_FromOrdinal((int)b->c[i]);
        if (!one) return -1;
        PyObject *low = PyObject_CallMethod(one, "lower", NULL);
        Py_DECREF(one);
        if (!low) return -1;
        if (PyUnicode_GET_LENGTH(low) == 1) b->c[i] = PyUnicode_READ_CHAR(low, 0);
        Py_DECREF(low);
    }
    return 0;
}

/* str.lower() without Python, for a text where it lowers each character on its own to
 * one character: CPython's simple lower-case mapping is then what str.lower() gives
 * (its full mapping differs only for U+0130, which lowers to two characters, and its
 * one context rule, the final sigma of U+03A3). See lowers_simply(). In place. */
static void pass_lower_c(Buf *b) {
    for (Py_ssize_t i = 0; i < b->n; i++) {
        Py_UCS4 c = b->c[i];
        b->c[i] = c < 128 ? c + ((unsigned)(c - 'A') < 26u) * ('a' - 'A') : Py_UNICODE_TOLOWER(c);
    }
}

/* Whether pass_lower_c() lowers ``text`` as str.lower() does: it holds neither U+0130
 * nor U+03A3. No GIL needed. */
static int lowers_simply(PyObject *text) {
    if (PyUnicode_IS_ASCII(text)) return 1;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(text); i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == 0x130 || c == 0x3A3) return 0;
    }
    return 1;
}

/* _fold_homoglyphs: in each \w+ word holding a look-alike, the look-alikes become Latin
 * when the word holds a-z, or when it folds to ASCII and more than half the text's
 * letters are ASCII. One character for one: in place. */
static void pass_homoglyphs(const NormalizerObject *nz, Buf *b) {
    if (!nz->has_homoglyphs) return;
    int any = 0;
    for (Py_ssize_t i = 0; i < b->n && !any; i++)
        any = b->c[i] >= nz->homoglyph_min && homoglyph(nz, b->c[i]);
    if (!any) return;
    Py_ssize_t letters = 0, latin = 0;
    for (Py_ssize_t i = 0; i < b->n; i++) {
        Py_UCS4 c = b->c[i];
        if (c < 128 ? (c | 0x20) - 'a' < 26 : Py_UNICODE_ISALPHA(c)) {
            letters++;
            latin += c < 128;
        }
    }
    int mostly_latin = latin * 2 > letters;
    for (Py_ssize_t i = 0; i < b->n;) {
        if (!is_word(b->c[i])) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        int alike = 0, has_latin = 0, folds_ascii = 1;
        for (; j < b->n && is_word(b->c[j]); j++) {
            Py_UCS4 c = b->c[j], to = homoglyph(nz, c);
            alike |= to != 0 && to != c;
            has_latin |= is_lower(c);
            folds_ascii &= (to ? to : c) < 128;
        }
        if (alike && (has_latin || (mostly_latin && folds_ascii))) {
            for (Py_ssize_t k = i; k < j; k++) {
                Py_UCS4 to = homoglyph(nz, b->c[k]);
                if (to) b->c[k] = to;
            }
        }
        i = j;
    }
}

static const Py_UCS4 EMAIL[] = {' ', '_', 'e', 'm', 'a', 'i', 'l', '_', ' '};
static const Py_UCS4 PHONE[] = {' ', '_', 'p', 'h', 'o', 'n', 'e', '_', ' '};

static inline int email_local(Py_UCS4 c) { return is_word(c) || c == '.' || c == '+' || c == '-'; }
static inline int email_label(Py_UCS4 c) { return is_word(c) || c == '-'; }

/* _EMAIL = [\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}, replaced by " _email_ ".
 * "@" is in neither class, so a match's local part is the whole run of [\w.+-] before
 * an "@" (from where the scan stands), and the domain is a chain of [\w-] labels joined
 * by single dots. The greedy star takes as many labels as it can before the last
 * "\.[a-z]{2,}", so the match ends in the last label (not the first) that begins with
 * two a-z letters, after its run of a-z. */
static int pass_email(const Buf *in, Buf *out, int track) {
    Edit ed;
    edit_open(&ed, in, out, track);
    Py_ssize_t pos = 0, n = in->n;
    const Py_UCS4 *c = in->c;
    for (Py_ssize_t q = 0; q < n; q++) {
        if (c[q] != '@' || q < pos) continue;
        Py_ssize_t r = q;
        while (r > pos && email_local(c[r - 1])) r--;
        if (r == q) continue;
        Py_ssize_t x = q + 1;
        while (x < n && email_label(c[x])) x++;
        if (x == q + 1) continue;
        while (x + 1 < n && c[x] == '.' && email_label(c[x + 1])) {
            x++;
            while (x < n && email_label(c[x])) x++;
        }
        Py_ssize_t end = -1;
        for (Py_ssize_t d = x - 1; d > q && end < 0; d--) {
            if (c[d] != '.') continue;
            Py_ssize_t t = d + 1;
            while (t < x && is_lower(c[t])) t++;
            if (t - (d + 1) >= 2) end = t;
        }
        if (end < 0) continue;
        if (edit_replace(&ed, r, end, EMAIL, 9)) return -1;
        pos = end;
        q = end - 1;
    }
    return edit_close(&ed);
}

/* [\s<>"'] and that with .,;:!?)] added: what a link's characters may not be, and
 * what its last character may not be. */
static inline int link_stop(Py_UCS4 c) {
    return is_space(c) || c == '<' || c == '>' || c == '"' || c == '\'';
}
static inline int link_tail(Py_UCS4 c) {
    return link_stop(c) || c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
           c == '?' || c == ')' || c == ']';
}
static inline int domain_char(Py_UCS4 c) { return is_lower(c) || (c >= '0' && c <= '9') || c == '-'; }

/* [^\s<>"']*[^\s<>"'.,;:!?)\]] from ``from``: the end of the longest such stretch (the
 * star gives back characters until one that may end a link), or -1. */
static Py_ssize_t link_path(const Buf *b, Py_ssize_t from) {
    Py_ssize_t j = from;
    while (j < b->n && !link_stop(b->c[j])) j++;
    for (Py_ssize_t i = j - 1; i >= from; i--)
        if (!link_tail(b->c[i])) return i + 1;
    return -1;
}

/* (?:https?|hxxps?)://|www\. at i: where it ends, or -1. */
static Py_ssize_t link_scheme(const Buf *b, Py_ssize_t i) {
    if (starts_with(b, i, "http") || starts_with(b, i, "hxxp")) {
        if (starts_with(b, i + 4, "s://")) return i + 8;
        if (starts_with(b, i + 4, "://")) return i + 7;
    }
    return starts_with(b, i, "www.") ? i + 4 : -1;
}

/* A listed top-level domain at t followed by a word boundary: its length, or 0. The
 * domains are a-z, so the boundary means a non-word character (or the end) next, and
 * at most one of them can pass: the pattern's order does not matter. */
static Py_ssize_t tld_at(const NormalizerObject *nz, const Buf *b, Py_ssize_t t) {
    for (Py_ssize_t k = 0; k < nz->n_tlds; k++) {
        Py_ssize_t len = nz->tld_len[k];
        if (t + len > b->n || b->c[t] != nz->tlds[k][0]) continue;
        if (memcmp(b->c + t, nz->tlds[k], len * sizeof(Py_UCS4))) continue;
        if (!word_at(b, t + len)) return len;
    }
    return 0;
}

/* _URL at p: the end of its match there, or -1.
 *   (?:(?:https?|hxxps?)://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]
 *   |\b(?:[a-z0-9-]+\.)+TLD\b(?:/[^\s<>"']*[^\s<>"'.,;:!?)\]])?
 * In the second, "." is outside [a-z0-9-], so the groups are the dotted labels from p;
 * the greedy "+" tries the most of them first, and the first count after which a
 * listed domain ends at a boundary wins. ``labels`` has room for b->n entries. */
static Py_ssize_t url_at(const NormalizerObject *nz, const Buf *b, Py_ssize_t p,
                         Py_ssize_t *labels) {
    Py_UCS4 first = b->c[p];
    if (first == 'h' || first == 'w') {
        Py_ssize_t scheme = link_scheme(b, p);
        if (scheme >= 0) {
            Py_ssize_t end = link_path(b, scheme);
            if (end >= 0) return end;
        }
    }
    if (!domain_char(first) || !boundary(b, p)) return -1;
    Py_ssize_t m = 0, x = p;
    for (;;) {
        Py_ssize_t y = x;
        while (y < b->n && domain_char(b->c[y])) y++;
        if (y == x || y >= b->n || b->c[y] != '.') break;
        labels[m++] = x = y + 1;
    }
    for (Py_ssize_t k = m - 1; k >= 0; k--) {
        Py_ssize_t len = tld_at(nz, b, labels[k]);
        if (!len) continue;
        Py_ssize_t end = labels[k] + len;
        if (end < b->n && b->c[end] == '/') {
            Py_ssize_t path = link_path(b, end + 1);
            if (path >= 0) end = path;
        }
        return end;
    }
    return -1;
}

/* _host: the link without ^(?:(?:https?|hxxps?)://)?(?:www\.)?, up to the first of
 * /?#:, without dots at either end; [from, to) of ``b``. */
static void link_host(const Buf *b, Py_ssize_t a, Py_ssize_t z, Py_ssize_t *from,
                      Py_ssize_t *to) {
    Py_ssize_t i = a;
    if (starts_with(b, i, "http") || starts_with(b, i, "hxxp")) {
        if (i + 8 <= z && starts_with(b, i + 4, "s://")) i += 8;
        else if (i + 7 <= z && starts_with(b, i + 4, "://")) i += 7;
    }
    if (i + 4 <= z && starts_with(b, i, "www.")) i += 4;
    Py_ssize_t j = i;
    while (j < z && b->c[j] != '/' && b->c[j] != '?' && b->c[j] != '#' && b->c[j] != ':') j++;
    while (i < j && b->c[i] == '.') i++;
    while (j > i && b->c[j - 1] == '.') j--;
    *from = i;
    *to = j;
}

/* _placeholder_url: " _url_ dom_<host with each run of [^a-z0-9] as one _, trimmed of
 * _> " (or " _url_ " when nothing is left) into ``room`` (the link's length + 12). */
static Py_ssize_t url_placeholder(const Buf *b, Py_ssize_t a, Py_ssize_t z, Py_UCS4 *room) {
    static const char head[] = " _url_ dom_";
    Py_ssize_t from, to, m = 0;
    link_host(b, a, z, &from, &to);
    for (const char *h = head; *h; h++) room[m++] = (Py_UCS4)*h;
    Py_ssize_t token = m;
    int gap = 0;
    for (Py_ssize_t i = from; i < to; i++) {
        Py_UCS4 c = b->c[i];
        if (is_lower(c) || (c >= '0' && c <= '9')) {
            if (gap && m > token) room[m++] = '_';
            gap = 0;
            room[m++] = c;
        } else {
            gap = 1;
        }
    }
    if (m == token) { /* no token: " _url_ " */
        m = 6;
    }
    room[m++] = ' ';
    return m;
}

/* _URL's pass: each link becomes its placeholder; with ``hosts``, each link's host is
 * appended to that list instead and the text is left as it is. */
static int pass_url(const NormalizerObject *nz, const Buf *in, Buf *out, int track,
                    PyObject *hosts) {
    Edit ed;
    edit_open(&ed, in, out, track);
    Py_ssize_t *labels = NULL, room_size = 0;
    Py_UCS4 *room = NULL;
    int status = -1;
    for (Py_ssize_t p = 0; p < in->n;) {
        Py_UCS4 c = in->c[p];
        /* the first alternative starts with h or w, the second at a word boundary */
        if (!domain_char(c) || (c != 'h' && c != 'w' && !boundary(in, p))) {
            p++;
            continue;
        }
        if (!labels && !(labels = PyMem_RawMalloc((in->n + 1) * sizeof(Py_ssize_t))))
            goto done;
        Py_ssize_t end = url_at(nz, in, p, labels);
        if (end < 0) {
            p++;
            continue;
        }
        if (hosts) {
            Py_ssize_t from, to;
            link_host(in, p, end, &from, &to);
            PyObject *host = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, in->c + from,
                                                       to - from);
            if (!host || PyList_Append(hosts, host)) {
                Py_XDECREF(host);
                goto done;
            }
            Py_DECREF(host);
        } else {
            if (end - p + 12 > room_size) {
                room_size = end - p + 12;
                PyMem_RawFree(room);
                if (!(room = PyMem_RawMalloc(room_size * sizeof(Py_UCS4)))) goto done;
            }
            Py_ssize_t m = url_placeholder(in, p, end, room);
            if (edit_replace(&ed, p, end, room, m)) goto done;
        }
        p = end;
    }
    status = edit_close(&ed);
done:
    PyMem_RawFree(labels);
    PyMem_RawFree(room);
    return status;
}

static inline int phone_char(Py_UCS4 c) {
    return is_digit(c) || is_space(c) || c == '(' || c == ')' || c == '.' || c == '-';
}

/* _DATE_LIKE.fullmatch: \d{4}\s*[-/.]\s*\d{1,4}(?:\s*[-/.]\s*\d{1,2})? on c[0:n]. No
 * quantifier here can give back a character another part would take, so one
 * left-to-right reading decides. */
static int date_like(const Py_UCS4 *c, Py_ssize_t n) {
    Py_ssize_t i = 0, k;
    for (k = 0; k < 4; k++, i++)
        if (i >= n || !is_digit(c[i])) return 0;
    for (int part = 0; part < 2; part++) {
        while (i < n && is_space(c[i])) i++;
        if (i >= n || (c[i] != '-' && c[i] != '/' && c[i] != '.')) return 0;
        i++;
        while (i < n && is_space(c[i])) i++;
        Py_ssize_t digits = 0;
        while (i < n && is_digit(c[i])) i++, digits++;
        if (digits < 1 || digits > (part ? 2 : 4)) return 0;
        if (i == n) return 1;
    }
    return 0;
}

/* _PHONE = (?<![\w+])\+?\(?\d[\d\s().-]{6,}\d(?!\w), kept unless it holds 8 to 15
 * digits and is not date-like, then " _phone_ ". After the first digit the greedy
 * class run gives back characters until a digit followed by a non-word character: the
 * match ends at the last such digit at least seven characters on. An optional "+" or
 * "(" that is taken can only be followed by what its absence would also need, so
 * taking it never loses a match. */
static int pass_phone(const NormalizerObject *nz, const Buf *in, Buf *out, int track) {
    Edit ed;
    edit_open(&ed, in, out, track);
    const Py_UCS4 *c = in->c;
    Py_ssize_t n = in->n;
    for (Py_ssize_t p = 0; p < n;) {
        if (!(props(nz, c[p]) & P_PHONE_START)) {
            p++;
            continue;
        }
        if (p > 0 && (is_word(c[p - 1]) || c[p - 1] == '+')) {
            p++;
            continue;
        }
        Py_ssize_t i = p;
        if (c[i] == '+') i++;
        if (i < n && c[i] == '(') i++;
        if (i >= n || !is_digit(c[i])) {
            p++;
            continue;
        }
        Py_ssize_t run = i + 1;
        while (run < n && phone_char(c[run])) run++;
        Py_ssize_t last = -1;
        for (Py_ssize_t d = run - 1; d >= i + 7; d--) {
            if (is_digit(c[d]) && !(d + 1 < n && is_word(c[d + 1]))) {
                last = d;
                break;
            }
        }
        if (last < 0) {
            p++;
            continue;
        }
        Py_ssize_t end = last + 1, digits = 0;
        for (Py_ssize_t k = p; k < end; k++) digits += is_digit(c[k]);
        if (digits >= 8 && digits <= 15 && !date_like(c + p, end - p)) {
            if (edit_replace(&ed, p, end, PHONE, 9)) return -1;
        }
        p = end;
    }
    return edit_close(&ed);
}

/* _SPACED at p (not after a word character, on a-z): the match's end, or -1.
 *   [a-z](?: [a-z]){3,}(?!\w) | [a-z](?:[.\-_*·][a-z]){2,}[.\-_*·]?(?!\w)
 * Each quantifier is tried from the most repeats down, the optional mark taken first. */
static Py_ssize_t spaced_at(const Buf *b, Py_ssize_t p) {
    const Py_UCS4 *c = b->c;
    Py_ssize_t n = b->n, k = 0;
    while (p + 2 * k + 2 < n && c[p + 2 * k + 1] == ' ' && is_lower(c[p + 2 * k + 2])) k++;
    for (; k >= 3; k--) {
        Py_ssize_t end = p + 1 + 2 * k;
        if (!word_at(b, end)) return end;
    }
    k = 0;
    while (p + 2 * k + 2 < n && spacing_mark(c[p + 2 * k + 1]) && is_lower(c[p + 2 * k + 2])) k++;
    for (; k >= 2; k--) {
        Py_ssize_t end = p + 1 + 2 * k;
        if (end < n && spacing_mark(c[end]) && !word_at(b, end + 1)) return end + 1;
        if (!word_at(b, end)) return end;
    }
    return -1;
}

/* _SPACED's pass: a spaced-out word loses its spaces and marks (_unspace). */
static int pass_spaced(const Buf *in, Buf *out, int track) {
    Edit ed;
    edit_open(&ed, in, out, track);
    Py_UCS4 *room = NULL;
    int status = -1;
    for (Py_ssize_t p = 0; p < in->n;) {
        if (!is_lower(in->c[p]) || word_at(in, p - 1)) {
            p++;
            continue;
        }
        Py_ssize_t end = spaced_at(in, p);
        if (end < 0) {
            p++;
            continue;
        }
        if (!room && !(room = PyMem_RawMalloc((in->n + 1) * sizeof(Py_UCS4)))) goto done;
        Py_ssize_t m = 0;
        for (Py_ssize_t i = p; i < end; i++)
            if (in->c[i] != ' ' && !spacing_mark(in->c[i])) room[m++] = in->c[i];
        if (edit_replace(&ed, p, end, room, m)) goto done;
        p = end;
    }
    status = edit_close(&ed);
done:
    PyMem_RawFree(room);
    return status;
}

/* _LEET_RUN = [a-z0-9@$!|€]*[0-9@$!|€][a-z0-9@$!|€]* with _unleet: a match is a whole
 * run of token characters holding a leet character (the star backs off to the run's
 * last one, then runs on), translated when _LEET_INSIDE finds
 * [a-z][0-9@$!|€]+[a-z] in it, or it starts [0-9@$!|€]+[a-z]+[0-9@$!|€]. */
static int pass_leet(const NormalizerObject *nz, const Buf *in, Buf *out, int track) {
    Edit ed;
    edit_open(&ed, in, out, track);
    const Py_UCS4 *c = in->c;
    Py_UCS4 *room = NULL;
    int status = -1;
    for (Py_ssize_t p = 0; p < in->n;) {
        if (!(props(nz, c[p]) & (P_LOWER | P_LEET))) {
            p++;
            continue;
        }
        Py_ssize_t end = p;
        int leet = 0;
        for (; end < in->n && (props(nz, c[end]) & (P_LOWER | P_LEET)); end++)
            leet |= !is_lower(c[end]);
        if (leet) {
            int inside = 0;
            for (Py_ssize_t i = p; i + 2 < end && !inside; i++) {
                if (!is_lower(c[i]) || is_lower(c[i + 1])) continue;
                Py_ssize_t j = i + 1;
                while (j < end && !is_lower(c[j])) j++;
                inside = j < end;
            }
            if (!inside && !is_lower(c[p])) {
                Py_ssize_t j = p;
                while (j < end && !is_lower(c[j])) j++;
                Py_ssize_t k = j;
                while (k < end && is_lower(c[k])) k++;
                inside = k > j && k < end;
            }
            if (inside) {
                if (!room && !(room = PyMem_RawMalloc((in->n + 1) * sizeof(Py_UCS4))))
                    goto done;
                int differs = 0;
                for (Py_ssize_t i = p; i < end; i++) {
                    room[i - p] = unleet(nz, c[i]);
                    differs |= room[i - p] != c[i];
                }
                if (differs && edit_replace(&ed, p, end, room, end - p)) goto done;
            }
        }
        p = end;
    }
    status = edit_close(&ed);
done:
    PyMem_RawFree(room);
    return status;
}

/* _REPEAT = ([^\W\d_]|[!?.*])\1{2,}: a run of three or more of one letter (a word
 * character that is no digit and no "_") or of one of !?.* becomes two of it. Runs
 * are maximal: a scan that found none starts again on the next character. */
static int pass_repeat(const Buf *in, Buf *out, int track) {
    Edit ed;
    edit_open(&ed, in, out, track);
    const Py_UCS4 *c = in->c;
    for (Py_ssize_t p = 0; p < in->n;) {
        Py_ssize_t end = p + 1;
        while (end < in->n && c[end] == c[p]) end++;
        if (end - p >= 3) {
            Py_UCS4 ch = c[p];
            int shortened = ch == '!' || ch == '?' || ch == '.' || ch == '*' ||
                            (is_word(ch) && !is_digit(ch) && ch != '_');
            if (shortened) {
                Py_UCS4 two[2] = {ch, ch};
                if (edit_replace(&ed, p, end, two, 2)) return -1;
            }
        }
        p = end;
    }
    return edit_close(&ed);
}

/* White space folded: words joined by one space, none at either end. A space between
 * two words stands for the whole run of white space it replaced (_SPACE_CHANGES, then
 * _EDGE_SPACE, give each run one span, a lone character its own). */
static int pass_fold(const Buf *in, Buf *out, int track) {
    Edit ed;
    edit_open(&ed, in, out, track);
    Py_UCS4 space = ' ';
    for (Py_ssize_t p = 0; p < in->n;) {
        if (!is_space(in->c[p])) {
            p++;
            continue;
        }
        Py_ssize_t end = p + 1;
        while (end < in->n && is_space(in->c[end])) end++;
        int edge = p == 0 || end == in->n;
        if (edge) {
            if (edit_replace(&ed, p, end, NULL, 0)) return -1;
        } else if (end - p > 1 || in->c[p] != ' ') {
            if (edit_replace(&ed, p, end, &space, 1)) return -1;
        }
        p = end;
    }
    return edit_close(&ed);
}

/* ---------------------------------------------------------------- driving */

/* Conditions that every text a pass would change meets, each a short scan. */

/* _URL: "://", "www." or a dot before a listed (a-z) domain. */
static int may_link(const Buf *b) {
    for (Py_ssize_t i = 0; i + 1 < b->n; i++) {
        Py_UCS4 c = b->c[i];
        if (c == '.' && (is_lower(b->c[i + 1]) || (i >= 3 && starts_with(b, i - 3, "www."))))
            return 1;
        if (c == ':' && starts_with(b, i, "://")) return 1;
    }
    return 0;
}

/* _SPACED: a-z, a space or mark, a-z, a space or mark, not after a word character. */
static int may_be_spaced(const NormalizerObject *nz, const Buf *b) {
    const Py_UCS4 *c = b->c;
    for (Py_ssize_t i = 1; i + 2 < b->n; i++) {
        if ((props(nz, c[i]) & P_SEPARATOR) && is_lower(c[i + 1]) && is_lower(c[i - 1]) &&
            (props(nz, c[i + 2]) & P_SEPARATOR) && !word_at(b, i - 2))
            return 1;
    }
    return 0;
}

/* Leetspeak: a leet character with a-z after it (both _LEET_INSIDE's alternatives
 * end a run of leet characters so). */
static int may_be_leet(const NormalizerObject *nz, const Buf *b) {
    for (Py_ssize_t i = 0; i + 1 < b->n; i++)
        if (is_lower(b->c[i + 1]) && leet_char(nz, b->c[i])) return 1;
    return 0;
}

/* _REPEAT: three equal characters in a row. */
static int may_repeat(const Buf *b) {
    const Py_UCS4 *c = b->c;
    for (Py_ssize_t i = 0; i + 2 < b->n; i++)
        if (c[i] == c[i + 1] && c[i] == c[i + 2]) return 1;
    return 0;
}

/* Folding: white space at either end, other than " ", or two in a row. */
static int may_fold(const Buf *b, unsigned present) {
    if (present & P_OTHER_SPACE) return 1;
    if (!b->n) return 0;
    if (b->c[0] == ' ' || b->c[b->n - 1] == ' ') return 1;
    for (Py_ssize_t i = 0; i + 1 < b->n; i++)
        if (b->c[i] == ' ' && b->c[i + 1] == ' ') return 1;
    return 0;
}

/* Run a pass when ``test`` holds: afterwards ``*cur`` is the current text (``*spare``
 * the other buffer), and if it changed, ``flags`` describes the new one. */
#define PASS(test, call)                              \
    do {                                              \
        if (!(test)) break;                           \
        int changed_ = (call);                        \
        if (changed_ < 0) return -1;                  \
        if (changed_) {                               \
            Buf *swap_ = *cur;                        \
            *cur = *spare;                            \
            *spare = swap_;                           \
            flags = present(nz, *cur);                \
        }                                             \
    } while (0)

enum { UP_TO_EMAIL, ALL, ALL_BUT_FOLD };
/* How a text is lower-cased: by Python's str.lower() (the GIL held), already (an ASCII
 * text, by load()), or by pass_lower_c() (a text that lowers_simply(), no GIL needed). */
enum { LOWER_PYTHON, LOWERED, LOWER_C };

/* The passes of normalize.py after _nfkc, up to ``stage``, lower-casing as ``lowering``
 * says (1, LOWERED, when the text was ASCII: PyUnicode_IS_ASCII() gives it). */
static int run_passes(const NormalizerObject *nz, Buf **cur, Buf **spare, int track, int stage,
                      int lowering) {
    unsigned flags = present(nz, *cur);
    PASS(flags & P_INVISIBLE, pass_invisible(nz, *cur, *spare, track));
    if (lowering != LOWERED) {
        if (lowering == LOWER_C) pass_lower_c(*cur);
        else if (pass_lower(*cur)) return -1;
        pass_homoglyphs(nz, *cur);
    }
    PASS(flags & P_AT, pass_email(*cur, *spare, track));
    if (stage == UP_TO_EMAIL) return 0;
    PASS((flags & P_LINKISH) && may_link(*cur), pass_url(nz, *cur, *spare, track, NULL));
    PASS(flags & P_DIGIT, pass_phone(nz, *cur, *spare, track));
    PASS(may_be_spaced(nz, *cur), pass_spaced(*cur, *spare, track));
    PASS((flags & P_LEET) && may_be_leet(nz, *cur), pass_leet(nz, *cur, *spare, track));
    PASS(may_repeat(*cur), pass_repeat(*cur, *spare, track));
    if (stage == ALL) PASS(may_fold(*cur, flags), pass_fold(*cur, *spare, track));
    return 0;
}

/* ``text`` into ``b`` (and, when tracking, each character's own span or the given
 * ones: int64 buffers of the text's length). An ASCII text is lower-cased on the way
 * in (one character at a time, so before or after removing invisible ones alike). */
static int load(PyObject *text, Buf *b, int track, PyObject *starts, PyObject *ends) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    b->n = 0;
    if (buf_reserve(b, n + 1, track)) return -1;
    if (PyUnicode_IS_ASCII(text)) {
        const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
        for (Py_ssize_t i = 0; i < n; i++) b->c[i] = data[i] + ((unsigned)(data[i] - 'A') < 26u) * ('a' - 'A');
    } else {
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        for (Py_ssize_t i = 0; i < n; i++) b->c[i] = PyUnicode_READ(kind, data, i);
    }
    b->n = n;
    if (!track) return 0;
    if (starts == Py_None || ends == Py_None) {
        for (Py_ssize_t i = 0; i < n; i++) {
            b->s[i] = i;
            b->e[i] = i + 1;
        }
        return 0;
    }
    Py_buffer sv, ev;
    if (PyObject_GetBuffer(starts, &sv, PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (PyObject_GetBuffer(ends, &ev, PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&sv);
        return -1;
    }
    int ok = sv.len == n * 8 && ev.len == n * 8;
    if (ok) {
        const int64_t *s = sv.buf, *e = ev.buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            b->s[i] = (Py_ssize_t)s[i];
            b->e[i] = (Py_ssize_t)e[i];
        }
    } else {
        PyErr_SetString(PyExc_ValueError, "starts and ends must be int64, one per character");
    }
    PyBuffer_Release(&sv);
    PyBuffer_Release(&ev);
    return ok ? 0 : -1;
}

/* The text as a str. Every pass writes characters of its input or ASCII ones, so the
 * output of an ASCII input is ASCII. */
static PyObject *as_str(const Buf *b, int ascii) {
    if (!ascii) return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, b->c, b->n);
    PyObject *out = PyUnicode_New(b->n, 127);
    if (!out) return NULL;
    Py_UCS1 *data = PyUnicode_1BYTE_DATA(out);
    for (Py_ssize_t i = 0; i < b->n; i++) data[i] = (Py_UCS1)b->c[i];
    return out;
}

static PyObject *spans_bytes(const Py_ssize_t *v, Py_ssize_t n) {
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * 8);
    if (!out) return NULL;
    int64_t *w = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) w[i] = (int64_t)v[i];
    return out;
}

static int check(NormalizerObject *self, PyObject *text) {
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Normalizer.__init__ was not called");
        return -1;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return -1;
    }
    return 0;
}

static PyObject *Normalizer_normalize(NormalizerObject *self, PyObject *text) {
    if (check(self, text)) return NULL;
    Buf a = {0}, b = {0}, *cur = &a, *spare = &b;
    PyObject *result = NULL;
    if (!load(text, cur, 0, NULL, NULL) && !run_passes(self, &cur, &spare, 0, ALL, PyUnicode_IS_ASCII(text)))
        result = as_str(cur, PyUnicode_IS_ASCII(text));
    else
        no_memory();
    buf_free(&a);
    buf_free(&b);
    return result;
}

/* Texts' normalised forms, one after another, written with the GIL released. */
typedef struct {
    Py_UCS4 *chars;
    Py_ssize_t used, room;
} Forms;

static int forms_add(Forms *f, const Buf *b) {
    if (f->used + b->n > f->room) {
        Py_ssize_t room = f->room ? f->room : 4096;
        while (room < f->used + b->n) room *= 2;
        Py_UCS4 *grown = PyMem_RawRealloc(f->chars, room * sizeof(Py_UCS4));
        if (!grown) return -1;
        f->chars = grown;
        f->room = room;
    }
    memcpy(f->chars + f->used, b->c, b->n * sizeof(Py_UCS4));
    f->used += b->n;
    return 0;
}

/* A form as a str: ASCII when the text it came from was (every pass writes characters
 * of its input or ASCII ones). */
static PyObject *form_str(const Py_UCS4 *chars, Py_ssize_t n, int ascii) {
    Buf b = {(Py_UCS4 *)chars, NULL, NULL, n, n};
    return as_str(&b, ascii);
}

/* normalize_many(texts, before=None) -> list of str. Every text that needs no Python to
 * be lower-cased (nearly every comment: the ASCII ones, and the others but those with
 * U+0130 or U+03A3) is normalised in one stretch with the GIL released; the others one
 * at a time. A non-ASCII text is given to ``before`` first when it is set
 * (normalize.py's NFKC pass, which an ASCII text never needs). */
static PyObject *Normalizer_normalize_many(NormalizerObject *self, PyObject *args) {
    PyObject *texts, *before = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", &texts, &before)) return NULL;
    if (before != Py_None && !PyCallable_Check(before)) {
        PyErr_SetString(PyExc_TypeError, "before must be callable");
        return NULL;
    }
    PyObject *tuple = PySequence_Tuple(texts), *ready = NULL, *result = NULL;
    if (!tuple) return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(tuple);
    Buf a = {0}, b = {0};
    Forms forms = {0};
    Py_ssize_t *ends = NULL; /* where a text's form ends in forms; -1: normalised later */
    for (Py_ssize_t i = 0; i < count; i++)
        if (check(self, PyTuple_GET_ITEM(tuple, i))) goto done;
    /* Each text as the passes take it: after ``before`` when it is not ASCII. */
    if (!(ready = PyList_New(count))) goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *text = PyTuple_GET_ITEM(tuple, i);
        PyObject *one = PyUnicode_IS_ASCII(text) || before == Py_None
                            ? Py_NewRef(text)
                            : PyObject_CallOneArg(before, text);
        if (!one) goto done;
        PyList_SET_ITEM(ready, i, one);
        if (check(self, one) || PyUnicode_READY(one) < 0) goto done;
    }
    if (!(ends = PyMem_RawMalloc((count + 1) * sizeof(Py_ssize_t)))) {
        PyErr_NoMemory();
        goto done;
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && !failed; i++) {
        PyObject *text = PyList_GET_ITEM(ready, i);
        Buf *cur = &a, *spare = &b;
        ends[i] = -1;
        if (!lowers_simply(text)) continue;
        failed = load(text, cur, 0, NULL, NULL) ||
                 run_passes(self, &cur, &spare, 0, ALL,
                            PyUnicode_IS_ASCII(text) ? LOWERED : LOWER_C) ||
                 forms_add(&forms, cur);
        ends[i] = forms.used;
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    if (!(result = PyList_New(count))) goto done;
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *text = PyList_GET_ITEM(ready, i), *one;
        if (ends[i] >= 0) {
            one = form_str(forms.chars + start, ends[i] - start, PyUnicode_IS_ASCII(text));
            start = ends[i];
        } else {
            Buf *cur = &a, *spare = &b;
            one = load(text, cur, 0, NULL, NULL) ||
                          run_passes(self, &cur, &spare, 0, ALL, LOWER_PYTHON)
                      ? no_memory()
                      : as_str(cur, 0);
        }
        if (!one) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, one);
    }
done:
    buf_free(&a);
    buf_free(&b);
    PyMem_RawFree(forms.chars);
    PyMem_RawFree(ends);
    Py_XDECREF(ready);
    Py_DECREF(tuple);
    return result;
}

/* tracked(text, starts=None, ends=None, fold=True) -> (text, starts, ends) */
static PyObject *Normalizer_tracked(NormalizerObject *self, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"text", "starts", "ends", "fold", NULL};
    PyObject *text, *starts = Py_None, *ends = Py_None;
    int fold = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOp", keywords, &text, &starts, &ends,
                                     &fold))
        return NULL;
    if (check(self, text)) return NULL;
    Buf a = {0}, b = {0}, *cur = &a, *spare = &b;
    PyObject *result = NULL;
    if (!load(text, cur, 1, starts, ends) &&
        !run_passes(self, &cur, &spare, 1, fold ? ALL : ALL_BUT_FOLD,
                    PyUnicode_IS_ASCII(text))) {
        PyObject *t = as_str(cur, PyUnicode_IS_ASCII(text)), *s = spans_bytes(cur->s, cur->n), *e = spans_bytes(cur->e, cur->n);
        if (t && s && e) result = PyTuple_Pack(3, t, s, e);
        Py_XDECREF(t);
        Py_XDECREF(s);
        Py_XDECREF(e);
    } else {
        no_memory();
    }
    buf_free(&a);
    buf_free(&b);
    return result;
}

/* word_spans(text, starts=None, ends=None) -> bytes: for each word of the normalised
 * text, the span of ``text`` it came from (int64 start, end pairs): what
 * normalize.original_word_spans gives for every word. */
static PyObject *Normalizer_word_spans(NormalizerObject *self, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"text", "starts", "ends", NULL};
    PyObject *text, *starts = Py_None, *ends = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OO", keywords, &text, &starts, &ends))
        return NULL;
    if (check(self, text)) return NULL;
    Buf a = {0}, b = {0}, *cur = &a, *spare = &b;
    PyObject *result = NULL;
    if (!load(text, cur, 1, starts, ends) &&
        !run_passes(self, &cur, &spare, 1, ALL, PyUnicode_IS_ASCII(text))) {
        Py_ssize_t words = 0;
        for (Py_ssize_t i = 0; i < cur->n; i++)
            words += cur->c[i] != ' ' && (i == 0 || cur->c[i - 1] == ' ');
        result = PyBytes_FromStringAndSize(NULL, words * 16);
        if (result) {
            int64_t *out = (int64_t *)PyBytes_AS_STRING(result);
            for (Py_ssize_t i = 0; i < cur->n;) { /* folded: one space between words */
                Py_ssize_t j = i;
                while (j < cur->n && cur->c[j] != ' ') j++;
                *out++ = (int64_t)cur->s[i];
                *out++ = (int64_t)cur->e[j - 1];
                i = j + 1;
            }
        }
    } else {
        no_memory();
    }
    buf_free(&a);
    buf_free(&b);
    return result;
}

static PyObject *Normalizer_link_hosts(NormalizerObject *self, PyObject *text) {
    if (check(self, text)) return NULL;
    Buf a = {0}, b = {0}, *cur = &a, *spare = &b;
    PyObject *hosts = PyList_New(0);
    if (hosts && (load(text, cur, 0, NULL, NULL) ||
                  run_passes(self, &cur, &spare, 0, UP_TO_EMAIL, PyUnicode_IS_ASCII(text)) ||
                  (may_link(cur) && pass_url(self, cur, spare, 0, hosts) < 0))) {
        Py_CLEAR(hosts);
        no_memory();
    }
    buf_free(&a);
    buf_free(&b);
    return hosts;
}

static PyMethodDef Normalizer_methods[] = {
    {"normalize", (PyCFunction)Normalizer_normalize, METH_O,
     "normalize(text) -> str: every pass after NFKC, white space folded."},
    {"normalize_many", (PyCFunction)Normalizer_normalize_many, METH_VARARGS,
     "normalize_many(texts, before=None) -> list of str: normalize(text) for each text "
     "(each non-ASCII one given to before(text) first, when set)."},
    {"tracked", (PyCFunction)(void (*)(void))Normalizer_tracked, METH_VARARGS | METH_KEYWORDS,
     "tracked(text, starts=None, ends=None, fold=True) -> (str, bytes, bytes): the passes "
     "with each character's original span (int64 starts and ends)."},
    {"word_spans", (PyCFunction)(void (*)(void))Normalizer_word_spans,
     METH_VARARGS | METH_KEYWORDS,
     "word_spans(text, starts=None, ends=None) -> bytes: each normalised word's original "
     "(start, end), int64."},
    {"link_hosts", (PyCFunction)Normalizer_link_hosts, METH_O,
     "link_hosts(text) -> list of str: the host of each link the URL pass finds."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject NormalizerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "moderation._normalize.Normalizer",
    .tp_doc = "Normalizer(invisible, homoglyphs, leet_class, leet, tlds): normalize.py's "
              "passes after NFKC.",
    .tp_basicsize = sizeof(NormalizerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Normalizer_init,
    .tp_dealloc = (destructor)Normalizer_dealloc,
    .tp_methods = Normalizer_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_normalize",
    "moderation/normalize.py's passes after NFKC, in C.", -1, NULL,
};

/* ---------------------------------------------------------------- the C API */

struct NormalizeScratch {
    Buf a, b;
};

static NormalizeScratch *scratch_new(void) {
    return PyMem_RawCalloc(1, sizeof(NormalizeScratch));
}

static void scratch_free(NormalizeScratch *scratch) {
    if (!scratch) return;
    buf_free(&scratch->a);
    buf_free(&scratch->b);
    PyMem_RawFree(scratch);
}

static int api_normalize(PyObject *normalizer, PyObject *text, NormalizeScratch *scratch,
                         const Py_UCS4 **out, Py_ssize_t *n) {
    Buf *cur = &scratch->a, *spare = &scratch->b;
    if (load(text, cur, 0, NULL, NULL) ||
        run_passes((const NormalizerObject *)normalizer, &cur, &spare, 0, ALL,
                   PyUnicode_IS_ASCII(text) ? LOWERED : LOWER_C))
        return -1;
    *out = cur->c;
    *n = cur->n;
    return 0;
}

static int api_ready(PyObject *obj) {
    return PyObject_TypeCheck(obj, &NormalizerType) && ((NormalizerObject *)obj)->ready;
}

static NormalizeAPI api = {scratch_new, scratch_free, lowers_simply, api_normalize, api_ready};

PyMODINIT_FUNC PyInit__normalize(void) {
    fill_ascii_props();
    if (PyType_Ready(&NormalizerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&NormalizerType);
    if (PyModule_AddObject(m, "Normalizer", (PyObject *)&NormalizerType) < 0) {
        Py_DECREF(&NormalizerType);
        Py_DECREF(m);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(&api, NORMALIZE_API_CAPSULE, NULL);
    if (!capsule || PyModule_AddObject(m, "_C_API", capsule) < 0) {
        Py_XDECREF(capsule);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
