/*
 * Name -> Value map for one graph or one inlined function body.  Open
 * addressing with linear probing; keys are borrowed from the protobuf,
 * which outlives the walk.  Names can arrive before their definition
 * (out-of-order or dangling references), hence SymEntry.defined.
 */
#include <stdlib.h>
#include <string.h>

#include "fe_internal.h"

static size_t hash_str(const char *s) {
  size_t h = 1469598103934665603u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

void symtab_free(SymTab *t) {
  free(t->slots);
  t->slots = NULL;
  t->cap = t->count = 0;
}

SymEntry *symtab_find(const SymTab *t, const char *key) {
  if (!t->cap) return NULL;
  size_t i = hash_str(key) & (t->cap - 1);
  while (t->slots[i].key) {
    if (strcmp(t->slots[i].key, key) == 0) return &t->slots[i];
    i = (i + 1) & (t->cap - 1);
  }
  return NULL;
}

static bool grow(SymTab *t) {
  size_t ncap = t->cap ? t->cap * 2 : 64;
  SymEntry *ns = calloc(ncap, sizeof *ns);
  if (!ns) return false;
  for (size_t k = 0; k < t->cap; k++) {
    if (!t->slots[k].key) continue;
    size_t i = hash_str(t->slots[k].key) & (ncap - 1);
    while (ns[i].key) i = (i + 1) & (ncap - 1);
    ns[i] = t->slots[k];
  }
  free(t->slots);
  t->slots = ns;
  t->cap = ncap;
  return true;
}

SymEntry *symtab_put(SymTab *t, const char *key, Value *v, bool defined) {
  SymEntry *e = symtab_find(t, key);
  if (!e) {
    if ((t->count + 1) * 2 > t->cap && !grow(t)) return NULL;
    size_t i = hash_str(key) & (t->cap - 1);
    while (t->slots[i].key) i = (i + 1) & (t->cap - 1);
    e = &t->slots[i];
    e->key = key;
    t->count++;
  }
  e->v = v;
  e->defined = defined;
  return e;
}
