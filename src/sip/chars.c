/* The character class table (RFC 3261 §25.1), built at compile time. */
#include "sip/chars.h"

#define ALNUM_RANGE(cls)                                                               \
    ['0' ... '9'] = (cls), ['a' ... 'z'] = (cls), ['A' ... 'Z'] = (cls)

#define T SW__C_TOKEN
#define W SW__C_WORD
#define U SW__C_UNRES
#define US SW__C_USER
#define P SW__C_PASS
#define PA SW__C_PARAM
#define H SW__C_HNV
#define HO SW__C_HOST

/* Every alphanumeric is in every class; marks and separators as the grammar says. */
const uint8_t sw__sip_chars[256] = {
    ALNUM_RANGE(T | W | U | US | P | PA | H | HO),
    ['-'] = T | W | U | US | P | PA | H | HO,
    ['.'] = T | W | U | US | P | PA | H | HO,
    ['!'] = T | W | U | US | P | PA | H,
    ['%'] = T | W, /* escapes are checked apart in URIs */
    ['*'] = T | W | U | US | P | PA | H,
    ['_'] = T | W | U | US | P | PA | H | HO,
    ['+'] = T | W | US | P | PA | H,
    ['`'] = T | W,
    ['\''] = T | W | U | US | P | PA | H,
    ['~'] = T | W | U | US | P | PA | H,
    ['('] = W | U | US | P | PA | H,
    [')'] = W | U | US | P | PA | H,
    ['<'] = W,
    ['>'] = W,
    [':'] = W | PA | H,
    ['\\'] = W,
    ['"'] = W,
    ['/'] = W | US | PA | H,
    ['['] = W | PA | H,
    [']'] = W | PA | H,
    ['?'] = W | US | H,
    ['{'] = W,
    ['}'] = W,
    ['&'] = US | P | PA,
    ['='] = US | P,
    ['$'] = US | P | PA | H,
    [','] = US | P,
    [';'] = US,
};

#define G SW__C2_GENV
#define TL SW__C2_TEL

const uint8_t sw__sip_chars2[256] = {
    ['0' ... '9'] = G | TL, ['a' ... 'f'] = G | TL, ['A' ... 'F'] = G | TL,
    ['g' ... 'z'] = G, ['G' ... 'Z'] = G,
    ['-'] = G | TL, ['.'] = G | TL, ['!'] = G, ['%'] = G, ['*'] = G | TL, ['_'] = G,
    ['+'] = G, ['`'] = G, ['\''] = G, ['~'] = G, [':'] = G, ['['] = G, [']'] = G,
    ['#'] = TL, ['('] = TL, [')'] = TL,
};
