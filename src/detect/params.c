/* The detectors' names and parameter table (include/sipwall/detect_params.h). */
#include <string.h>

#include "sipwall/common.h"
#include "sipwall/detect_params.h"

static const char *const det_names[SW_DET__COUNT] = {
#define SW__DET_NAME(id, name, evt) name,
    SW_DETECTOR_LIST(SW__DET_NAME)
#undef SW__DET_NAME
};

static const sw_detector_param_spec params[SW_DP__COUNT] = {
#define SW__DP_SPEC(det, id, name, kind, def) \
    {SW_DET_##det, SW_PK_##kind, SW_DP_##id, name, (int64_t)(def)},
    SW_DETECTOR_PARAM_LIST(SW__DP_SPEC)
#undef SW__DP_SPEC
};

const char *const sw_weekday_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

const char *sw_detector_name(sw_detector_id d)
{
    return (unsigned)d < SW_DET__COUNT ? det_names[d] : NULL;
}

int sw_detector_lookup(const char *name, sw_detector_id *out)
{
    for (unsigned i = 0; i < SW_DET__COUNT; i++)
        if (strcmp(name, det_names[i]) == 0) {
            *out = (sw_detector_id)i;
            return 0;
        }
    return SW_ENOTFOUND;
}

const sw_detector_param_spec *sw_detector_params(unsigned *n)
{
    *n = SW_DP__COUNT;
    return params;
}

const sw_detector_param_spec *sw_detector_param_lookup(sw_detector_id d, const char *name)
{
    for (unsigned i = 0; i < SW_DP__COUNT; i++)
        if (params[i].detector == d && strcmp(params[i].name, name) == 0)
            return &params[i];
    return NULL;
}
