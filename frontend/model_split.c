/*
 * ModelProto unpacking that never holds a model's weights twice.
 *
 * protobuf-c copies every bytes field out of the buffer it parses, so
 * parsing a whole single-file model held its bytes twice (the file and the
 * message: ViT-B/16 peaked at 2.1 x its weights right there).  Here the
 * wire format is walked first: every field but the graph's initializers is
 * copied to a small "skeleton" buffer, which protobuf-c unpacks, and then
 * each initializer (nearly all of a model's bytes) is read and unpacked on
 * its own and attached to the graph, as protobuf-c would have.  Anything
 * unusual for an exporter to write (the graph field twice, groups) is
 * unpacked the plain way instead.  Malformed input is found by the walk or
 * by protobuf-c, never trusted: every length is checked against its
 * enclosing message.
 */
#include "fe_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define MODEL_GRAPH_FIELD 7        /* ModelProto.graph */
#define GRAPH_INITIALIZER_FIELD 5  /* GraphProto.initializer */
#define WIRE_VARINT 0
#define WIRE_FIXED64 1
#define WIRE_BYTES 2
#define WIRE_FIXED32 5

typedef struct ByteBuf {
  uint8_t *p;
  size_t len, cap;
} ByteBuf;

typedef struct Span {
  uint64_t off, len;
} Span;

typedef struct Walk {
  const FeBytes *src;
  uint64_t pos;
  uint8_t window[1 << 16]; /* file bytes [window_off, window_off + window_len) */
  uint64_t window_off;
  size_t window_len;
  Status st;               /* first failure: ST_PARSE, ST_IO, ST_NOMEM, or ST_UNSUPPORTED to decline */
} Walk;

static bool fail(Walk *w, Status st) {
  if (w->st == ST_OK) w->st = st;
  return false;
}

