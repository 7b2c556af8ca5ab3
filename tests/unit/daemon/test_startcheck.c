/* The start-up checks start and --check-config share (R10): the fd need
 * follows max-connections the way conn.c sizes its slots; beyond the hard
 * RLIMIT_NOFILE both refuse, within it start raises the soft limit; the
 * engine memory estimate matches a real engine; stale and live admin
 * sockets and pid files; placeholder HEP keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/startcheck.h"
#include "sipwall/engine.h"

static char err[1024];

static void parse_ok(const char *text, swd_config *c)
{
    memset(c, 0, sizeof *c);
    if (swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err) != SW_OK)
        fail_msg("config: %s", err);
}

static const char *passive = "mode passive\nworkers 2\nhep udp 127.0.0.1:9060\n";

static void test_fd_need(void **state)
{
    (void)state;
    swd_config c;
    parse_ok("mode passive\nworkers 2\nhep udp 127.0.0.1:9060\nhep tcp 127.0.0.1:9060\n"
             "limits max-connections=4096\n",
             &c);
    /* 2 workers x (2048 slots + 2 HEP sockets + epoll + eventfd) + 64 */
    assert_int_equal(swd_fd_need(&c, 2), 2 * (2048 + 2 + 2) + 64);
    assert_int_equal(swd_worker_count(&c), 2);
    swd_config_free(&c);
    parse_ok("mode passive\nworkers 4\nhep udp 127.0.0.1:9060\n"
             "limits max-connections=10 max-connections-per-ip=5\n",
             &c);
    assert_int_equal(swd_fd_need(&c, 4), 4 * (16 + 1 + 2) + 64); /* at least 16 slots per worker */
    swd_config_free(&c);
}

/* In a child: RLIMIT_NOFILE lowered there only (raising a hard limit back
 * needs a privilege the test may not have). */
static int child_fd_limit(void)
{
    struct rlimit rl = {.rlim_cur = 256, .rlim_max = 512};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 10;
    swd_config c;
    memset(&c, 0, sizeof c);
    const char *big = "mode passive\nworkers 1\nhep udp 127.0.0.1:9060\nlimits max-connections=4096\n";
    if (swd_config_parse(big, strlen(big), "t.conf", &c, err, sizeof err) != SW_OK)
        return 11;
    char note[256];
    int a = swd_check_fd_limit(&c, 1, SWD_CHECK_ONLY, note, sizeof note, err, sizeof err);
    int b = swd_check_fd_limit(&c, 1, SWD_CHECK_START, NULL, 0, err, sizeof err);
    swd_config_free(&c);
    if (a != SW_ELIMIT || b != SW_ELIMIT || !strstr(err, "hard limit RLIMIT_NOFILE is 512"))
        return 12;
    const char *fits = "mode passive\nworkers 1\nhep udp 127.0.0.1:9060\nlimits max-connections=300\n";
    if (swd_config_parse(fits, strlen(fits), "t.conf", &c, err, sizeof err) != SW_OK)
        return 13;
    uint64_t need = swd_fd_need(&c, 1); /* 300 + 1 + 2 + 64 = 367 */
    if (need != 367)
        return 14;
    if (swd_check_fd_limit(&c, 1, SWD_CHECK_ONLY, note, sizeof note, err, sizeof err) != SW_OK ||
        !strstr(note, "start raises the soft RLIMIT_NOFILE from 256"))
        return 15;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != 256)
        return 16; /* the check changed nothing */
    if (swd_check_fd_limit(&c, 1, SWD_CHECK_START, NULL, 0, err, sizeof err) != SW_OK)
        return 17;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != need || rl.rlim_max != 512)
        return 18;
    swd_config_free(&c);
    return 0;
}

static void test_fd_limit(void **state)
{
    (void)state;
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0)
        _exit(child_fd_limit());
    int st;
    assert_int_equal(waitpid(p, &st, 0), p);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_engine_memory(void **state)
{
    (void)state;
    sw_policy *p = NULL;
    sw_policy_diags d;
    const char *path = "builtin:default";
    assert_int_equal(sw_policy_load(&path, 1, &p, &d), SW_OK);
    uint64_t est = 0;
    assert_int_equal(swd_check_engine_memory(p, 1, &est, err, sizeof err), SW_OK);
    /* a real engine with the default limits */
    sw_engine_config ec = {.policy = p};
    sw_engine *e = sw_engine_new(&ec);
    assert_non_null(e);
    uint64_t real = sw_engine_memory(e);
    sw_engine_free(e);
    print_message("engine memory: estimate %llu, real %llu\n", (unsigned long long)est,
                  (unsigned long long)real);
    assert_true(est >= real - real / 10 && est <= real + real / 10);
    /* the limits were restored */
    sw_engine_limits before = p->limits;
    assert_int_equal(swd_check_engine_memory(p, 3, &est, err, sizeof err), SW_OK);
    assert_memory_equal(&before, &p->limits, sizeof before);
    /* far beyond any machine: refused, naming the numbers */
    p->limits.sources = p->limits.numbers = p->limits.dialogs = 1u << 26;
    assert_int_equal(swd_check_engine_memory(p, 64, &est, err, sizeof err), SW_ELIMIT);
    assert_non_null(strstr(err, "sources 67108864"));
    assert_non_null(strstr(err, "for 64 workers"));
    sw_policy_free(p);
}

