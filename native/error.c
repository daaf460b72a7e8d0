/*
 * error.c - the calling thread's last error (text + errno), status names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SL_ERR_MAX 512

static _Thread_local char last_text[SL_ERR_MAX];
static _Thread_local int last_errno;

const char *sl_status_name(int status)
{
    switch (status) {
    case SL_OK: return "SL_OK";
    case SL_EINVAL: return "SL_EINVAL";
    case SL_EBADHANDLE: return "SL_EBADHANDLE";
    case SL_ENODEV: return "SL_ENODEV";
    case SL_ENOMEM: return "SL_ENOMEM";
    case SL_ESTATE: return "SL_ESTATE";
    case SL_EFULL: return "SL_EFULL";
    case SL_EVERBS: return "SL_EVERBS";
    case SL_ETIMEDOUT: return "SL_ETIMEDOUT";
    case SL_EBUSY: return "SL_EBUSY";
    case SL_ERANGE: return "SL_ERANGE";
    case SL_EPROTO: return "SL_EPROTO";
    case SL_EACCES: return "SL_EACCES";
    case SL_ENOTSUP: return "SL_ENOTSUP";
    default: return "SL_UNKNOWN";
    }
}

const char *sl_last_error(void)
{
    return last_text;
}

int sl_last_errno(void)
{
    return last_errno;
}

void sl_clear_error(void)
{
    last_text[0] = '\0';
    last_errno = 0;
}

int sl_fail(int status, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_text, sizeof(last_text), fmt, ap);
    va_end(ap);
    last_errno = err;
    return status;
}

const char *sl_strerror(int err, char *buf, size_t len)
{
    /* GNU strerror_r: returns a static string or fills buf. */
    return strerror_r(err, buf, len);
}

int sl_fail_verbs(const char *fn, const char *call, int err)
{
    char buf[128];

    return sl_fail(err == ENOMEM ? SL_ENOMEM : SL_EVERBS, err, "%s: %s failed: %s (errno %d)", fn,
                   call, sl_strerror(err, buf, sizeof(buf)), err);
}

int sl_verbs_errno(int ret)
{
    if (ret > 0)
        return ret;
    return errno ? errno : EIO;
}

const char *sl_wc_status_str(uint32_t status)
{
    return ibv_wc_status_str((enum ibv_wc_status)status);
}
