/* The subscriber location feed (what the HSS knows: MSISDN -> serving PLMN
 * and when it was last updated) and distances between PLMNs, for the
 * category 3 plausibility checks (travel-kmh).
 *
 * Distances are great-circle distances between one representative point
 * per country, looked up by MCC.  For small countries that is the
 * geographic centre; for very large ones (US, Canada, Russia, China,
 * Brazil, Australia …) a point near the population centre, because an
 * attached subscriber is far more likely to be near people than in the
 * geometric middle of the country.  The precision needed is "could anyone
 * have travelled this far in this time", so a few hundred km do not matter. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

/* ---- MCC -> point ----------------------------------------------------------------- */
typedef struct mcc_point {
    uint16_t mcc;
    float lat, lon;
} mcc_point;

static const mcc_point mcc_points[] = {
    /* Europe */
    {202, 39.0f, 22.0f},    /* Greece */
    {204, 52.1f, 5.3f},     /* Netherlands */
    {206, 50.6f, 4.6f},     /* Belgium */
    {208, 46.6f, 2.4f},     /* France */
    {212, 43.74f, 7.42f},   /* Monaco */
    {213, 42.55f, 1.6f},    /* Andorra */
    {214, 40.2f, -3.6f},    /* Spain */
    {216, 47.2f, 19.4f},    /* Hungary */
    {218, 44.2f, 17.8f},    /* Bosnia and Herzegovina */
    {219, 45.1f, 15.5f},    /* Croatia */
    {220, 44.0f, 20.9f},    /* Serbia */
    {221, 42.6f, 20.9f},    /* Kosovo */
    {222, 42.8f, 12.6f},    /* Italy */
    {225, 41.9f, 12.45f},   /* Vatican */
    {226, 45.9f, 25.0f},    /* Romania */
    {228, 46.8f, 8.2f},     /* Switzerland */
    {230, 49.8f, 15.5f},    /* Czechia */
    {231, 48.7f, 19.5f},    /* Slovakia */
    {232, 47.6f, 14.1f},    /* Austria */
    {234, 54.0f, -2.5f},    /* United Kingdom */
    {235, 54.0f, -2.5f},    /* United Kingdom */
    {238, 56.0f, 10.0f},    /* Denmark */
    {240, 62.0f, 15.0f},    /* Sweden */
    {242, 61.5f, 9.5f},     /* Norway */
    {244, 63.0f, 26.0f},    /* Finland */
    {246, 55.2f, 23.9f},    /* Lithuania */
    {247, 56.9f, 24.6f},    /* Latvia */
    {248, 58.6f, 25.0f},    /* Estonia */
    {250, 55.8f, 45.0f},    /* Russia (population centre, west of the Urals) */
    {255, 49.0f, 31.4f},    /* Ukraine */
    {257, 53.7f, 28.0f},    /* Belarus */
    {259, 47.2f, 28.5f},    /* Moldova */
    {260, 52.1f, 19.4f},    /* Poland */
    {262, 51.2f, 10.4f},    /* Germany */
    {266, 36.14f, -5.35f},  /* Gibraltar */
    {268, 39.6f, -8.0f},    /* Portugal */
    {270, 49.8f, 6.1f},     /* Luxembourg */
    {272, 53.2f, -8.0f},    /* Ireland */
    {274, 64.9f, -18.6f},   /* Iceland */
    {276, 41.1f, 20.0f},    /* Albania */
    {278, 35.9f, 14.4f},    /* Malta */
    {280, 35.0f, 33.2f},    /* Cyprus */
    {282, 42.2f, 43.5f},    /* Georgia */
    {283, 40.2f, 45.0f},    /* Armenia */
    {284, 42.7f, 25.3f},    /* Bulgaria */
    {286, 39.0f, 35.2f},    /* Turkey */
    {288, 62.0f, -6.9f},    /* Faroe Islands */
    {290, 64.2f, -51.7f},   /* Greenland (Nuuk) */
    {292, 43.94f, 12.46f},  /* San Marino */
    {293, 46.1f, 14.8f},    /* Slovenia */
    {294, 41.6f, 21.7f},    /* North Macedonia */
    {295, 47.16f, 9.55f},   /* Liechtenstein */
    {297, 42.7f, 19.3f},    /* Montenegro */
    /* North America and the Caribbean */
    {302, 46.0f, -79.0f},   /* Canada (population centre) */
    {308, 46.9f, -56.3f},   /* Saint Pierre and Miquelon */
    {310, 37.5f, -92.0f},   /* United States (population centre) */
    {311, 37.5f, -92.0f},
    {312, 37.5f, -92.0f},
    {313, 37.5f, -92.0f},
    {314, 37.5f, -92.0f},
    {315, 37.5f, -92.0f},
    {316, 37.5f, -92.0f},
    {330, 18.2f, -66.5f},   /* Puerto Rico */
    {334, 21.0f, -100.0f},  /* Mexico */
    {338, 18.1f, -77.3f},   /* Jamaica */
    {340, 16.0f, -61.5f},   /* French Antilles */
    {342, 13.2f, -59.55f},  /* Barbados */
    {344, 17.1f, -61.8f},   /* Antigua and Barbuda */
    {346, 19.3f, -81.3f},   /* Cayman Islands */
    {348, 18.4f, -64.6f},   /* British Virgin Islands */
    {350, 32.3f, -64.8f},   /* Bermuda */
    {352, 12.1f, -61.7f},   /* Grenada */
    {356, 17.3f, -62.7f},   /* Saint Kitts and Nevis */
    {358, 13.9f, -61.0f},   /* Saint Lucia */
    {360, 13.25f, -61.2f},  /* Saint Vincent */
    {362, 12.2f, -69.0f},   /* Curaçao, Bonaire */
    {363, 12.5f, -70.0f},   /* Aruba */
    {364, 25.0f, -77.4f},   /* Bahamas */
    {365, 18.2f, -63.05f},  /* Anguilla */
    {366, 15.4f, -61.35f},  /* Dominica */
    {368, 21.5f, -79.5f},   /* Cuba */
    {370, 18.9f, -70.2f},   /* Dominican Republic */
    {372, 19.0f, -72.4f},   /* Haiti */
    {374, 10.45f, -61.3f},  /* Trinidad and Tobago */
    {376, 21.7f, -71.8f},   /* Turks and Caicos */
    /* Asia and the Middle East */
    {400, 40.3f, 47.7f},    /* Azerbaijan */
    {401, 48.0f, 67.0f},    /* Kazakhstan */
    {402, 27.5f, 90.4f},    /* Bhutan */
    {404, 22.0f, 79.0f},    /* India */
    {405, 22.0f, 79.0f},
    {406, 22.0f, 79.0f},
    {410, 30.0f, 70.0f},    /* Pakistan */
    {412, 33.9f, 67.7f},    /* Afghanistan */
    {413, 7.9f, 80.7f},     /* Sri Lanka */
    {414, 21.0f, 96.0f},    /* Myanmar */
    {415, 33.9f, 35.9f},    /* Lebanon */
    {416, 31.3f, 36.4f},    /* Jordan */
    {417, 35.0f, 38.5f},    /* Syria */
    {418, 33.2f, 43.7f},    /* Iraq */
    {419, 29.3f, 47.6f},    /* Kuwait */
    {420, 24.0f, 45.0f},    /* Saudi Arabia */
    {421, 15.6f, 48.0f},    /* Yemen */
    {422, 21.0f, 57.0f},    /* Oman */
    {424, 24.0f, 54.0f},    /* United Arab Emirates */
    {425, 31.4f, 35.0f},    /* Israel, Palestine */
    {426, 26.0f, 50.55f},   /* Bahrain */
    {427, 25.3f, 51.2f},    /* Qatar */
    {428, 46.9f, 103.8f},   /* Mongolia */
    {429, 28.4f, 84.1f},    /* Nepal */
    {430, 24.0f, 54.0f},    /* United Arab Emirates */
    {431, 24.0f, 54.0f},
    {432, 32.4f, 53.7f},    /* Iran */
    {434, 41.4f, 64.6f},    /* Uzbekistan */
    {436, 38.9f, 71.3f},    /* Tajikistan */
    {437, 41.2f, 74.8f},    /* Kyrgyzstan */
    {438, 39.0f, 59.6f},    /* Turkmenistan */
    {440, 36.2f, 138.3f},   /* Japan */
    {441, 36.2f, 138.3f},
    {450, 36.5f, 127.9f},   /* South Korea */
    {452, 16.0f, 107.8f},   /* Vietnam */
    {454, 22.3f, 114.2f},   /* Hong Kong */
    {455, 22.2f, 113.55f},  /* Macao */
    {456, 12.6f, 104.9f},   /* Cambodia */
    {457, 19.9f, 102.5f},   /* Laos */
    {460, 32.0f, 112.0f},   /* China (population centre) */
    {461, 32.0f, 112.0f},
    {466, 23.7f, 121.0f},   /* Taiwan */
    {467, 40.3f, 127.5f},   /* North Korea */
    {470, 23.7f, 90.4f},    /* Bangladesh */
    {472, 3.2f, 73.2f},     /* Maldives */
    /* Oceania and South-East Asia */
    {502, 4.2f, 102.0f},    /* Malaysia */
    {505, -33.0f, 146.0f},  /* Australia (population centre) */
    {510, -5.0f, 112.0f},   /* Indonesia (Java) */
    {514, -8.9f, 125.7f},   /* Timor-Leste */
    {515, 12.9f, 121.8f},   /* Philippines */
    {520, 15.9f, 101.0f},   /* Thailand */
    {525, 1.35f, 103.8f},   /* Singapore */
    {528, 4.5f, 114.7f},    /* Brunei */
    {530, -40.9f, 174.9f},  /* New Zealand */
    {536, -0.5f, 166.9f},   /* Nauru */
    {537, -6.3f, 143.96f},  /* Papua New Guinea */
    {539, -21.2f, -175.2f}, /* Tonga */
    {540, -9.6f, 160.2f},   /* Solomon Islands */
    {541, -15.4f, 166.96f}, /* Vanuatu */
    {542, -17.7f, 178.1f},  /* Fiji */
    {544, -14.3f, -170.7f}, /* American Samoa */
    {546, -21.3f, 165.6f},  /* New Caledonia */
    {547, -17.7f, -149.4f}, /* French Polynesia */
    {549, -13.8f, -172.1f}, /* Samoa */
    /* Africa */
    {602, 26.8f, 30.8f},    /* Egypt */
    {603, 34.0f, 3.0f},     /* Algeria (the populated north) */
    {604, 31.8f, -7.1f},    /* Morocco */
    {605, 34.0f, 9.5f},     /* Tunisia */
    {606, 30.0f, 17.0f},    /* Libya */
    {607, 13.4f, -15.3f},   /* Gambia */
    {608, 14.5f, -14.5f},   /* Senegal */
    {609, 21.0f, -10.9f},   /* Mauritania */
    {610, 17.6f, -4.0f},    /* Mali */
    {611, 9.9f, -9.7f},     /* Guinea */
    {612, 7.5f, -5.5f},     /* Côte d'Ivoire */
    {613, 12.2f, -1.6f},    /* Burkina Faso */
    {614, 17.6f, 8.1f},     /* Niger */
    {615, 8.6f, 0.8f},      /* Togo */
    {616, 9.3f, 2.3f},      /* Benin */
    {617, -20.3f, 57.6f},   /* Mauritius */
    {618, 6.4f, -9.4f},     /* Liberia */
    {619, 8.5f, -11.8f},    /* Sierra Leone */
    {620, 7.9f, -1.0f},     /* Ghana */
    {621, 9.1f, 8.7f},      /* Nigeria */
    {622, 15.5f, 18.7f},    /* Chad */
    {623, 6.6f, 20.9f},     /* Central African Republic */
    {624, 7.4f, 12.4f},     /* Cameroon */
    {625, 16.0f, -24.0f},   /* Cape Verde */
    {626, 0.2f, 6.6f},      /* São Tomé and Príncipe */
    {627, 1.7f, 10.3f},     /* Equatorial Guinea */
    {628, -0.8f, 11.6f},    /* Gabon */
    {629, -0.2f, 15.8f},    /* Congo */
    {630, -4.0f, 21.8f},    /* DR Congo */
    {631, -11.2f, 17.9f},   /* Angola */
    {632, 11.8f, -15.2f},   /* Guinea-Bissau */
    {633, -4.7f, 55.5f},    /* Seychelles */
    {634, 12.9f, 30.2f},    /* Sudan */
    {635, -1.9f, 29.9f},    /* Rwanda */
    {636, 9.1f, 40.5f},     /* Ethiopia */
    {637, 5.2f, 46.2f},     /* Somalia */
    {638, 11.8f, 42.6f},    /* Djibouti */
    {639, 0.0f, 37.9f},     /* Kenya */
    {640, -6.4f, 34.9f},    /* Tanzania */
    {641, 1.4f, 32.3f},     /* Uganda */
    {642, -3.4f, 29.9f},    /* Burundi */
    {643, -18.7f, 35.5f},   /* Mozambique */
    {645, -13.1f, 27.8f},   /* Zambia */
    {646, -18.8f, 46.9f},   /* Madagascar */
    {647, -21.1f, 55.5f},   /* Réunion, Mayotte */
    {648, -19.0f, 29.2f},   /* Zimbabwe */
    {649, -22.96f, 18.5f},  /* Namibia */
    {650, -13.3f, 34.3f},   /* Malawi */
    {651, -29.6f, 28.2f},   /* Lesotho */
    {652, -22.3f, 24.7f},   /* Botswana */
    {653, -26.5f, 31.5f},   /* Eswatini */
    {654, -11.9f, 43.9f},   /* Comoros */
    {655, -28.0f, 26.0f},   /* South Africa */
    {657, 15.2f, 39.8f},    /* Eritrea */
    {659, 6.9f, 31.3f},     /* South Sudan */
    /* Central and South America */
    {702, 17.2f, -88.5f},   /* Belize */
    {704, 15.8f, -90.2f},   /* Guatemala */
    {706, 13.8f, -88.9f},   /* El Salvador */
    {708, 15.2f, -86.2f},   /* Honduras */
    {710, 12.9f, -85.2f},   /* Nicaragua */
    {712, 9.7f, -83.8f},    /* Costa Rica */
    {714, 8.5f, -80.8f},    /* Panama */
    {716, -9.2f, -75.0f},   /* Peru */
    {722, -34.0f, -64.0f},  /* Argentina */
    {724, -15.0f, -47.0f},  /* Brazil (population centre) */
    {730, -33.0f, -71.0f},  /* Chile */
    {732, 4.6f, -74.3f},    /* Colombia */
    {734, 8.0f, -66.0f},    /* Venezuela */
    {736, -16.3f, -63.6f},  /* Bolivia */
    {738, 4.9f, -58.9f},    /* Guyana */
    {740, -1.8f, -78.2f},   /* Ecuador */
    {742, 4.0f, -53.0f},    /* French Guiana */
    {744, -23.4f, -58.4f},  /* Paraguay */
    {746, 3.9f, -56.0f},    /* Suriname */
    {748, -32.5f, -55.8f},  /* Uruguay */
    {750, -51.8f, -59.5f},  /* Falkland Islands */
};

