/*
 * cli.h - the edgewatt command line: main.c dispatches `edgewatt <verb>` to cmd_<verb>().
 * Each verb parses its own flags, calls the library, prints results; on error it prints one
 * line "edgewatt <verb>: <message>" to stderr and returns 1. Verbs never call exit().
 */
#ifndef EW_CLI_H
#define EW_CLI_H

#include "edgewatt.h"

int cmd_run(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Print "edgewatt <verb>: <fmt...>" to stderr; returns 1 (the exit code for errors). */
int cli_fail(const char *verb, const char *fmt, ...);
/* Parse an integer/float flag value; on error print a message naming the flag, return false. */
bool cli_parse_int(const char *verb, const char *flag, const char *s, long lo, long hi, long *out);
bool cli_parse_float(const char *verb, const char *flag, const char *s, double *out);

#endif
