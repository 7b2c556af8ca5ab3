/* The SSH identification line and the server's KEXINIT (RFC 4253 4.2,
 * 6, 7.1): what NET-SSH-01 reads before it would have to start a key
 * exchange (it never does).  Pure parsers over outside input: no
 * allocation, views into the caller's buffer, every length checked
 * against what is there and against SW__SSH_MAX_PACKET. */
#include <string.h>

#include "assess/host_int.h"

static int eq_lit(sw_str a, const char *lit)
{
    return sw_str_eq(a, sw_str_make(lit, strlen(lit)));
}

long sw__ssh_banner(const char *p, size_t n, sw_str *line)
{
    size_t off = 0;
    for (unsigned k = 0; k <= SW__SSH_MAX_PRELINES; k++) {
        size_t lim = n - off < SW__SSH_MAX_LINE + 1 ? n - off : SW__SSH_MAX_LINE + 1;
        const char *lf = memchr(p + off, '\n', lim);
        if (!lf)
            return n - off > SW__SSH_MAX_LINE ? SW_ELIMIT : SW_EINCOMPLETE;
        size_t len = (size_t)(lf - (p + off));
        if (memchr(p + off, 0, len))
            return SW_EINVAL;
        if (len >= 4 && !memcmp(p + off, "SSH-", 4)) {
            size_t l = len;
            if (l && p[off + l - 1] == '\r')
                l--;
            if (memchr(p + off, '\r', l)) /* a CR only before the LF */
                return SW_EINVAL;
            if (l < 8 || (memcmp(p + off, "SSH-2.0-", 8) && (l < 9 || memcmp(p + off, "SSH-1.99-", 9))))
                return SW_EINVAL;
            *line = sw_str_make(p + off, l);
            return (long)(off + len + 1);
        }
        off += len + 1;
    }
    return SW_ELIMIT;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

long sw__ssh_kexinit_parse(const uint8_t *p, size_t n, sw__ssh_kexinit *out)
{
    memset(out, 0, sizeof *out);
    if (n < 5)
        return SW_EINCOMPLETE;
    uint32_t plen = be32(p);
    if (plen > SW__SSH_MAX_PACKET)
        return SW_ELIMIT;
    uint8_t pad = p[4];
    /* padding ≥ 4 and the payload holds at least the message byte */
    if (plen < (uint32_t)pad + 2 || pad < 4)
        return SW_EINVAL;
    if (n - 4 < plen)
        return SW_EINCOMPLETE;
    const uint8_t *q = p + 5;
    size_t left = plen - pad - 1; /* the payload */
    if (left < 1 + 16 || q[0] != 20 /* SSH_MSG_KEXINIT */)
        return SW_EINVAL;
    q += 17;
    left -= 17;
    for (int i = 0; i < SW__SSH_NLISTS; i++) {
        if (left < 4)
            return SW_EINVAL;
        uint32_t l = be32(q);
        q += 4;
        left -= 4;
        if (l > left)
            return SW_EINVAL;
        for (uint32_t j = 0; j < l; j++)
            if (q[j] < 0x21 || q[j] > 0x7e) /* US-ASCII names, no space or control */
                return SW_EINVAL;
        out->lists[i] = sw_str_make((const char *)q, l);
        q += l;
        left -= l;
    }
    if (left < 5)
        return SW_EINVAL;
    out->first_kex_follows = q[0] != 0;
    return (long)plen + 4;
}

int sw__ssh_name_next(sw_str list, size_t *pos, sw_str *name)
{
    while (*pos < list.len) {
        size_t s = *pos;
        while (*pos < list.len && list.ptr[*pos] != ',')
            (*pos)++;
        size_t e = *pos;
        if (*pos < list.len)
            (*pos)++; /* the comma */
        if (e > s) {
            *name = sw_str_make(list.ptr + s, e - s);
            return 1;
        }
    }
    return 0;
}

static int has_sub(sw_str s, const char *sub)
{
    size_t k = strlen(sub);
    for (size_t i = 0; i + k <= s.len; i++)
        if (!memcmp(s.ptr + i, sub, k))
            return 1;
    return 0;
}

static int weak_kex(sw_str a)
{
    return eq_lit(a, "diffie-hellman-group1-sha1") || eq_lit(a, "diffie-hellman-group14-sha1") ||
           eq_lit(a, "diffie-hellman-group-exchange-sha1") || eq_lit(a, "rsa1024-sha1") ||
           eq_lit(a, "gss-group1-sha1-toWM5Slw5Ew8Mqkay+al2g==");
}

static int weak_enc(sw_str a)
{
    return has_sub(a, "-cbc") || has_sub(a, "3des") || has_sub(a, "arcfour") || has_sub(a, "blowfish") ||
           has_sub(a, "cast128") || eq_lit(a, "none") || has_sub(a, "rijndael");
}

static int weak_mac(sw_str a)
{
    return has_sub(a, "hmac-md5") || eq_lit(a, "hmac-sha1") || eq_lit(a, "hmac-sha1-96") ||
           eq_lit(a, "hmac-sha1-etm@openssh.com") || eq_lit(a, "hmac-sha1-96-etm@openssh.com") ||
           has_sub(a, "umac-64") || has_sub(a, "ripemd") || eq_lit(a, "none");
}

static int weak_hostkey(sw_str a)
{
    return eq_lit(a, "ssh-dss") || has_sub(a, "ssh-dss-cert");
}

unsigned sw__ssh_weak(const sw__ssh_kexinit *k, char *out, size_t cap)
{
    static const struct {
        int list;
        const char *name;
        int (*weak)(sw_str);
    } rules[] = {{SW__SSH_KEX, "kex", weak_kex},
                 {SW__SSH_HOSTKEY, "key", weak_hostkey},
                 {SW__SSH_ENC_SC, "enc", weak_enc},
                 {SW__SSH_MAC_SC, "mac", weak_mac}};
    unsigned count = 0;
    size_t used = 0;
    if (cap)
        out[0] = 0;
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        size_t pos = 0;
        sw_str a;
        while (sw__ssh_name_next(k->lists[rules[r].list], &pos, &a)) {
            if (!rules[r].weak(a))
                continue;
            count++;
            if (used < cap) {
                int w = snprintf(out + used, cap - used, "%s%s:%.*s", used ? " " : "", rules[r].name, (int)a.len,
                                 a.ptr);
                if (w > 0)
                    used = used + (size_t)w < cap ? used + (size_t)w : cap - 1;
            }
        }
    }
    return count;
}