static void test_conn_memory(void **state)
{
    (void)state;
    swd_config c;
    char note[512] = "";
    parse_ok("mode passive\nworkers 1\nhep udp 127.0.0.1:9060\n"
             "limits max-connections=16 max-connections-per-ip=4 max-conn-buffer=64k max-send-queue=64k\n",
             &c);
    assert_int_equal(swd_check_conn_memory(&c, 1, note, sizeof note), 0); /* 2 MiB */
    swd_config_free(&c);
    parse_ok("mode passive\nworkers 2\nhep udp 127.0.0.1:9060\n"
             "limits max-connections=1000000 max-conn-buffer=64m max-send-queue=1g\n",
             &c);
    assert_int_equal(swd_check_conn_memory(&c, 2, note, sizeof note), 1);
    /* 1M slots x (64 MiB + 1 GiB) */
    assert_non_null(strstr(note, "1000000 connection slots"));
    assert_non_null(strstr(note, "up to 1088000000 MiB"));
    swd_config_free(&c);
}

static void test_admin_socket(void **state)
{
    (void)state;
    char path[] = "/tmp/sw-admin-XXXXXX";
    assert_non_null(mkdtemp(path));
    char sock[128];
    snprintf(sock, sizeof sock, "%s/a.sock", path);
    assert_int_equal(swd_check_admin_socket(sock, SWD_CHECK_START, err, sizeof err), SW_OK); /* absent */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(swd_check_admin_socket(sock, SWD_CHECK_START, err, sizeof err), SW_ECONFLICT);
    assert_non_null(strstr(err, "another sipwalld answers"));
    close(fd); /* the file stays: stale */
    struct stat st;
    assert_int_equal(swd_check_admin_socket(sock, SWD_CHECK_ONLY, err, sizeof err), SW_OK);
    assert_int_equal(stat(sock, &st), 0); /* a check removes nothing */
    assert_int_equal(swd_check_admin_socket(sock, SWD_CHECK_START, err, sizeof err), SW_OK);
    assert_int_equal(stat(sock, &st), -1); /* start removes the stale one */
    FILE *f = fopen(sock, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(swd_check_admin_socket(sock, SWD_CHECK_START, err, sizeof err), SW_EINVAL);
    unlink(sock);
    rmdir(path);
}

static void test_pid_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sw-pid-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    long pid = -1;
    assert_int_equal(swd_check_pid_file(path, &pid, err, sizeof err), SW_OK); /* empty */
    assert_int_equal(pid, 0);
    FILE *f = fopen(path, "w");
    fprintf(f, "%ld\n", (long)getppid()); /* alive, but not sipwalld */
    fclose(f);
    assert_int_equal(swd_check_pid_file(path, &pid, err, sizeof err), SW_OK);
    f = fopen(path, "w");
    fprintf(f, "not a pid\n");
    fclose(f);
    assert_int_equal(swd_check_pid_file(path, &pid, err, sizeof err), SW_OK);
    assert_int_equal(swd_pid_file_write(path, err, sizeof err), SW_OK);
    f = fopen(path, "r");
    long got = 0;
    assert_int_equal(fscanf(f, "%ld", &got), 1);
    fclose(f);
    assert_int_equal(got, (long)getpid());
    /* our own pid in it: not another instance */
    assert_int_equal(swd_check_pid_file(path, &pid, err, sizeof err), SW_OK);
    unlink(path);
}

static void test_placeholder_key(void **state)
{
    (void)state;
    swd_config c;
    parse_ok(passive, &c);
    assert_int_equal(swd_check_environment(&c, SWD_CHECK_ONLY, err, sizeof err), SW_OK);
    swd_config_free(&c);
    parse_ok("mode passive\n\nhep udp 127.0.0.1:9060 auth-key=Change-Me\n", &c);
    assert_int_equal(swd_check_environment(&c, SWD_CHECK_START, err, sizeof err), SW_EINVAL);
    assert_non_null(strstr(err, "t.conf:3: hep: auth-key 'Change-Me' is a placeholder"));
    swd_config_free(&c);
    parse_ok("mode passive\nhep udp 127.0.0.1:9060 auth-key=0123456789abcdef\n", &c);
    assert_int_equal(swd_check_environment(&c, SWD_CHECK_START, err, sizeof err), SW_OK);
    swd_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_need),       cmocka_unit_test(test_fd_limit),
        cmocka_unit_test(test_engine_memory), cmocka_unit_test(test_conn_memory),
        cmocka_unit_test(test_admin_socket),
        cmocka_unit_test(test_pid_file),      cmocka_unit_test(test_placeholder_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
