/*
 * Arena allocator: everything a Graph owns (names, attributes, arrays,
 * constant tensor data) comes from one arena and is released by one
 * arena_destroy().  Small requests are carved from 64 KiB chunks; large ones
 * get a chunk of their own.  Every allocation returns zeroed, 64-byte
 * aligned memory, or NULL when malloc fails or the request exceeds
 * ARENA_MAX_ALLOC (callers turn NULL into ST_NOMEM).
 */
#ifndef ONNXC_IR_ARENA_H
#define ONNXC_IR_ARENA_H

#include <stddef.h>

#define ARENA_ALIGN 64
#define ARENA_MAX_ALLOC ((size_t)1 << 36) /* 64 GiB: anything above is hostile */

typedef struct ArenaChunk ArenaChunk;
typedef struct Arena {
  ArenaChunk *head;   /* chunk currently carved from */
  ArenaChunk *big;    /* list of dedicated large chunks */
  size_t total;       /* bytes obtained from malloc */
} Arena;

Arena *arena_create(void);
void arena_destroy(Arena *a);
void *arena_alloc(Arena *a, size_t n);
/* n * size with overflow check. */
void *arena_calloc(Arena *a, size_t n, size_t size);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
