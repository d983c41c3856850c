/* status.c - status names and the per-thread last-error message. */
#include "core.h"
#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[1024];

const char *ew_status_name(ew_status s) {
    switch (s) {
    case EW_OK: return "ok";
    case EW_ERR_INVALID_ARG: return "invalid argument";
    case EW_ERR_IO: return "i/o error";
    case EW_ERR_FORMAT: return "format error";
    case EW_ERR_UNSUPPORTED: return "unsupported";
    case EW_ERR_NOMEM: return "out of memory";
    case EW_ERR_RANGE: return "out of range";
    case EW_ERR_NOT_FOUND: return "not found";
    case EW_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *ew_last_error(void) { return g_msg; }

void ew_clear_error(void) { g_msg[0] = 0; }

ew_status ew_error(ew_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return s;
}

ew_status ew_error_prefix(ew_status s, const char *fmt, ...) {
    char prefix[512], old[sizeof g_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    /* truncation of an over-long message is acceptable; keep the compiler quiet about it */
    size_t n = strlen(prefix);
    if (n > sizeof g_msg - 3) n = sizeof g_msg - 3;
    memcpy(g_msg, prefix, n);
    memcpy(g_msg + n, ": ", 2);
    size_t rest = strlen(old);
    if (rest > sizeof g_msg - n - 3) rest = sizeof g_msg - n - 3;
    memcpy(g_msg + n + 2, old, rest);
    g_msg[n + 2 + rest] = 0;
    return s;
}
