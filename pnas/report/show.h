// Cell diagrams for `pnas show`: a readable text description, Graphviz DOT source, and SVG
// rendered by running Graphviz's `dot -Tsvg` (found on PATH). Library-style: returns statuses
// with a reason in err; printing and exit codes stay in cmd_show.c.
#ifndef PNAS_SHOW_H
#define PNAS_SHOW_H

#include <stddef.h>
#include <stdio.h>

#include "searchspace/cell.h"

// 0 ok, -1 on a write error.
int show_write_text(const space_cell *c, FILE *f);
int show_write_dot(const space_cell *c, FILE *f);
// Renders the DOT of c with Graphviz into out_path (NULL = this process's stdout).
// 0 ok; -1 with err (dot not on PATH, dot failed, cannot start it).
int show_write_svg(const space_cell *c, const char *out_path, char *err, size_t errlen);
// Full path of an executable `name` on PATH into buf; 0 found, -1 not found.
int show_find_on_path(const char *name, char *buf, size_t n);

#endif
