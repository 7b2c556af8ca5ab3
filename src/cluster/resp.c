/* RESP, the Redis protocol (include/sipwall/cluster.h "RESP"): hiredis
 * 0.14's reader parses, our object functions build the replies.
 *
 * Replies come from a peer we do not control (a Redis that is not ours, a
 * proxy in the way), so every object the reader creates goes through the
 * functions below, which count: objects per reply, elements declared by
 * arrays (hiredis allocates an array's pointers as soon as it reads "*N",
 * before any element arrives) and string bytes per reply.  Beyond a
 * ceiling a function returns NULL, which breaks the reader for good
 * (hiredis reports it as out of memory; we keep our own reason).  Unparsed
 * bytes are bounded at feed time: a bulk string longer than the buffer
 * ceiling can never complete.  hiredis itself refuses arrays nested deeper
 * than 7. */
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/cluster.h"

struct sw_resp_reader {
    redisReader *rd;
    size_t max_buffer, max_elements;
    size_t objects, declared, bytes; /* of the reply being read */
    int broken;
    char why[160];
};

static void *limit_hit(sw_resp_reader *r, const char *what, size_t n, size_t max)
{
    if (!r->why[0])
        snprintf(r->why, sizeof r->why, "reply over the ceiling: %s %zu > %zu", what, n, max);
    return NULL;
}

/* Links obj into its parent array (hiredis gives the index). */
static void *attach(const redisReadTask *task, sw_resp *v)
{
    if (task->parent) {
        sw_resp *p = task->parent->obj;
        if (!p || p->type != SW_RESP_ARRAY || task->idx < 0 || (size_t)task->idx >= p->n) {
            sw_resp_free(v); /* cannot happen with hiredis' reader; never index out of range */
            return NULL;
        }
        p->elem[task->idx] = v;
    }
    return v;
}

static sw_resp *new_obj(const redisReadTask *task, sw_resp_type type)
{
    sw_resp_reader *r = task->privdata;
    if (++r->objects > r->max_elements)
        return limit_hit(r, "objects", r->objects, r->max_elements);
    sw_resp *v = calloc(1, sizeof *v);
    if (v)
        v->type = type;
    return v;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
    sw_resp_reader *r = task->privdata;
    if (len > r->max_buffer || (r->bytes += len) > r->max_buffer)
        return limit_hit(r, "string bytes", r->bytes, r->max_buffer);
    sw_resp_type t = task->type == REDIS_REPLY_ERROR    ? SW_RESP_ERROR
                     : task->type == REDIS_REPLY_STATUS ? SW_RESP_STATUS
                                                        : SW_RESP_STRING;
    sw_resp *v = new_obj(task, t);
    if (!v)
        return NULL;
    if (!(v->str = malloc(len + 1))) {
        free(v);
        return NULL;
    }
    memcpy(v->str, str, len);
    v->str[len] = '\0';
    v->len = len;
    return attach(task, v);
}

static void *create_array(const redisReadTask *task, int elements)
{
    sw_resp_reader *r = task->privdata;
    if (elements < 0)
        return NULL;
    if ((r->declared += (size_t)elements) > r->max_elements)
        return limit_hit(r, "array elements", r->declared, r->max_elements);
    sw_resp *v = new_obj(task, SW_RESP_ARRAY);
    if (!v)
        return NULL;
    if (elements > 0 && !(v->elem = calloc((size_t)elements, sizeof *v->elem))) {
        free(v);
        return NULL;
    }
    v->n = (size_t)elements;
    return attach(task, v);
}

static void *create_integer(const redisReadTask *task, long long value)
{
    sw_resp *v = new_obj(task, SW_RESP_INTEGER);
    if (!v)
        return NULL;
    v->integer = value;
    return attach(task, v);
}

static void *create_nil(const redisReadTask *task)
{
    sw_resp *v = new_obj(task, SW_RESP_NIL);
    return v ? attach(task, v) : NULL;
}

static void free_object(void *obj)
{
    sw_resp_free(obj);
}

static redisReplyObjectFunctions resp_functions = {
    create_string, create_array, create_integer, create_nil, free_object,
};

void sw_resp_free(sw_resp *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        sw_resp_free(v->elem[i]);
    free(v->elem);
    free(v->str);
    free(v);
}

sw_resp_reader *sw_resp_reader_new(size_t max_buffer, size_t max_elements)
{
    sw_resp_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->max_buffer = max_buffer ? max_buffer : SW_RESP_MAX_BUFFER_DEFAULT;
    r->max_elements = max_elements ? max_elements : SW_RESP_MAX_ELEMENTS_DEFAULT;
    if (!(r->rd = redisReaderCreateWithFunctions(&resp_functions))) {
        free(r);
        return NULL;
    }
    r->rd->privdata = r;
    return r;
}

void sw_resp_reader_free(sw_resp_reader *r)
{
    if (!r)
        return;
    redisReaderFree(r->rd);
    free(r);
}

static int broken(sw_resp_reader *r, const char *why)
{
    r->broken = 1;
    if (!r->why[0])
        snprintf(r->why, sizeof r->why, "%s", why);
    return SW_EINVAL;
}

int sw_resp_feed(sw_resp_reader *r, const void *buf, size_t n)
{
    if (r->broken)
        return SW_EINVAL;
    if (n == 0)
        return SW_OK;
    size_t held = r->rd->len - r->rd->pos;
    if (n > r->max_buffer || held > r->max_buffer - n) {
        char why[128];
        snprintf(why, sizeof why, "reply over the ceiling: %zu unparsed bytes > %zu", held + n, r->max_buffer);
        broken(r, why);
        return SW_ELIMIT;
    }
    if (redisReaderFeed(r->rd, buf, n) != REDIS_OK)
        return broken(r, r->rd->errstr[0] ? r->rd->errstr : "out of memory");
    return SW_OK;
}

int sw_resp_next(sw_resp_reader *r, sw_resp **out)
{
    *out = NULL;
    if (r->broken)
        return SW_EINVAL;
    void *reply = NULL;
    if (redisReaderGetReply(r->rd, &reply) != REDIS_OK)
        return broken(r, r->rd->errstr[0] ? r->rd->errstr : "protocol error");
    if (!reply)
        return SW_EINCOMPLETE;
    r->objects = r->declared = r->bytes = 0;
    *out = reply;
    return SW_OK;
}

const char *sw_resp_error(const sw_resp_reader *r)
{
    return r->why;
}

int sw_resp_command(char **out, size_t *len, int argc, const char **argv, const size_t *argvlen)
{
    *out = NULL;
    *len = 0;
    if (argc < 1)
        return SW_EUSAGE;
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (n < 0 || !cmd)
        return SW_ENOMEM;
    /* ours to free with free(), whatever allocator hiredis was built with */
    char *copy = malloc((size_t)n);
    if (copy)
        memcpy(copy, cmd, (size_t)n);
    redisFreeCommand(cmd);
    if (!copy)
        return SW_ENOMEM;
    *out = copy;
    *len = (size_t)n;
    return SW_OK;
}
