/* moderation._textstats: the numbers the length, shouting and gibberish checks judge a
 * comment's content by, from one scan of it (moderation/text_checks.py has the Python
 * forms they replace, which stay the fallback and the tests' reference).
 *
 * stats(text, run) -> (length, upper, cased, run_length, run_char):
 *   length      len(fold_line_endings(text).strip()): the characters from the first to
 *               the last that is not white space, a CRLF among them counting as one
 *               (folding and trimming touch white space only, so the counts below are
 *               the same on the folded, trimmed text);
 *   upper       characters for which str.isupper() holds;
 *   cased       those plus the ones for which str.islower() holds;
 *   run_length  the length of the first run of ``run`` or more of one character that
 *               is not white space: what re.search(r"(\S)\1{run-1,}") matches (the
 *               leftmost start is a run's first character, and the greedy repeat takes
 *               the whole run); 0 when there is none;
 *   run_char    that character ("" when there is none).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    Py_ssize_t first, last, crlf, upper, cased, run_length, run_start;
    Py_UCS4 run_char, previous;
    int previous_space;
} Figures;

/* One character at i (``limit``: the shortest run that counts). */
static inline void take(Figures *f, Py_UCS4 c, Py_ssize_t i, Py_ssize_t limit) {
    int space;
    if (c < 128) {
        space = c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
        f->upper += c - 'A' < 26u;
        f->cased += (c | 0x20) - 'a' < 26u;
    } else {
        space = Py_UNICODE_ISSPACE(c);
        int up = Py_UNICODE_ISUPPER(c);
        f->upper += up;
        f->cased += up || Py_UNICODE_ISLOWER(c);
    }
    if (!space) {
        if (f->first < 0) f->first = i;
        f->last = i;
    } else if (c == '\n' && f->previous == '\r' && f->first >= 0) {
        f->crlf++; /* inside the trimmed stretch unless it ends before: see stats() */
    }
    if (i && c != f->previous) { /* the run before i ended */
        if (!f->run_length && !f->previous_space && i - f->run_start >= limit) {
            f->run_length = i - f->run_start;
            f->run_char = f->previous;
        }
        f->run_start = i;
    }
    f->previous = c;
    f->previous_space = space;
}

#define SCAN(type)                                                        \
    do {                                                                  \
        const type *chars = data;                                         \
        for (Py_ssize_t i = 0; i < n; i++) take(&f, chars[i], i, limit);  \
    } while (0)

static PyObject *stats(PyObject *module, PyObject *args) {
    PyObject *text;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "Un", &text, &limit)) return NULL;
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "run must be at least 1");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    Figures f = {.first = -1, .last = -1};
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: SCAN(Py_UCS1); break;
    case PyUnicode_2BYTE_KIND: SCAN(Py_UCS2); break;
    default: SCAN(Py_UCS4); break;
    }
    if (!f.run_length && n && !f.previous_space && n - f.run_start >= limit) {
        f.run_length = n - f.run_start; /* the last run */
        f.run_char = f.previous;
    }
    /* A CRLF after the last non-space character was counted, but lies outside. */
    int kind = PyUnicode_KIND(text);
    for (Py_ssize_t i = f.last + 1; f.last >= 0 && i + 1 < n; i++)
        f.crlf -= PyUnicode_READ(kind, data, i) == '\r' && PyUnicode_READ(kind, data, i + 1) == '\n';
    Py_ssize_t length = f.first < 0 ? 0 : f.last - f.first + 1 - f.crlf;
    PyObject *chr = f.run_length ? PyUnicode_FromOrdinal((int)f.run_char) : PyUnicode_New(0, 0);
    if (!chr) return NULL;
    return Py_BuildValue("(nnnnN)", length, f.upper, f.cased, f.run_length, chr);
}

static PyMethodDef methods[] = {
    {"stats", stats, METH_VARARGS,
     "stats(text, run) -> (length, upper, cased, run_length, run_char): the length, case "
     "and repeated-character figures the text checks use."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_textstats",
    "The figures of a comment's content the length, shouting and gibberish checks use.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__textstats(void) { return PyModule_Create(&module); }
