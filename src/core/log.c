/* log.c - the log callback (default: WARN and above to stderr). */
#include "core.h"
#include <stdio.h>

static ew_log_fn g_log_fn;
static void *g_log_user;
static ew_log_level g_log_level = EW_LOG_WARN;

void ew_set_log(ew_log_fn fn, void *user) { g_log_fn = fn; g_log_user = user; }
void ew_set_log_level(ew_log_level level) { g_log_level = level; }

void ew_log(ew_log_level level, const char *fmt, ...) {
    if (level < g_log_level) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (g_log_fn) {
        g_log_fn(level, buf, g_log_user);
    } else {
        static const char *names[] = {"debug", "info", "warning", "error"};
        fprintf(stderr, "edgewatt: %s: %s\n", names[level], buf);
    }
}
