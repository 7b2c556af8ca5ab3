/* Internal to src/event/: the jansson form of an event, shared by the text
 * backends so that every one of them writes the same fields. */
#ifndef SIPWALL_EVENT_INT_H
#define SIPWALL_EVENT_INT_H

#include <jansson.h>

#include "sipwall/event.h"

/* A new JSON object for ev (caller owns the reference), or NULL when
 * memory runs out. */
json_t *sw__event_to_jansson(const sw_event *ev) SW_NONNULL(1);

#endif
