/* The vocabularies' wire names (include/sipwall/vocab.h). */
#include "sipwall/vocab.h"

static const char *const type_names[] = {
#define SW__EVT_NAME(id, name) name,
    SW_EVENT_TYPE_LIST(SW__EVT_NAME)
#undef SW__EVT_NAME
};
static const char *const category_names[] = {
#define SW__CAT_NAME(id, name) name,
    SW_CATEGORY_LIST(SW__CAT_NAME)
#undef SW__CAT_NAME
};
static const char *const action_names[] = {
#define SW__ACT_NAME(id, name) name,
    SW_ACTION_LIST(SW__ACT_NAME)
#undef SW__ACT_NAME
};

_Static_assert(sizeof type_names / sizeof type_names[0] == SW_EVT__COUNT, "event type table");
_Static_assert(sizeof category_names / sizeof category_names[0] == SW_CAT__COUNT, "category table");
_Static_assert(sizeof action_names / sizeof action_names[0] == SW_ACTION__COUNT, "action table");

const char *sw_event_type_name(sw_event_type t)
{
    return (unsigned)t < SW_EVT__COUNT ? type_names[t] : NULL;
}

const char *sw_category_name(sw_category c)
{
    return (unsigned)c < SW_CAT__COUNT ? category_names[c] : NULL;
}

const char *sw_action_name(sw_action a)
{
    return (unsigned)a < SW_ACTION__COUNT ? action_names[a] : NULL;
}

int sw_event_type_lookup(const char *name, sw_event_type *out)
{
    for (unsigned i = 0; i < SW_EVT__COUNT; i++) {
        if (strcmp(type_names[i], name) == 0) {
            *out = (sw_event_type)i;
            return SW_OK;
        }
    }
    return SW_ENOTFOUND;
}

int sw_category_lookup(const char *name, sw_category *out)
{
    for (unsigned i = 0; i < SW_CAT__COUNT; i++) {
        if (strcmp(category_names[i], name) == 0) {
            *out = (sw_category)i;
            return SW_OK;
        }
    }
    return SW_ENOTFOUND;
}

int sw_action_lookup(const char *name, sw_action *out)
{
    for (unsigned i = 0; i < SW_ACTION__COUNT; i++) {
        if (strcmp(action_names[i], name) == 0) {
            *out = (sw_action)i;
            return SW_OK;
        }
    }
    return SW_ENOTFOUND;
}
