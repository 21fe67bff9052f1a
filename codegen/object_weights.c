/* Embedded weights written over the object's zero fill; see object_weights.h. */
#include "object_weights.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The object's own tables are small; a corrupt header must not make us
 * allocate gigabytes. */
#define MAX_TABLE_BYTES ((size_t)1 << 30)

bool cg_object_is_elf64le(const char *triple) {
  static const char *const not_elf[] = {"apple", "darwin", "macos", "ios", "windows",
                                        "win32", "mingw", "msvc", "cygwin", "wasm"};
  if (!triple || (strncmp(triple, "x86_64-", 7) != 0 && strncmp(triple, "aarch64-", 8) != 0))
    return false;
  for (size_t i = 0; i < sizeof not_elf / sizeof not_elf[0]; i++)
    if (strstr(triple, not_elf[i])) return false;
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1; /* the tables are read as host structs */
}

static bool is_weight_name(const char *name) {
  return strncmp(name, "onnxc.weight.", 13) == 0 || strncmp(name, "onnxc.wblob.", 12) == 0;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const CgDeferredGlobal *)a)->name, ((const CgDeferredGlobal *)b)->name);
}

void cg_deferred_weights_free(CgDeferredWeights *w) {
  if (!w) return;
  for (int i = 0; i < w->count; i++) free(w->items[i].name);
  free(w->items);
  memset(w, 0, sizeof *w);
}

Status cg_defer_weight_data(LLVMModuleRef mod, size_t min_bytes, CgDeferredWeights *out,
                            Error *err) {
  memset(out, 0, sizeof *out);
  int cap = 0;
  for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g)) {
    size_t name_len;
    const char *name = LLVMGetValueName2(g, &name_len);
    LLVMValueRef init = LLVMGetInitializer(g);
    if (!name || !is_weight_name(name) || !init || !LLVMIsGlobalConstant(g) ||
        !LLVMIsAConstantDataSequential(init))
      continue;
    size_t len;
    const char *bytes = LLVMGetAsString(init, &len);
    if (len < min_bytes) continue;
    if (out->count == cap) {
      int ncap = cap ? cap * 2 : 256;
      CgDeferredGlobal *n = realloc(out->items, (size_t)ncap * sizeof *n);
      if (!n) goto nomem;
      out->items = n;
      cap = ncap;
    }
    CgDeferredGlobal *d = &out->items[out->count];
    if (!(d->name = strndup(name, name_len))) goto nomem;
    d->bytes = bytes;
    d->len = len;
    out->count++;
    out->bytes += len;
    /* The old initializer stays alive in the context: d->bytes points into it. */
    LLVMSetInitializer(g, LLVMConstNull(LLVMTypeOf(init)));
    LLVMSetExternallyInitialized(g, 1);
    /* Private globals have no symbol in the object; internal ones have a
     * local one, which never clashes with another object's. */
    LLVMSetLinkage(g, LLVMInternalLinkage);
  }
  if (out->count > 1) qsort(out->items, (size_t)out->count, sizeof *out->items, cmp_name);
  return ST_OK;
nomem:
  cg_deferred_weights_free(out);
  return err_set(err, ST_NOMEM, "out of memory");
}

