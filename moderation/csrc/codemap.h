/* Integer codes (each > 0) to int32 ids in an open-addressing hash table, shared by the
 * n-gram tables: a char_wb n-gram spelled in its alphabet's indices, a word bigram as
 * its tokens' numbers. */
#ifndef MODERATION_CODEMAP_H
#define MODERATION_CODEMAP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A key and its id side by side: a look-up reads one cache line, not two. */
typedef struct {
    uint64_t key; /* 0 marks an empty slot */
    int32_t value;
} CodeSlot;

typedef struct {
    CodeSlot *slots;
    uint64_t mask;
    int shift;
} CodeMap;

static inline uint64_t mix(uint64_t key) { return key * 0x9E3779B97F4A7C15ULL; }

static inline int32_t codemap_get(const CodeMap *m, uint64_t key) {
    uint64_t at = mix(key) >> m->shift;
    for (;;) {
        const CodeSlot *slot = &m->slots[at];
        if (slot->key == key) return slot->value;
        if (slot->key == 0) return -1;
        at = (at + 1) & m->mask;
    }
}

/* Ask for ``key``'s slot ahead of codemap_get: a table of megabytes misses the cache on
 * most look-ups, and several misses in flight cost little more than one. */
static inline void codemap_prefetch(const CodeMap *m, uint64_t key) {
    __builtin_prefetch(&m->slots[mix(key) >> m->shift]);
}

/* Zeroed room for a table of megabytes that is read at random: in 2 MiB pages where the
 * kernel grants them (transparent huge pages on request), since with 4 KiB pages most
 * look-ups of such a table also miss the TLB. Freed by table_free(). NULL when out of
 * memory (no error set). */
static inline void *table_calloc(size_t count, size_t size) {
    size_t bytes = count * size;
    if (size && bytes / size != count) return NULL;
#ifdef MADV_HUGEPAGE
    size_t huge = (size_t)2 << 20;
    if (bytes >= huge) {
        size_t rounded = (bytes + huge - 1) / huge * huge;
        void *room = NULL;
        if (posix_memalign(&room, huge, rounded)) return NULL;
        madvise(room, rounded, MADV_HUGEPAGE); /* a hint: refused, the table still works */
        memset(room, 0, rounded);
        return room;
    }
#endif
    return calloc(count ? count : 1, size ? size : 1);
}

static inline void table_free(void *room) { free(room); }

static inline void codemap_free(CodeMap *m) {
    table_free(m->slots);
    m->slots = NULL;
}

/* Fill ``m`` from int64 buffers of codes (each > 0) and ids (0..INT32_MAX). */
static inline int codemap_fill(CodeMap *m, const Py_buffer *codes, const Py_buffer *ids) {
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
    m->slots = table_calloc(capacity, sizeof(CodeSlot));
    if (!m->slots) {
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
        while (m->slots[at].key != 0 && m->slots[at].key != (uint64_t)code[i])
            at = (at + 1) & m->mask;
        m->slots[at].key = (uint64_t)code[i];
        m->slots[at].value = (int32_t)id[i];
    }
    return 0;
}

#endif