static const mcc_point *mcc_find(const char *plmn)
{
    if (!plmn)
        return NULL;
    unsigned mcc = 0;
    for (int i = 0; i < 3; i++) {
        if (plmn[i] < '0' || plmn[i] > '9')
            return NULL;
        mcc = mcc * 10 + (unsigned)(plmn[i] - '0');
    }
    if (plmn[3] != '\0' && plmn[3] != '-')
        return NULL;
    for (size_t i = 0; i < sizeof mcc_points / sizeof mcc_points[0]; i++)
        if (mcc_points[i].mcc == mcc)
            return &mcc_points[i];
    return NULL;
}

int32_t sw_plmn_distance_km(const char *plmn_a, const char *plmn_b)
{
    const mcc_point *a = mcc_find(plmn_a), *b = mcc_find(plmn_b);
    if (!a || !b)
        return -1;
    const double r = 6371.0, rad = 3.14159265358979323846 / 180.0;
    double la1 = a->lat * rad, la2 = b->lat * rad;
    double dla = (b->lat - a->lat) * rad, dlo = (b->lon - a->lon) * rad;
    double h = sin(dla / 2) * sin(dla / 2) + cos(la1) * cos(la2) * sin(dlo / 2) * sin(dlo / 2);
    if (h > 1.0)
        h = 1.0;
    double d = 2 * r * asin(sqrt(h));
    return (int32_t)(d + 0.5);
}

