/* The daemon's JSON-lines log: append, never truncate; a symlink refused
 * (R5); a torn last line cut at open (R2); a short write undone and its
 * loss counted (R3); reopen after rotation (R6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sipwall/event.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_test_jsonla_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static sw_event make_event(int i, char *reason, size_t cap)
{
    sw_event ev;
    sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan.options");
    ev.ts_ns = INT64_C(1795478400000000000) + i;
    int n = snprintf(reason, cap, "event %d", i);
    ev.reason = sw_str_make(reason, (size_t)n);
    return ev;
}

static void make_rec(sw_event_rec *r, int i)
{
    char reason[32];
    sw_event ev = make_event(i, reason, sizeof reason);
    assert_int_equal(sw_event_rec_fill(r, &ev), SW_OK);
}

static void emit_n(sw_event_sink *s, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        char reason[32];
        sw_event ev = make_event(i, reason, sizeof reason);
        assert_int_equal(sw_event_emit(s, &ev), SW_OK);
    }
}

/* Checks that the file is whole JSON lines and returns the events' numbers
 * ("event N") in order in out; returns the count. */
static int read_lines(const char *p, int *out, int cap)
{
    FILE *fp = fopen(p, "rb");
    if (!fp)
        return -1;
    static char text[1 << 22];
    size_t len = fread(text, 1, sizeof text, fp);
    fclose(fp);
    assert_true(len < sizeof text);
    assert_true(len == 0 || text[len - 1] == '\n');
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n')
            continue;
        json_error_t err;
        json_t *o = json_loadb(text + start, i - start, 0, &err);
        if (!o)
            fail_msg("line %d is not JSON: %s", n + 1, err.text);
        const char *r = json_string_value(json_object_get(o, "reason"));
        assert_non_null(r);
        assert_true(n < cap);
        assert_int_equal(sscanf(r, "event %d", &out[n]), 1);
        n++;
        json_decref(o);
        start = i + 1;
    }
    return n;
}