static bool read_at(const FeBytes *b, uint64_t off, void *dst, size_t n) {
  if (off > b->size || n > b->size - off) return false;
  if (b->mem) {
    memcpy(dst, b->mem + off, n);
    return true;
  }
  for (size_t done = 0; done < n;) {
    ssize_t k = pread(b->fd, (uint8_t *)dst + done, n - done, (off_t)(off + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    done += (size_t)k;
  }
  return true;
}

static bool next_byte(Walk *w, uint64_t end, uint8_t *out) {
  if (w->pos >= end) return fail(w, ST_PARSE);
  if (w->src->mem) {
    *out = w->src->mem[w->pos++];
    return true;
  }
  if (w->pos < w->window_off || w->pos >= w->window_off + w->window_len) {
    uint64_t left = w->src->size - w->pos;
    size_t n = left < sizeof w->window ? (size_t)left : sizeof w->window;
    if (!read_at(w->src, w->pos, w->window, n)) return fail(w, ST_IO);
    w->window_off = w->pos;
    w->window_len = n;
  }
  *out = w->window[w->pos++ - w->window_off];
  return true;
}

static bool varint(Walk *w, uint64_t end, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t byte;
    if (!next_byte(w, end, &byte)) return false;
    *v |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return fail(w, ST_PARSE);
}

static bool reserve(ByteBuf *b, size_t more) {
  if (more <= b->cap - b->len) return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - b->len < more) {
    if (cap > SIZE_MAX / 2) return false;
    cap *= 2;
  }
  uint8_t *p = realloc(b->p, cap);
  if (!p) return false;
  b->p = p;
  b->cap = cap;
  return true;
}

static bool put_varint(ByteBuf *b, uint64_t v) {
  if (!reserve(b, 10)) return false;
  do {
    b->p[b->len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return true;
}

static bool copy_bytes(Walk *w, ByteBuf *dst, uint64_t off, uint64_t n) {
  if (n > SIZE_MAX || !reserve(dst, (size_t)n)) return fail(w, ST_NOMEM);
  if (!read_at(w->src, off, dst->p + dst->len, (size_t)n)) return fail(w, ST_IO);
  dst->len += (size_t)n;
  return true;
}

/* Reads one field's tag; *payload_len is set for length-delimited fields,
 * and the walk is left at the payload. */
static bool field_head(Walk *w, uint64_t end, uint64_t *field, int *wire, uint64_t *payload_len) {
  uint64_t tag;
  if (!varint(w, end, &tag)) return false;
  *field = tag >> 3;
  *wire = (int)(tag & 7);
  *payload_len = 0;
  switch (*wire) {
  case WIRE_VARINT: {
    uint64_t ignored;
    return varint(w, end, &ignored);
  }
  case WIRE_FIXED64:
  case WIRE_FIXED32: {
    uint64_t n = *wire == WIRE_FIXED64 ? 8 : 4;
    if (end - w->pos < n) return fail(w, ST_PARSE);
    w->pos += n;
    return true;
  }
  case WIRE_BYTES:
    if (!varint(w, end, payload_len)) return false;
    if (*payload_len > end - w->pos) return fail(w, ST_PARSE);
    return true;
  default: /* groups (deprecated) or invalid */
    return fail(w, ST_UNSUPPORTED);
  }
}

/* The graph's fields but its initializers go to skel; the initializers'
 * places go to inits. */
static bool split_graph(Walk *w, uint64_t end, ByteBuf *skel, Span **inits, size_t *num_inits) {
  size_t cap = 0;
  while (w->pos < end) {
    uint64_t start = w->pos, field, len;
    int wire;
    if (!field_head(w, end, &field, &wire, &len)) return false;
    if (field == GRAPH_INITIALIZER_FIELD && wire == WIRE_BYTES) {
      if (*num_inits == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        Span *n = realloc(*inits, ncap * sizeof *n);
        if (!n) return fail(w, ST_NOMEM);
        *inits = n;
        cap = ncap;
      }
      (*inits)[(*num_inits)++] = (Span){w->pos, len};
    } else if (!copy_bytes(w, skel, start, w->pos + len - start)) {
      return false;
    }
    w->pos += len;
  }
  return true;
}

static bool split_model(Walk *w, ByteBuf *skel, Span **inits, size_t *num_inits) {
  bool seen_graph = false;
  ByteBuf graph = {0};
  while (w->pos < w->src->size) {
    uint64_t start = w->pos, field, len;
    int wire;
    if (!field_head(w, w->src->size, &field, &wire, &len)) break;
    if (field == MODEL_GRAPH_FIELD && wire == WIRE_BYTES) {
      /* A second graph field would merge with the first: rare, declined. */
      if (seen_graph) {
        fail(w, ST_UNSUPPORTED);
        break;
      }
      seen_graph = true;
      uint64_t graph_end = w->pos + len;
      if (!split_graph(w, graph_end, &graph, inits, num_inits)) break;
      if (!put_varint(skel, (MODEL_GRAPH_FIELD << 3) | WIRE_BYTES) || !put_varint(skel, graph.len) ||
          !reserve(skel, graph.len)) {
        fail(w, ST_NOMEM);
        break;
      }
      if (graph.len) memcpy(skel->p + skel->len, graph.p, graph.len);
      skel->len += graph.len;
    } else {
      if (!copy_bytes(w, skel, start, w->pos + len - start)) break;
      w->pos += len;
    }
  }
  free(graph.p);
  return w->st == ST_OK;
}

static Status attach_initializers(const FeBytes *src, Onnx__GraphProto *gp, const Span *inits,
                                  size_t n) {
  gp->initializer = calloc(n, sizeof *gp->initializer);
  if (!gp->initializer) return ST_NOMEM;
  uint64_t biggest = 0;
  for (size_t i = 0; i < n; i++)
    if (inits[i].len > biggest) biggest = inits[i].len;
  uint8_t *buf = malloc(biggest ? (size_t)biggest : 1);
  if (!buf) return ST_NOMEM;
  Status st = ST_OK;
  for (size_t i = 0; i < n && st == ST_OK; i++) {
    if (!read_at(src, inits[i].off, buf, (size_t)inits[i].len)) st = ST_IO;
    else if (!(gp->initializer[i] = onnx__tensor_proto__unpack(NULL, (size_t)inits[i].len, buf)))
      st = ST_PARSE;
    else gp->n_initializer = i + 1;
  }
  free(buf);
  return st;
}

static Status unpack_whole(const FeBytes *src, Onnx__ModelProto **out) {
  if (src->mem) {
    *out = onnx__model_proto__unpack(NULL, src->size, src->mem);
    return *out ? ST_OK : ST_PARSE;
  }
  uint8_t *buf = malloc(src->size ? src->size : 1);
  if (!buf) return ST_NOMEM;
  Status st = read_at(src, 0, buf, src->size) ? ST_OK : ST_IO;
  if (st == ST_OK && !(*out = onnx__model_proto__unpack(NULL, src->size, buf))) st = ST_PARSE;
  free(buf);
  return st;
}

Status fe_unpack_model(const FeBytes *src, Onnx__ModelProto **out) {
  *out = NULL;
  Walk *w = calloc(1, sizeof *w);
  if (!w) return ST_NOMEM;
  w->src = src;
  ByteBuf skel = {0};
  Span *inits = NULL;
  size_t num_inits = 0;
  bool split = split_model(w, &skel, &inits, &num_inits);
  Status st = w->st;
  free(w);
  if (split && num_inits == 0) st = ST_UNSUPPORTED; /* nothing to gain */
  if (split && st == ST_OK) {
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, skel.len, skel.p ? skel.p : (uint8_t *)"");
    free(skel.p);
    skel.p = NULL;
    if (!m || !m->graph) st = ST_PARSE;
    else st = attach_initializers(src, m->graph, inits, num_inits);
    if (st == ST_OK) *out = m;
    else if (m) onnx__model_proto__free_unpacked(m, NULL);
  }
  free(skel.p);
  free(inits);
  if (st == ST_UNSUPPORTED) st = unpack_whole(src, out);
  return st;
}
