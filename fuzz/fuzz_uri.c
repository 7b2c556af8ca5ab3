/* fuzz_uri — libFuzzer target for the value-level parsers.
 *
 * The whole input is one value in an exactly sized heap block, so a parser
 * that reads one byte past the end of its value is caught by ASan (inside a
 * message, such an over-read would silently read the next header).  It goes
 * through sw_uri_parse (with the parameter walk and %-decoding of the parts),
 * sw_param_next over the raw input, sw_uri_unescape, sw_nameaddr_parse and
 * sw_via_parse, and then the other single-value parsers (CSeq, media type,
 * digest, Identity, unsigned integers).  See fuzz_common.h for the
 * contracts checked. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fz_input(data, size);
    sw_str in = sw_str_make(buf, size);
    sw_sip_error err;

    sw_uri uri;
    fz_error_reset(&err);
    int rc = sw_uri_parse(in, &uri, &err);
    if (rc == SW_OK) {
        fz_uri(&uri);
        FZ_CHECK(uri.raw.len == 0 || uri.raw.ptr == buf);
    } else {
        fz_error(rc, &err, size);
    }

    /* The input as a parameter list, and as an escaped string. */
    fz_params(in);
    fz_unescape(in);

    /* name-addr, Via and the rest, with the offset checked against the input. */
    fz_typed_value(SW_HDR_OTHER, in, size);

    free(buf);
    return 0;
}