static void write_file(const char *p, const char *text)
{
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_appends(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_sink *s = sw_jsonl_sink_open_append(path, err, sizeof err);
    assert_non_null(s);
    emit_n(s, 0, 3);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    /* a restart appends: nothing written before is lost */
    s = sw_jsonl_sink_open_append(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(sw_jsonl_sink_repaired(s), 0);
    emit_n(s, 3, 2);
    sw_event_rec recs[4];
    for (int i = 0; i < 4; i++)
        make_rec(&recs[i], 5 + i);
    assert_int_equal(s->ops->write_recs(s, recs, 4), SW_OK);
    assert_int_equal(s->emitted, 6);
    for (int i = 0; i < 4; i++)
        sw_event_rec_clear(&recs[i]);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    int got[16];
    assert_int_equal(read_lines(path, got, 16), 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(got[i], i);
}

static void test_symlink_refused(void **state)
{
    (void)state;
    char target[160], err[256] = "";
    snprintf(target, sizeof target, "%s/victim", dir);
    write_file(target, "precious\n");
    assert_int_equal(symlink(target, path), 0);
    assert_null(sw_jsonl_sink_open_append(path, err, sizeof err));
    assert_non_null(strstr(err, "symlink"));
    FILE *fp = fopen(target, "rb");
    char buf[32] = "";
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "precious\n");
    /* not a regular file either */
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_null(sw_jsonl_sink_open_append(path, err, sizeof err));
}

static void test_torn_tail_repaired(void **state)
{
    (void)state;
    char reason[32];
    sw_event ev = make_event(0, reason, sizeof reason);
    size_t n;
    char *line = sw_event_json(&ev, &n);
    assert_non_null(line);
    /* a whole line, then half of one (a writer killed mid-write) */
    char text[1024];
    snprintf(text, sizeof text, "%s\n%.*s", line, (int)(n / 2), line);
    free(line);
    write_file(path, text);
    char err[256] = "";
    sw_event_sink *s = sw_jsonl_sink_open_append(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(sw_jsonl_sink_repaired(s), n / 2);
    emit_n(s, 1, 2);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    int got[8];
    assert_int_equal(read_lines(path, got, 8), 3);
    assert_int_equal(got[2], 2);
    /* a file with no newline at all holds no whole line */
    write_file(path, "{\"half\":");
    s = sw_jsonl_sink_open_append(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(sw_jsonl_sink_repaired(s), 8);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    assert_int_equal(read_lines(path, got, 8), 0);
}

/* A full disk, simulated with RLIMIT_FSIZE: a batch that does not fit is
 * written not at all (no partial line), counted as lost, SW_EIO; once
 * there is room again, writing goes on behind the last whole line. */
static void test_short_write_undone(void **state)
{
    (void)state;
    char err[256] = "";
    sw_event_sink *s = sw_jsonl_sink_open_append(path, err, sizeof err);
    assert_non_null(s);
    emit_n(s, 0, 5);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 1000; /* room for a few lines, not 40 */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

    sw_event_rec recs[40];
    for (int i = 0; i < 40; i++)
        make_rec(&recs[i], 100 + i);
    uint64_t failed = s->failed;
    assert_int_equal(s->ops->write_recs(s, recs, 40), SW_EIO);
    assert_int_equal(s->failed - failed, 40);
    struct stat st2;
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st2.st_size, st.st_size); /* cut back: no partial line */
    /* a single event still fits */
    char reason[32];
    sw_event ev = make_event(5, reason, sizeof reason);
    assert_int_equal(sw_event_emit(s, &ev), SW_OK);
    /* an emit that does not fit fails whole */
    for (int i = 0; i < 20; i++) {
        ev = make_event(6, reason, sizeof reason);
        if (sw_event_emit(s, &ev) != SW_OK)
            break;
    }
    assert_true(s->failed >= failed + 41);

    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, oldsig);
    assert_int_equal(s->ops->write_recs(s, recs, 40), SW_OK);
    for (int i = 0; i < 40; i++)
        sw_event_rec_clear(&recs[i]);
    assert_int_equal(sw_event_sink_close(s), SW_OK);
    static int got[256];
    int n = read_lines(path, got, 256);
    assert_true(n >= 46);
    assert_int_equal(got[n - 1], 139);
    assert_int_equal(got[n - 40], 100);
}

static void test_reopen_after_rotation(void **state)
{
    (void)state;
    char err[256] = "", rotated[160];
    snprintf(rotated, sizeof rotated, "%s.1", path);
    sw_event_sink *s = sw_jsonl_sink_open_append(path, err, sizeof err);
    assert_non_null(s);
    emit_n(s, 0, 3);
    assert_int_equal(rename(path, rotated), 0); /* logrotate */
    emit_n(s, 3, 1);                            /* before the HUP: still the old file */
    assert_int_equal(sw_event_sink_reopen(s), SW_OK);
    emit_n(s, 4, 2);
    int got[8];
    assert_int_equal(read_lines(rotated, got, 8), 4);
    assert_int_equal(got[3], 3);
    assert_int_equal(read_lines(path, got, 8), 2);
    assert_int_equal(got[0], 4);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);

    /* a reopen that cannot open (a symlink planted at the path) keeps the
     * file it has */
    assert_int_equal(rename(path, rotated), 0);
    char target[160];
    snprintf(target, sizeof target, "%s/victim", dir);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(sw_event_sink_reopen(s), SW_EIO);
    emit_n(s, 6, 1);
    assert_int_equal(access(target, F_OK), -1);
    assert_int_equal(read_lines(rotated, got, 8), 3);
    assert_int_equal(got[2], 6);
    assert_int_equal(sw_event_sink_close(s), SW_OK);

    /* sinks without reopen say so */
    sw_event_sink *plain = sw_jsonl_sink_new(stdout, 0);
    assert_non_null(plain);
    assert_int_equal(sw_event_sink_reopen(plain), SW_EUSAGE);
    assert_int_equal(sw_jsonl_sink_repaired(plain), 0);
    assert_int_equal(sw_event_sink_close(plain), SW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_repaired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_write_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_after_rotation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
