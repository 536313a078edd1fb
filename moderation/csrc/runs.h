/* Runs: ids found text after text in one growing buffer, with how many each text has:
 * the (lengths, ids) answer of CharTable.ids_texts and WordTable.ids_many. The buffer
 * grows by the raw allocator, which needs no GIL: the texts are looked up with it
 * released. */
#ifndef MODERATION_RUNS_H
#define MODERATION_RUNS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef struct {
    int64_t *lengths; /* ids per text */
    char *items;      /* the ids, ``size`` bytes each */
    Py_ssize_t texts, added, used, room, size;
} Runs;

static inline void runs_close(Runs *r) {
    PyMem_RawFree(r->lengths);
    PyMem_RawFree(r->items);
    r->lengths = NULL;
    r->items = NULL;
}

/* Room for ``texts`` texts' ids of ``size`` bytes; -1 (error set) when out of memory. */
static inline int runs_open(Runs *r, Py_ssize_t texts, Py_ssize_t size) {
    r->texts = texts;
    r->added = r->used = 0;
    r->room = 1024;
    r->size = size;
    r->lengths = PyMem_RawMalloc((texts + 1) * sizeof(int64_t));
    r->items = PyMem_RawMalloc(r->room * size);
    if (!r->lengths || !r->items) {
        runs_close(r);
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Where the next text's ids go, with room for ``most`` of them; NULL when out of memory
 * (no error is set: the GIL may be released). */
static inline void *runs_reserve(Runs *r, Py_ssize_t most) {
    if (r->used + most > r->room) {
        Py_ssize_t room = r->room;
        while (r->used + most > room) room *= 2;
        char *grown = PyMem_RawRealloc(r->items, room * r->size);
        if (!grown) return NULL;
        r->items = grown;
        r->room = room;
    }
    return r->items + r->used * r->size;
}

/* The next text wrote ``count`` ids where runs_reserve said. */
static inline void runs_add(Runs *r, Py_ssize_t count) {
    r->lengths[r->added++] = count;
    r->used += count;
}

/* (lengths, ids) as bytes: int64 lengths, ids of ``size`` bytes. */
static inline PyObject *runs_result(const Runs *r) {
    return Py_BuildValue("(y#y#)", (const char *)r->lengths,
                         (Py_ssize_t)(r->added * sizeof(int64_t)), r->items,
                         r->used * r->size);
}

#endif