/* ---- the feed --------------------------------------------------------------------- */
struct sw_location_feed {
    sw_string_set *index; /* number -> locs[] */
    sw_location *locs;
    size_t n, cap;
};

/* "+digits" for numbers ("+4477…", "4477…", "tel:+4477…"), else the text as is. */
static size_t normalise(const char *in, size_t len, char *out, size_t cap)
{
    const char *p = in;
    size_t n = len;
    if (n >= 4 && (memcmp(p, "tel:", 4) == 0 || memcmp(p, "TEL:", 4) == 0)) {
        p += 4;
        n -= 4;
    }
    size_t d = (n && p[0] == '+') ? 1 : 0;
    int digits = n > d;
    for (size_t i = d; i < n && digits; i++)
        digits = p[i] >= '0' && p[i] <= '9';
    if (digits && n - d + 1 < cap) {
        out[0] = '+';
        memcpy(out + 1, p + d, n - d);
        return n - d + 1;
    }
    if (len >= cap)
        return 0;
    memcpy(out, in, len);
    return len;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits_at(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* RFC 3339: 2026-11-24T10:00:00[.fff](Z|+hh:mm|-hh:mm) -> ns since the epoch. */
static int parse_rfc3339(const char *s, int64_t *ns)
{
    unsigned y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || digits_at(s, 4, &y) || s[4] != '-' || digits_at(s + 5, 2, &mo) ||
        s[7] != '-' || digits_at(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits_at(s + 11, 2, &h) || s[13] != ':' || digits_at(s + 14, 2, &mi) || s[16] != ':' ||
        digits_at(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        int64_t scale = 100000000;
        while (*p >= '0' && *p <= '9') {
            if (nd < 9) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
            nd++;
            p++;
        }
        if (nd == 0)
            return -1;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        unsigned oh, om;
        if (digits_at(p + 1, 2, &oh) || p[3] != ':' || digits_at(p + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *ns = secs * SW_NS_S + frac;
    return 0;
}

static int feed_add(sw_location_feed *f, const char *num, size_t numlen, const sw_location *loc)
{
    uint32_t at;
    if (sw_string_set_lookup(f->index, sw_str_make(num, numlen), &at)) {
        f->locs[at] = *loc; /* the later line is the newer state */
        return SW_OK;
    }
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 1024;
        if (ncap > UINT32_MAX)
            return SW_ELIMIT;
        sw_location *v = realloc(f->locs, ncap * sizeof *v);
        if (!v)
            return SW_ENOMEM;
        f->locs = v;
        f->cap = ncap;
    }
    int rc = sw_string_set_add(f->index, sw_str_make(num, numlen), (uint32_t)f->n);
    if (rc != SW_OK)
        return rc;
    f->locs[f->n++] = *loc;
    return SW_OK;
}

#define FEED_MAX_FILE (512u << 20) /* a national HSS export is large */

static int feed_parse(const char *path, char *text, size_t len, sw_location_feed **out,
                      sw_policy_diags *diags);

int sw_location_feed_load(const char *path, sw_location_feed **out, sw_policy_diags *diags)
{
    memset(diags, 0, sizeof *diags);
    *out = NULL;
    char *text;
    size_t len;
    errno = 0;
    int rc = sw__read_file_capped(path, FEED_MAX_FILE, 0, &text, &len);
    if (rc != SW_OK) {
        sw__diag_add(diags, 0, path, 0, 0, "cannot read the location feed: %s",
                     rc == SW_ELIMIT   ? "larger than 512 MiB"
                     : rc == SW_ENOMEM ? "out of memory"
                                       : strerror(errno ? errno : EIO));
        return rc == SW_ENOMEM ? SW_ENOMEM : SW_EIO;
    }
    rc = feed_parse(path, text, len, out, diags);
    free(text);
    return rc;
}

int sw_location_feed_load_text(const char *name, const char *text, size_t len,
                               sw_location_feed **out, sw_policy_diags *diags)
{
    memset(diags, 0, sizeof *diags);
    *out = NULL;
    if (len > FEED_MAX_FILE) {
        sw__diag_add(diags, 0, name, 0, 0, "cannot read the location feed: larger than 512 MiB");
        return SW_EIO;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return SW_ENOMEM;
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    int rc = feed_parse(name, copy, len, out, diags);
    free(copy);
    return rc;
}

/* Parses text[0..len) in place (it is modified, the caller frees it). */
static int feed_parse(const char *path, char *text, size_t len, sw_location_feed **out,
                      sw_policy_diags *diags)
{
    sw_location_feed *f = calloc(1, sizeof *f);
    if (!f || !(f->index = sw_string_set_new())) {
        free(f);
        return SW_ENOMEM;
    }
    int rc;
    uint32_t line = 0;
    char *p = text, *end = text + len;
    rc = SW_OK;
    while (p < end && rc == SW_OK) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        line++;
        *eol = '\0';
        char *s = p;
        p = eol + (nl ? 1 : 0);
        size_t n = strlen(s); /* a NUL byte ends the line early: it is then malformed */
        if (n && s[n - 1] == '\r')
            s[--n] = '\0';
        while (*s == ' ')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        char *f1 = s, *f2 = strchr(f1, '\t'), *f3 = f2 ? strchr(f2 + 1, '\t') : NULL;
        if (!f2 || !f3) {
            sw__diag_add(diags, 1, path, line, 0, "expected NUMBER<TAB>MCC-MNC<TAB>TIME; skipped");
            continue;
        }
        *f2++ = '\0';
        *f3++ = '\0';
        char *tab = strchr(f3, '\t'); /* extra columns are allowed */
        if (tab)
            *tab = '\0';
        sw_location loc;
        memset(&loc, 0, sizeof loc);
        if (!sw__plmn_valid(f2)) {
            sw__diag_add(diags, 1, path, line, 0, "bad PLMN '%.20s' (MCC-MNC); skipped", f2);
            continue;
        }
        snprintf(loc.plmn, sizeof loc.plmn, "%s", f2);
        if (parse_rfc3339(f3, &loc.since_ns) != 0) {
            sw__diag_add(diags, 1, path, line, 0, "bad RFC 3339 time '%.40s'; skipped", f3);
            continue;
        }
        char num[256];
        size_t nlen = normalise(f1, strlen(f1), num, sizeof num);
        if (nlen == 0) {
            sw__diag_add(diags, 1, path, line, 0, "bad number; skipped");
            continue;
        }
        rc = feed_add(f, num, nlen, &loc);
    }
    if (rc != SW_OK) {
        sw_location_feed_free(f);
        return rc;
    }
    *out = f;
    return SW_OK;
}

void sw_location_feed_free(sw_location_feed *f)
{
    if (!f)
        return;
    sw_string_set_free(f->index);
    free(f->locs);
    free(f);
}

int sw_location_lookup(const sw_location_feed *f, sw_str number, sw_location *out)
{
    if (!f || (number.len && !number.ptr) || number.len == 0)
        return 0;
    char num[256];
    size_t n = normalise(number.ptr, number.len, num, sizeof num);
    uint32_t at;
    if (n == 0 || !sw_string_set_lookup(f->index, sw_str_make(num, n), &at) || at >= f->n)
        return 0;
    *out = f->locs[at];
    return 1;
}

size_t sw_location_feed_count(const sw_location_feed *f)
{
    return f ? f->n : 0;
}
