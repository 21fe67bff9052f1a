/* Chunked bump allocator; see arena.h. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE ((size_t)64 * 1024)

struct ArenaChunk {
  ArenaChunk *next;
  size_t used, cap;
  unsigned char *base; /* ARENA_ALIGN-aligned start of the usable bytes */
};

static ArenaChunk *chunk_new(size_t cap) {
  size_t header = (sizeof(ArenaChunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (cap > SIZE_MAX - header - ARENA_ALIGN) return NULL;
  unsigned char *raw = malloc(header + cap + ARENA_ALIGN);
  if (!raw) return NULL;
  ArenaChunk *c = (ArenaChunk *)raw;
  uintptr_t p = (uintptr_t)(raw + header);
  p = (p + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
  c->base = (unsigned char *)p;
  c->used = 0;
  c->cap = cap;
  c->next = NULL;
  return c;
}

Arena *arena_create(void) { return calloc(1, sizeof(Arena)); }

static void free_list(ArenaChunk *c) {
  while (c) {
    ArenaChunk *n = c->next;
    free(c);
    c = n;
  }
}

void arena_destroy(Arena *a) {
  if (!a) return;
  free_list(a->head);
  free_list(a->big);
  free(a);
}

void *arena_alloc(Arena *a, size_t n) {
  if (!a || n > ARENA_MAX_ALLOC) return NULL;
  if (n == 0) n = 1;
  size_t rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (rounded > CHUNK_SIZE / 4) {
    ArenaChunk *c = chunk_new(rounded);
    if (!c) return NULL;
    c->next = a->big;
    a->big = c;
    a->total += rounded;
    memset(c->base, 0, rounded);
    return c->base;
  }
  if (!a->head || a->head->used + rounded > a->head->cap) {
    ArenaChunk *c = chunk_new(CHUNK_SIZE);
    if (!c) return NULL;
    c->next = a->head;
    a->head = c;
    a->total += CHUNK_SIZE;
  }
  void *p = a->head->base + a->head->used;
  a->head->used += rounded;
  memset(p, 0, rounded);
  return p;
}

void *arena_calloc(Arena *a, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  return arena_alloc(a, n * size);
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
  if (!s) s = "";
  size_t len = strnlen(s, n);
  char *d = arena_alloc(a, len + 1);
  if (!d) return NULL;
  memcpy(d, s, len);
  d[len] = 0;
  return d;
}

char *arena_strdup(Arena *a, const char *s) {
  return arena_strndup(a, s, SIZE_MAX);
}

char *arena_printf(Arena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = NULL;
  if (n >= 0 && (d = arena_alloc(a, (size_t)n + 1))) vsnprintf(d, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return d;
}
