/* The n-gram table types of moderation._ngrams (char_table.c, word_table.c). */
#ifndef MODERATION_TABLES_H
#define MODERATION_TABLES_H

#include <Python.h>

extern PyTypeObject CharTableType;
extern PyTypeObject WordTableType;

#endif
