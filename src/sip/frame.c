/* The resumable stream framer: sw_sip_frame's answers for a buffer that
 * grows between calls, in time linear in the message.
 *
 * The state remembers where the search for the current line's end stopped
 * (`searched`), where that line starts (`line`), the header fields counted
 * and the Content-Length seen, all as offsets from the first byte after
 * the keep-alive CR/LFs, so no byte is searched twice and no pointer into
 * the caller's buffer is kept.  A Content-Length line is decided only once
 * the byte after it (and after any folded continuation) is there, as
 * sw_sip_frame decides it; both read the line with the same helpers
 * (sw__cl_colon, sw__cl_value).  The equivalence is tested on every prefix
 * of the torture and IMS sets and fuzzed (fuzz_frame). */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

enum { PH_SKIP = 0, PH_HEAD, PH_BODY, PH_DONE, PH_FAILED };

void sw_sip_framer_init(sw_sip_framer *f)
{
    memset(f, 0, sizeof *f);
    f->cl = -1;
    f->first_line = 1;
}

/* A fresh start on the next message; `examined` keeps counting. */
static void restart(sw_sip_framer *f)
{
    uint64_t examined = f->examined;
    sw_sip_framer_init(f);
    f->examined = examined;
}

void sw_sip_framer_consume(sw_sip_framer *f, size_t n)
{
    if (f->phase == PH_DONE && f->result > 0 && n == f->skip + (size_t)f->result) {
        restart(f);
    } else if (f->phase != PH_DONE && f->phase != PH_FAILED && n <= f->skip) {
        f->skip -= n; /* keep-alives gone; offsets count from after them */
    } else if (n) {
        restart(f);
    }
}

static long fail(sw_sip_framer *f, sw_sip_error *err, int code, size_t offset, const char *reason)
{
    f->phase = PH_FAILED;
    f->result = code;
    f->error.code = code;
    f->error.offset = offset;
    f->error.reason = reason;
    if (err)
        *err = f->error;
    return code;
}

/* The message's size is known: sw_sip_frame's checks after the header
 * section, in its order. */
static long body(sw_sip_framer *f, size_t len, size_t n, const sw_sip_limits *lim, sw_sip_error *err)
{
    if (f->cl < 0)
        return fail(f, err, SW_EINVAL, f->skip + f->hdr_end, "missing Content-Length on a stream transport");
    if ((uint64_t)f->cl > lim->max_msg_size || f->hdr_end + (size_t)f->cl > lim->max_msg_size)
        return fail(f, err, SW_ELIMIT, f->skip, "Content-Length larger than the size limit");
    if (f->hdr_end + (size_t)f->cl > n)
        return sw__fail(err, SW_EINCOMPLETE, len, "incomplete body");
    f->phase = PH_DONE;
    f->result = (long)(f->hdr_end + (size_t)f->cl);
    return f->result;
}

long sw_sip_framer_next(sw_sip_framer *f, const char *buf, size_t len, const sw_sip_limits *lim,
                        size_t *skip, sw_sip_error *err)
{
    sw_sip_limits defaults;
    if (!lim) {
        sw_sip_limits_default(&defaults);
        lim = &defaults;
    }
    if (f->phase == PH_SKIP) {
        size_t s = f->skip;
        while (s < len && (buf[s] == '\r' || buf[s] == '\n'))
            s++;
        f->examined += s - f->skip + (s < len);
        f->skip = s;
        if (s == len) {
            *skip = s;
            return sw__fail(err, SW_EINCOMPLETE, len, "incomplete message");
        }
        f->phase = PH_HEAD;
    }
    *skip = f->skip;
    if (f->phase == PH_DONE)
        return f->result;
    if (f->phase == PH_FAILED) {
        if (err)
            *err = f->error;
        return f->result;
    }
    if (len < f->skip)
        return sw__fail(err, SW_EINCOMPLETE, len, "incomplete message"); /* contract broken */
    const char *p = buf + f->skip;
    const size_t n = len - f->skip;
    const size_t scan = n < lim->max_msg_size ? n : lim->max_msg_size;

    while (f->phase == PH_HEAD) {
        if (f->cl_pending) {
            /* A Content-Length line: its value is known once the byte after
             * its last line is there and is not a fold. */
            size_t e = f->cl_eol;
            if (e + 1 >= scan)
                break;
            f->examined++;
            if (sw__is_wsp(p[e + 1])) {
                size_t from = f->searched > e + 1 ? f->searched : e + 1;
                const char *nl = memchr(p + from, '\n', scan - from);
                if (!nl) {
                    f->examined += scan - from;
                    f->searched = scan;
                    break;
                }
                f->cl_eol = (size_t)(nl - p);
                f->examined += f->cl_eol + 1 - from;
                f->searched = f->cl_eol + 1;
                continue;
            }
            const char *q = p + f->line;
            int64_t val = 0;
            int r = sw__cl_value(q, f->cl_colon, p + e, &val);
            f->examined += e - f->line - f->cl_colon;
            size_t off = f->skip + f->line;
            if (r == -2)
                return fail(f, err, SW_EINVAL, off, "negative Content-Length");
            if (r < 0)
                return fail(f, err, SW_EINVAL, off, "invalid Content-Length value");
            if (f->cl >= 0 && f->cl != val)
                return fail(f, err, SW_ECONFLICT, off, "conflicting Content-Length values");
            f->cl = val;
            f->cl_pending = 0;
            f->line = e + 1;
            continue;
        }
        size_t from = f->searched > f->line ? f->searched : f->line;
        if (from >= scan)
            break;
        const char *nl = memchr(p + from, '\n', scan - from);
        if (!nl) {
            f->examined += scan - from;
            f->searched = scan;
            break;
        }
        size_t eol = (size_t)(nl - p);
        f->examined += eol + 1 - from;
        f->searched = eol + 1;
        const char *q = p + f->line;
        size_t ll = eol - f->line;
        if (ll > 0 && q[ll - 1] == '\r')
            ll--;
        if (ll == 0 && !f->first_line) {
            f->hdr_end = eol + 1;
            f->phase = PH_BODY;
            break;
        }
        if (!f->first_line && !sw__is_wsp(q[0]) && ++f->nhdrs > lim->max_headers)
            return fail(f, err, SW_ELIMIT, f->skip + f->line, "too many header fields");
        f->first_line = 0;
        size_t looked = 0;
        size_t c = sw__cl_colon(q, ll, &looked);
        f->examined += looked;
        if (c) {
            f->cl_pending = 1;
            f->cl_colon = c;
            f->cl_eol = eol;
            continue;
        }
        f->line = eol + 1;
    }
    if (f->phase == PH_BODY)
        return body(f, len, n, lim, err);
    if (n >= lim->max_msg_size)
        return fail(f, err, SW_ELIMIT, f->skip + lim->max_msg_size, "header section larger than the size limit");
    return sw__fail(err, SW_EINCOMPLETE, len, "incomplete header section");
}