static bool read_at(int fd, void *dst, size_t n, uint64_t off) {
  for (size_t done = 0; done < n;) {
    ssize_t k = pread(fd, (char *)dst + done, n - done, (off_t)(off + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    done += (size_t)k;
  }
  return true;
}

static bool write_at(int fd, const void *src, size_t n, uint64_t off) {
  for (size_t done = 0; done < n;) {
    size_t chunk = n - done < ((size_t)1 << 30) ? n - done : (size_t)1 << 30;
    ssize_t k = pwrite(fd, (const char *)src + done, chunk, (off_t)(off + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    done += (size_t)k;
  }
  return true;
}

/* A table of the object (sections, symbols, names), read whole. */
static void *read_table(int fd, uint64_t off, uint64_t size, uint64_t file_size) {
  if (size == 0 || size > MAX_TABLE_BYTES || off > file_size || size > file_size - off) return NULL;
  void *p = malloc((size_t)size);
  if (p && !read_at(fd, p, (size_t)size, off)) {
    free(p);
    return NULL;
  }
  return p;
}

typedef struct Object {
  int fd;
  uint64_t size;
  Elf64_Shdr *sh;
  uint64_t num_sh;
  Elf64_Sym *sym;
  uint64_t num_sym;
  char *names;
  uint64_t names_size;
  Elf32_Word *sym_shndx; /* SHT_SYMTAB_SHNDX, when there are that many sections */
} Object;

static const char *open_tables(Object *o) {
  Elf64_Ehdr eh;
  if (!read_at(o->fd, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_shentsize != sizeof(Elf64_Shdr))
    return "not an ELF64 little-endian object";
  o->num_sh = eh.e_shnum;
  if (o->num_sh == 0) { /* extended numbering: the count is in section 0 */
    Elf64_Shdr first;
    if (!read_at(o->fd, &first, sizeof first, eh.e_shoff)) return "truncated section table";
    o->num_sh = first.sh_size;
  }
  if (o->num_sh > MAX_TABLE_BYTES / sizeof(Elf64_Shdr)) return "corrupt section table";
  if (!(o->sh = read_table(o->fd, eh.e_shoff, o->num_sh * sizeof(Elf64_Shdr), o->size)))
    return "cannot read the section table";
  for (uint64_t i = 0; i < o->num_sh; i++) {
    const Elf64_Shdr *s = &o->sh[i];
    if (s->sh_type == SHT_SYMTAB) {
      if (o->sym || s->sh_link >= o->num_sh || s->sh_entsize != sizeof(Elf64_Sym))
        return "unexpected symbol table";
      o->num_sym = s->sh_size / sizeof(Elf64_Sym);
      const Elf64_Shdr *str = &o->sh[s->sh_link];
      if (!(o->sym = read_table(o->fd, s->sh_offset, s->sh_size, o->size)) ||
          !(o->names = read_table(o->fd, str->sh_offset, str->sh_size, o->size)))
        return "cannot read the symbol table";
      o->names_size = str->sh_size;
    } else if (s->sh_type == SHT_SYMTAB_SHNDX) {
      if (!(o->sym_shndx = read_table(o->fd, s->sh_offset, s->sh_size, o->size)))
        return "cannot read the extended section indices";
    }
  }
  return o->sym ? NULL : "no symbol table";
}

static const char *symbol_name(const Object *o, const Elf64_Sym *s) {
  if (s->st_name >= o->names_size || !memchr(o->names + s->st_name, 0, o->names_size - s->st_name))
    return NULL;
  return o->names + s->st_name;
}

static uint64_t symbol_section(const Object *o, uint64_t i) {
  uint64_t k = o->sym[i].st_shndx;
  if (k == SHN_XINDEX) k = o->sym_shndx ? o->sym_shndx[i] : 0;
  return k;
}

Status cg_write_deferred_weights(const char *path, const CgDeferredWeights *w, Error *err) {
  if (w->count == 0) return ST_OK;
  Object o = {.fd = open(path, O_RDWR | O_CLOEXEC)};
  const char *why = NULL;
  bool *written = calloc((size_t)w->count, sizeof *written);
  if (!written) why = "out of memory";
  else if (o.fd < 0) why = strerror(errno);
  else {
    off_t end = lseek(o.fd, 0, SEEK_END);
    o.size = end < 0 ? 0 : (uint64_t)end;
    why = open_tables(&o);
  }
  int done = 0;
  for (uint64_t i = 0; !why && i < o.num_sym; i++) {
    const char *name = symbol_name(&o, &o.sym[i]);
    if (!name || !is_weight_name(name)) continue;
    CgDeferredGlobal key = {.name = (char *)name};
    const CgDeferredGlobal *d = bsearch(&key, w->items, (size_t)w->count, sizeof key, cmp_name);
    if (!d) continue;
    uint64_t k = symbol_section(&o, i);
    const Elf64_Shdr *s = k > 0 && k < o.num_sh ? &o.sh[k] : NULL;
    uint64_t at = o.sym[i].st_value;
    if (!s || s->sh_type != SHT_PROGBITS || o.sym[i].st_size != d->len || at > s->sh_size ||
        d->len > s->sh_size - at || s->sh_offset > o.size || s->sh_size > o.size - s->sh_offset)
      why = "a weight's symbol does not describe its data";
    else if (written[d - w->items]) why = "a weight's symbol appears twice";
    else if (!write_at(o.fd, d->bytes, d->len, s->sh_offset + at)) why = strerror(errno ? errno : EIO);
    else {
      written[d - w->items] = true;
      done++;
    }
  }
  if (!why && done != w->count) why = "a weight's symbol is missing";
  if (o.fd >= 0 && close(o.fd) != 0 && !why) why = strerror(errno);
  free(o.sh);
  free(o.sym);
  free(o.names);
  free(o.sym_shndx);
  free(written);
  if (why) return err_set(err, ST_IO, "%s: cannot write the embedded weights: %s", path, why);
  return ST_OK;
}
