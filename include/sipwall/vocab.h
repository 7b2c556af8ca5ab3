/* sipwall — the vocabularies shared by the policy, the engine and the
 * events: event types, screening categories and verdict actions, each one
 * X-macro list (enum and wire names cannot drift apart).  Owned by the
 * common layer (names in src/common/vocab.c) so that the policy can name
 * them without depending on the event layer. */
#ifndef SIPWALL_VOCAB_H
#define SIPWALL_VOCAB_H

#include "sipwall/common.h"

/* ---- vocabularies -------------------------------------------------------
 * Event types: the FSE v1 vocabulary (specs/exchange.md).
 * X(ENUM, "wire name") */
#define SW_EVENT_TYPE_LIST(X)                                               \
    X(SIP_MALFORMED, "sip_malformed")                                      \
    X(SIP_SCAN, "sip_scan")                                                \
    X(SIP_BRUTEFORCE, "sip_bruteforce")                                    \
    X(SIP_FLOOD, "sip_flood")                                              \
    X(IRSF_CALL, "irsf_call")                                              \
    X(WANGIRI_CLI, "wangiri_cli")                                          \
    X(CLI_SPOOFING, "cli_spoofing")                                        \
    X(PAI_INJECTION, "pai_injection")                                      \
    X(REG_HIJACK, "reg_hijack")                                            \
    X(LOCATION_PROBE, "location_probe")                                    \
    X(PRIVACY_LEAK, "privacy_leak")                                        \
    X(POLICY_VIOLATION, "policy_violation")                                \
    X(EVENT_LOSS, "event_loss") /* sipwall itself lost event records */   \
    X(ADMIN_AUTH_FAILURE, "admin_auth_failure") /* a refused admin login */ \
    X(ADMIN_CHANGE, "admin_change") /* an operator changed something (audit) */ \
    X(INTEGRITY_FAILURE, "integrity_failure") /* a refused bundle (docs/bundles.md) */ \
    X(INTEGRITY_WARNING, "integrity_warning") /* a bundle signed by a retiring key */ \
    X(TLS_FAILURE, "tls_failure") /* TLS handshakes failed on a listener (summary) */ \
    X(PRIVILEGE, "privilege") /* sipwall dropped privileges: what it keeps */

typedef enum sw_event_type {
#define SW__EVT_ENUM(id, name) SW_EVT_##id,
    SW_EVENT_TYPE_LIST(SW__EVT_ENUM)
#undef SW__EVT_ENUM
    SW_EVT__COUNT
} sw_event_type;

/* FS.38 screening categories, plus the behavioural detectors. */
#define SW_CATEGORY_LIST(X)                                                 \
    X(CAT0, "cat0")                                                        \
    X(CAT1, "cat1")                                                        \
    X(CAT2, "cat2")                                                        \
    X(CAT3, "cat3")                                                        \
    X(BEHAVIOURAL, "behavioural")                                          \
    X(SYSTEM, "system") /* about sipwall itself, not about traffic */

typedef enum sw_category {
#define SW__CAT_ENUM(id, name) SW_CAT_##id,
    SW_CATEGORY_LIST(SW__CAT_ENUM)
#undef SW__CAT_ENUM
    SW_CAT__COUNT
} sw_category;

/* Verdict actions (what the inline proxy does, or would do in passive mode). */
#define SW_ACTION_LIST(X)                                                   \
    X(ALLOW, "allow")                                                      \
    X(REJECT, "reject")   /* answer with a SIP status (action_status) */   \
    X(DROP, "drop")       /* silently discard */                           \
    X(RATE_LIMIT, "rate-limit")                                            \
    X(STRIP, "strip")     /* remove headers, then forward */               \
    X(REWRITE, "rewrite")                                                  \
    X(TAG, "tag")         /* forward, mark, log */

typedef enum sw_action {
#define SW__ACT_ENUM(id, name) SW_ACTION_##id,
    SW_ACTION_LIST(SW__ACT_ENUM)
#undef SW__ACT_ENUM
    SW_ACTION__COUNT
} sw_action;

/* Wire names; NULL for values out of range. */
const char *sw_event_type_name(sw_event_type t);
const char *sw_category_name(sw_category c);
const char *sw_action_name(sw_action a);
/* Reverse lookups (exact match); SW_ENOTFOUND when unknown. */
int sw_event_type_lookup(const char *name, sw_event_type *out) SW_WUR SW_NONNULL(1, 2);
int sw_category_lookup(const char *name, sw_category *out) SW_WUR SW_NONNULL(1, 2);
int sw_action_lookup(const char *name, sw_action *out) SW_WUR SW_NONNULL(1, 2);

#endif
