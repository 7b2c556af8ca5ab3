/* fuzz_ssh_kexinit — libFuzzer target for what NET-SSH-01 reads from an
 * SSH server: the identification line (sw__ssh_banner) and the KEXINIT
 * binary packet after it (sw__ssh_kexinit_parse), then the name-list
 * iterator and the weak-algorithm rules over every list.
 *
 * The input is the server's byte stream in an exactly sized heap block.
 * Contracts beyond ASan and UBSan: results are a known code or a length
 * within the input; the banner view lies inside the input, starts "SSH-"
 * and holds no CR/LF; every list view lies inside the packet; the
 * iterator makes progress and yields non-empty names without commas; the
 * weak-list text fits its buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess/host_int.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    const char *p = (const char *)buf;
    sw_str line = SW_STR_NULL;
    long b = sw__ssh_banner(p, size, &line);
    FZ_CHECK(b == SW_EINCOMPLETE || b == SW_EINVAL || b == SW_ELIMIT || (b > 0 && (size_t)b <= size));
    size_t off = 0;
    if (b > 0) {
        FZ_CHECK(line.ptr >= p && line.ptr + line.len <= p + b && line.len >= 8);
        FZ_CHECK(!memcmp(line.ptr, "SSH-", 4));
        FZ_CHECK(!memchr(line.ptr, '\n', line.len) && !memchr(line.ptr, '\r', line.len));
        off = (size_t)b;
    }
    sw__ssh_kexinit k;
    long r = sw__ssh_kexinit_parse(buf + off, size - off, &k);
    FZ_CHECK(r == SW_EINCOMPLETE || r == SW_EINVAL || r == SW_ELIMIT || (r > 0 && (size_t)r <= size - off));
    if (r > 0) {
        for (int i = 0; i < SW__SSH_NLISTS; i++) {
            sw_str l = k.lists[i];
            FZ_CHECK(l.len == 0 || ((const uint8_t *)l.ptr >= buf + off && (const uint8_t *)l.ptr + l.len <= buf + off + r));
            size_t pos = 0, last = 0;
            sw_str a;
            unsigned names = 0;
            while (sw__ssh_name_next(l, &pos, &a)) {
                FZ_CHECK(pos > last && pos <= l.len);
                FZ_CHECK(a.len > 0 && !memchr(a.ptr, ',', a.len));
                last = pos;
                names++;
            }
            FZ_CHECK(names <= l.len);
        }
        char weak[64];
        unsigned w = sw__ssh_weak(&k, weak, sizeof weak);
        FZ_CHECK(strlen(weak) < sizeof weak);
        FZ_CHECK(w == 0 || weak[0]);
    }
    free(buf);
    return 0;
}
