/*
 * The files a command writes (object file, header, weights file, dump -o,
 * run --output-dir), written so that no user file is ever destroyed:
 *
 * - An output may not be a file the command reads (the model, its external
 *   data, --input files) nor another output of the same command.  Files are
 *   compared as files: same device and inode when both exist, the same
 *   resolved path (realpath of the folder + name) when they do not yet, so
 *   `./c.onnx`, `dir/../c.onnx`, symlinks and hard links are all caught.
 *   Such a clash is ST_USAGE (exit 2) before anything is written.
 * - Each output is written to DIR/.onnxc-XXXXXX/NAME beside its final place
 *   (same file system, same base name, which the header quotes for the
 *   weights file) and renamed into place by outputs_commit only when the
 *   whole command succeeded.  An error leaves every existing file as it
 *   was; outputs_free removes the unfinished copies, and so do fatal LLVM
 *   errors and SIGINT/SIGTERM/SIGHUP (outputs_remove_unfinished).
 * - An existing output that is a symlink is followed (the link stays, its
 *   target is replaced); one that is not a regular file (/dev/null, a FIFO)
 *   is written in place, since it cannot be renamed over.
 */
#ifndef ONNXC_DRIVER_OUTPUTS_H
#define ONNXC_DRIVER_OUTPUTS_H

#include <stdbool.h>

#include "../ir/status.h"

typedef struct OutputEntry OutputEntry;

typedef struct Outputs {
  OutputEntry *guarded; /* files the command reads */
  OutputEntry *files;   /* files it writes, in the order added */
} Outputs;

void outputs_init(Outputs *s);
/* `what` names a file the command reads ("the model"); it must outlive s.
 * A path that does not exist guards nothing (its reader reports it).
 * ST_USAGE when an output added earlier is this file. */
Status outputs_guard(Outputs *s, const char *path, const char *what, Error *err);
/* Registers an output; `what` names it in messages ("the header
 * (--header)").  *write_path (owned by s) is where the command writes it
 * until outputs_commit.  ST_USAGE when path is a guarded file or an earlier
 * output, or a folder. */
Status outputs_add(Outputs *s, const char *path, const char *what, const char **write_path,
                   Error *err);
/* A scratch file for making the output written at write_path (the object
 * that --emit=shared links): in the output's private folder, or in $TMPDIR
 * when the output is written in place.  Removed with the unfinished
 * outputs and by outputs_commit.  *scratch_path is owned by s. */
Status outputs_scratch(Outputs *s, const char *write_path, const char *name,
                       const char **scratch_path, Error *err);
/* Renames every output into place (each one atomically). */
Status outputs_commit(Outputs *s, Error *err);
/* Removes what was not committed and frees s. */
void outputs_free(Outputs *s);
/* Async-signal-safe: removes the unfinished outputs of the live Outputs
 * (for a fatal error handler that is about to _exit). */
void outputs_remove_unfinished(void);

#endif
