/* sipwall — proof and presentation of what the engine decided:
 *  - ground-truth comparison (`sipwall check --labels LABELS.tsv`): events
 *    attributed to labelled episodes, per-kind detection, misses and false
 *    positives;
 *  - the self-contained HTML report (`sipwall check --report FILE.html`).
 * Both are event sinks (they copy what they keep, bounded), so the CLI tees
 * the engine's events into them next to the JSON-lines sink. */
#ifndef SIPWALL_REPORT_H
#define SIPWALL_REPORT_H

#include <stdio.h>

#include "sipwall/event.h"

/* ---- labels ------------------------------------------------------------------
 * LABELS.tsv: the format of the labelled captures (header line first):
 *   label kind src dst first_frame last_frame first_time last_time frames
 *   requests calls calling called tool note
 * kind: legit, scan, enum, crack, flood, irsf, wangiri, cli-spoof, malformed
 * (others are accepted and compared by name).  When NAME.frames.tsv sits
 * beside NAME.labels.tsv (frame time src dst proto sip call_id label kind),
 * events are attributed by their frame exactly; otherwise by source address
 * (ip:port, ip:*), frame range and, where episodes share a source, by the
 * calling/called numbers. */
typedef struct sw_labels sw_labels;

int sw_labels_load(const char *path, sw_labels **out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2);
void sw_labels_free(sw_labels *l);

/* The event type that detects a label kind ("scan" -> sip_scan, "enum" ->
 * sip_scan, "crack" -> sip_bruteforce, "flood" -> sip_flood, "irsf" ->
 * irsf_call, "wangiri" -> wangiri_cli, "cli-spoof" -> cli_spoofing,
 * "malformed" -> sip_malformed); -1 for legit/unknown kinds. */
int sw_label_kind_event(const char *kind);

/* A sink that attributes every event it is given (stores nothing else). */
sw_event_sink *sw_labels_sink(sw_labels *l) SW_WUR SW_NONNULL(1);

typedef struct sw_labels_summary {
    unsigned attacks, detected, missed;  /* labelled attack episodes */
    unsigned false_positives;            /* events attributed to legit episodes */
    unsigned unattributed;               /* events no episode explains */
} sw_labels_summary;

/* Prints the per-kind table and every miss / false positive to out;
 * returns the summary. */
void sw_labels_report(const sw_labels *l, FILE *out, sw_labels_summary *sum) SW_NONNULL(1, 2, 3);

/* ---- HTML report ----------------------------------------------------------------- */
typedef struct sw_report sw_report;

typedef struct sw_report_meta {
    const char *title;        /* e.g. the capture file names */
    const char *policy;       /* policy name and version */
    uint64_t messages;        /* messages screened */
    uint64_t verdicts[SW_ACTION__COUNT]; /* per action, over all messages */
    double elapsed_s;
} sw_report_meta;

/* max_events: events kept in full for the "every event explained" table
 * (aggregates count all of them). */
sw_report *sw_report_new(size_t max_events) SW_WUR;
void sw_report_free(sw_report *r);
/* A sink feeding the report (borrowed: close it before freeing r). */
sw_event_sink *sw_report_sink(sw_report *r) SW_WUR SW_NONNULL(1);
/* Records one screened message for the timeline (every message, not only events). */
void sw_report_message(sw_report *r, int64_t ts_ns, sw_action action) SW_NONNULL(1);
/* Writes the self-contained HTML (inline CSS and SVG, no scripts from
 * elsewhere; every value escaped).  SW_OK or SW_EIO. */
int sw_report_write_html(const sw_report *r, const sw_report_meta *meta, const char *path,
                         char *err, size_t errlen) SW_WUR SW_NONNULL(1, 2, 3);

/* Fan-out: a sink that passes every event to each of sinks[0..n) (borrowed,
 * not closed by it).  Returns the first error but still tries every sink. */
sw_event_sink *sw_tee_sink_new(sw_event_sink *const *sinks, size_t n) SW_WUR;

#endif
