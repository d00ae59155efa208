/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite.c - the embedded SQLite backend: connection set-up (WAL, foreign keys), numbered
 * migrations, transactions and savepoints, a statement cache, and the agent, team, session,
 * token, inbox, audit, event and job operations. Conversations, contacts and messages are in
 * store_sqlite_conv.c, canned answers and notifications in store_sqlite_workspace.c, the chat
 * widget in store_sqlite_widget.c. The url is a
 * data directory, optionally followed by "?sync=normal".
 */
#include "store_sqlite_int.h"
#include "../base/clock.h"
#include "../base/embed.h"
#include "../base/log.h"

#include <errno.h>
#include <sys/stat.h>

extern const struct kp_embed kp_sqlite_migrations[];
extern const size_t kp_sqlite_migrations_count;

int kp_sq_err(struct sq *q, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_CONSTRAINT:
        return KP_EEXIST;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return KP_EBUSY;
    case SQLITE_TOOBIG:
        return KP_ETOOBIG;
    case SQLITE_NOMEM:
        return KP_ENOMEM;
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return KP_EINVAL;
    }
    kp_log_error("sqlite: %s", q ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
    return KP_EIO;
}

static sqlite3_stmt *cached(struct sq *q, const char *sql, bool literal)
{
    /* a string literal is found by its address; built SQL only by its text, because a freed
     * buffer's address may come back holding other SQL */
    for (int i = 0; literal && i < STMT_CACHE; i++) {
        if (q->cache[i].key == sql && q->cache[i].st) {
            q->cache[i].used = ++q->tick;
            sqlite3_reset(q->cache[i].st);
            sqlite3_clear_bindings(q->cache[i].st);
            return q->cache[i].st;
        }
    }
    int victim = 0;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (q->cache[i].sql && strcmp(q->cache[i].sql, sql) == 0) {
            if (literal)
                q->cache[i].key = sql;
            q->cache[i].used = ++q->tick;
            sqlite3_reset(q->cache[i].st);
            sqlite3_clear_bindings(q->cache[i].st);
            return q->cache[i].st;
        }
        if (q->cache[i].used < q->cache[victim].used)
            victim = i;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        kp_log_error("sqlite: cannot prepare '%.60s': %s", sql, sqlite3_errmsg(q->db));
        return NULL;
    }
    if (q->cache[victim].st) {
        sqlite3_finalize(q->cache[victim].st);
        free(q->cache[victim].sql);
    }
    q->cache[victim].sql = kp_xstrdup(sql);
    q->cache[victim].key = literal ? sql : NULL;
    q->cache[victim].st = st;
    q->cache[victim].used = ++q->tick;
    return st;
}

sqlite3_stmt *kp_sq_stmt(struct sq *q, const char *sql)
{
    return cached(q, sql, true);
}

sqlite3_stmt *kp_sq_stmt_built(struct sq *q, const char *sql)
{
    return cached(q, sql, false);
}

int kp_sq_exec_stmt(struct sq *q, sqlite3_stmt *st)
{
    if (!st)
        return KP_EIO;
    int rc = sqlite3_step(st);
    int err = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : kp_sq_err(q, rc);
    sqlite3_reset(st);
    return err;
}

void kp_sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static bool is_time_column(const char *name, size_t len)
{
    return (len > 3 && strcmp(name + len - 3, "_at") == 0) || strcmp(name, "ts") == 0 ||
           strcmp(name, "waiting_since") == 0;
}

json_t *kp_sq_row(sqlite3_stmt *st)
{
    json_t *o = json_object();
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        size_t len = strlen(name);
        json_t *v, *into = o;
        const char *dot = strchr(name, '.');
        if (dot) {
            /* "contact.id" goes into a nested "contact" object */
            char outer[64];
            snprintf(outer, sizeof(outer), "%.*s", (int)(dot - name), name);
            into = json_object_get(o, outer);
            if (!into) {
                into = json_object();
                json_object_set_new(o, outer, into);
            }
            name = dot + 1;
            len = strlen(name);
        }
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            if (is_time_column(name, len)) {
                char iso[32];
                kp_clock_iso8601(sqlite3_column_int64(st, i), iso, sizeof(iso));
                v = json_string(iso);
            } else {
                v = json_integer(sqlite3_column_int64(st, i));
            }
            break;
        case SQLITE_FLOAT:
            v = json_real(sqlite3_column_double(st, i));
            break;
        case SQLITE_TEXT: {
            const char *t = (const char *)sqlite3_column_text(st, i);
            size_t tl = (size_t)sqlite3_column_bytes(st, i);
            if (len > 5 && strcmp(name + len - 5, "_json") == 0) {
                v = json_loadb(t, tl, JSON_DECODE_ANY, NULL);
                if (!v)
                    v = json_null();
                char key[64];
                snprintf(key, sizeof(key), "%.*s", (int)(len - 5), name);
                json_object_set_new(into, key, v);
                continue;
            }
            v = json_stringn_nocheck(t, tl);
            break;
        }
        default:
            v = json_null();
            if (len > 5 && strcmp(name + len - 5, "_json") == 0)
                len -= 5; /* a NULL "x_json" is x: null */
        }
        if (len < strlen(name)) {
            char key[64];
            snprintf(key, sizeof(key), "%.*s", (int)len, name);
            json_object_set_new(into, key, v);
            continue;
        }
        json_object_set_new(into, name, v);
    }
    return o;
}

/* "2026-11-27T17:44:18.123Z" without printf (days-to-civil after H. Hinnant). */
static void iso8601(int64_t ms, char out[25])
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msec = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int sod = (int)(secs - days * 86400);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999)
        y = 0;
    int v[] = {(int)y / 1000,
               (int)y / 100 % 10,
               (int)y / 10 % 10,
               (int)y % 10,
               0,
               (int)m / 10,
               (int)m % 10,
               0,
               (int)d / 10,
               (int)d % 10,
               0,
               sod / 36000,
               sod / 3600 % 10,
               0,
               sod % 3600 / 600,
               sod % 3600 / 60 % 10,
               0,
               sod % 60 / 10,
               sod % 10,
               0,
               msec / 100,
               msec / 10 % 10,
               msec % 10};
    static const char sep[] = "    -  -  T  :  :  .   ";
    for (int i = 0; i < 23; i++)
        out[i] = sep[i] != ' ' ? sep[i] : (char)('0' + v[i]);
    out[23] = 'Z';
    out[24] = '\0';
}

/* Bytes that need escaping in a JSON string: control characters, '"' and '\\'. */
static const bool needs_escape[256] = {
    [0 ... 0x1f] = true,
    ['"'] = true,
    ['\\'] = true,
};

static int append_string(struct kp_buf *b, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = kp_buf_append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = s[i];
        if (!needs_escape[c])
            continue;
        rc = kp_buf_append(b, s + run, i - run);
        char esc[6] = {'\\', (char)c, 0};
        size_t el = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c == '\t')
            esc[1] = 't';
        else if (c < 0x20) {
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            el = 6;
        }
        if (!rc)
            rc = kp_buf_append(b, esc, el);
        run = i + 1;
    }
    if (!rc)
        rc = kp_buf_append(b, s + run, n - run);
    return rc ? rc : kp_buf_append(b, "\"", 1);
}

static int append_int(struct kp_buf *b, int64_t v)
{
    char num[24], *p = num + sizeof(num);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return kp_buf_append(b, p, (size_t)(num + sizeof(num) - p));
}

void kp_sq_cols_describe(sqlite3_stmt *st, struct kp_sq_cols *cols)
{
    /* what to write before each value: `{"id":`, `,"name":`, `,"contact":{"id":`, `},"x":` */
    int n = sqlite3_column_count(st);
    KP_ASSERT(n <= KP_SQ_MAX_COLS);
    const char *nested = NULL;
    size_t nested_len = 0;
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        const char *dot = strchr(name, '.');
        struct kp_buf pre = {.data = cols->c[i].pre,
                             .alloc = sizeof(cols->c[i].pre),
                             .cap = sizeof(cols->c[i].pre) - 1};
        bool first = i == 0;
        if (first)
            kp_buf_append(&pre, "{", 1);
        if (nested && (!dot || (size_t)(dot - name) != nested_len ||
                       strncmp(name, nested, nested_len) != 0)) {
            kp_buf_append(&pre, "}", 1);
            nested = NULL;
        }
        if (dot && !nested) {
            kp_buf_printf(&pre, "%s\"%.*s\":{", first ? "" : ",", (int)(dot - name), name);
            nested = name;
            nested_len = (size_t)(dot - name);
            first = true;
        }
        const char *key = dot ? dot + 1 : name;
        size_t len = strlen(key);
        bool raw = len > 5 && memcmp(key + len - 5, "_json", 5) == 0;
        cols->c[i].raw = raw;
        cols->c[i].time = is_time_column(key, len);
        if (kp_buf_printf(&pre, "%s\"%.*s\":", first ? "" : ",", (int)(raw ? len - 5 : len), key))
            KP_ASSERT(!"column name too long");
        cols->c[i].pre_len = (uint8_t)pre.len;
    }
    cols->close_len = 0;
    if (nested)
        cols->close[cols->close_len++] = '}';
    cols->close[cols->close_len++] = '}';
    cols->n = n;
}

int kp_sq_row_text(sqlite3_stmt *st, struct kp_sq_cols *cols, struct kp_buf *b)
{
    if (!cols->n)
        kp_sq_cols_describe(st, cols);
    int rc = 0;
    for (int i = 0; i < cols->n && !rc; i++) {
        rc = kp_buf_append(b, cols->c[i].pre, cols->c[i].pre_len);
        if (rc)
            break;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            if (cols->c[i].time) {
                char iso[26];
                iso[0] = '"';
                iso8601(sqlite3_column_int64(st, i), iso + 1);
                iso[25] = '"';
                rc = kp_buf_append(b, iso, 26);
            } else {
                rc = append_int(b, sqlite3_column_int64(st, i));
            }
            break;
        case SQLITE_TEXT: {
            const unsigned char *t = sqlite3_column_text(st, i);
            size_t tl = (size_t)sqlite3_column_bytes(st, i);
            rc = cols->c[i].raw ? kp_buf_append(b, t, tl) : append_string(b, t, tl);
            break;
        }
        case SQLITE_FLOAT: {
            char num[40];
            int nl = snprintf(num, sizeof(num), "%.17g", sqlite3_column_double(st, i));
            rc = kp_buf_append(b, num, (size_t)nl);
            break;
        }
        default:
            rc = kp_buf_append(b, "null", 4);
        }
    }
    return rc ? rc : kp_buf_append(b, cols->close, cols->close_len);
}

int kp_sq_rows(struct sq *q, sqlite3_stmt *st, json_t **out)
{
    *out = NULL;
    if (!st)
        return KP_EIO;
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, kp_sq_row(st));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return kp_sq_err(q, rc);
    }
    *out = arr;
    return 0;
}

int kp_sq_row1(struct sq *q, sqlite3_stmt *st, json_t **out)
{
    *out = NULL;
    if (!st)
        return KP_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = kp_sq_row(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? KP_ENOTFOUND : kp_sq_err(q, rc);
}

char *kp_sq_fts_query(const char *text)
{
    size_t n = strlen(text);
    char *out = kp_xmalloc(n * 3 + 8), *o = out;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        while (*p && *p < 0x80 && !(*p >= '0' && *p <= '9') &&
               !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
            p++;
        if (!*p)
            break;
        if (o != out)
            *o++ = ' ';
        *o++ = '"';
        while (*p && (*p >= 0x80 || (*p >= '0' && *p <= '9') ||
                      ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || *p == '-' || *p == '_'))
            *o++ = (char)*p++;
        *o++ = '"';
    }
    *o = '\0';
    if (o == out) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- connection ---- */

static int exec(struct sq *q, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        kp_log_error("sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return kp_sq_err(NULL, rc);
    }
    return 0;
}

static void sq_close(struct kp_store *s)
{
    struct sq *q = SQ(s);
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(q->cache[i].st);
        free(q->cache[i].sql);
    }
    free(q->tx_notices);
    sqlite3_close(q->db);
    free(q);
}

static int sq_open(const char *url, struct kp_store **out)
{
    static bool configured;
    if (!configured) {
        /* no global allocator mutex; connections are never shared between threads */
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        configured = true;
    }
    extern const struct kp_store_ops kp_store_sqlite_ops;
    *out = NULL;
    char dir[1024], path[1100];
    const char *opt = strchr(url, '?');
    size_t dl = opt ? (size_t)(opt - url) : strlen(url);
    if (dl == 0 || dl >= sizeof(dir))
        return KP_EINVAL;
    memcpy(dir, url, dl);
    dir[dl] = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        kp_log_error("cannot create data directory '%s': %s", dir, strerror(errno));
        return KP_EIO;
    }
    snprintf(path, sizeof(path), "%s/knotenpunkt.db", dir);
    struct sq *q = kp_xcalloc(1, sizeof(*q));
    q->base.ops = &kp_store_sqlite_ops;
    if (sqlite3_open_v2(path, &q->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        kp_log_error("cannot open database '%s': %s", path, sqlite3_errmsg(q->db));
        goto fail;
    }
    sqlite3_busy_timeout(q->db, 10000);
    const char *sync = opt && strstr(opt, "sync=normal") ? "NORMAL" : "FULL";
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; "
             "PRAGMA foreign_keys=ON;"
             "PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY;",
             sync);
    if (exec(q, pragmas))
        goto fail;
    *out = &q->base;
    return 0;
fail:
    sq_close(&q->base);
    return KP_EIO;
}

/* The database file of a data directory url ("DIR" or "DIR?options"). */
static int db_path(const char *url, char *out, size_t cap)
{
    const char *opt = strchr(url, '?');
    int dl = opt ? (int)(opt - url) : (int)strlen(url);
    int n = snprintf(out, cap, "%.*s/knotenpunkt.db", dl, url);
    return dl > 0 && n > 0 && (size_t)n < cap ? 0 : KP_EINVAL;
}

static int sq_backup(struct kp_store *s, const char *path)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "VACUUM INTO ?");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, path);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    kp_log_error("backup to '%s' failed: %s", path, sqlite3_errmsg(q->db));
    return KP_EIO;
}

static int sq_restore(const char *url, const char *from)
{
    char path[1100];
    if (db_path(url, path, sizeof(path)))
        return KP_EINVAL;
    struct stat stbuf;
    if (stat(path, &stbuf) == 0 && stbuf.st_size > 0)
        return KP_EEXIST;
    /* the file must be an intact Knotenpunkt database no newer than this program */
    sqlite3 *src = NULL, *dst = NULL;
    int rc = KP_EINVAL;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto out;
    sqlite3_stmt *st = NULL;
    int version = -1;
    bool intact = false;
    if (sqlite3_prepare_v2(src, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        intact = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    long newest = strtol(kp_sqlite_migrations[kp_sqlite_migrations_count - 1].name, NULL, 10);
    if (!intact || version < 1 || version > newest) {
        kp_log_error("'%s' is not an intact Knotenpunkt backup (schema %d)", from, version);
        goto out;
    }
    char dir[1100];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = KP_EIO;
        goto out;
    }
    rc = KP_EIO;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        goto out;
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b && sqlite3_backup_step(b, -1) == SQLITE_DONE && sqlite3_backup_finish(b) == SQLITE_OK &&
        sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK)
        rc = 0;
    else if (b)
        sqlite3_backup_finish(b);
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc;
}

static int sq_migrate(struct kp_store *s, int *version)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "PRAGMA user_version");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return KP_EIO;
    int have = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    /* 001 changed before the first release; a store made before that lacks the pipeline */
    if (have >= 1 && sqlite3_table_column_metadata(q->db, NULL, "pipeline", "last_message_id", NULL,
                                                   NULL, NULL, NULL, NULL) != SQLITE_OK) {
        kp_log_error("this data directory was made by a development build before the first "
                     "release; move it away and start with a new one");
        return KP_EINVAL;
    }
    for (size_t i = 0; i < kp_sqlite_migrations_count; i++) {
        const struct kp_embed *m = &kp_sqlite_migrations[i];
        char *end;
        long n = strtol(m->name, &end, 10);
        if (n <= have)
            continue;
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version=%ld;", n);
        if (exec(q, "BEGIN IMMEDIATE") || exec(q, m->data) || exec(q, bump) || exec(q, "COMMIT")) {
            exec(q, "ROLLBACK");
            kp_log_error("migration '%s' failed", m->name);
            return KP_EIO;
        }
        kp_log_info("applied migration '%s'", m->name);
        have = (int)n;
    }
    *version = have;
    return 0;
}

static int sq_begin(struct kp_store *s)
{
    SQ(s)->n_tx_notices = 0;
    return kp_sq_exec_stmt(SQ(s), kp_sq_stmt(SQ(s), "BEGIN IMMEDIATE"));
}

static int sq_commit(struct kp_store *s)
{
    return kp_sq_exec_stmt(SQ(s), kp_sq_stmt(SQ(s), "COMMIT"));
}

static int sq_rollback(struct kp_store *s)
{
    SQ(s)->n_tx_notices = 0;
    return kp_sq_exec_stmt(SQ(s), kp_sq_stmt(SQ(s), "ROLLBACK"));
}

static int sq_savepoint(struct kp_store *s)
{
    SQ(s)->savepoint_mark = SQ(s)->n_tx_notices;
    return kp_sq_exec_stmt(SQ(s), kp_sq_stmt(SQ(s), "SAVEPOINT kp"));
}

static int sq_release(struct kp_store *s)
{
    return kp_sq_exec_stmt(SQ(s), kp_sq_stmt(SQ(s), "RELEASE kp"));
}

static int sq_undo(struct kp_store *s)
{
    struct sq *q = SQ(s);
    q->n_tx_notices = q->savepoint_mark; /* the undone job's notices never happened */
    int rc = kp_sq_exec_stmt(q, kp_sq_stmt(q, "ROLLBACK TO kp"));
    return rc ? rc : kp_sq_exec_stmt(q, kp_sq_stmt(q, "RELEASE kp"));
}

/* Runs st and reports the new row id. */
static int insert(struct sq *q, sqlite3_stmt *st, int64_t *id)
{
    int rc = kp_sq_exec_stmt(q, st);
    if (!rc && id)
        *id = sqlite3_last_insert_rowid(q->db);
    return rc;
}

/* Runs an UPDATE/DELETE; KP_ENOTFOUND when it touched nothing. */
static int change(struct sq *q, sqlite3_stmt *st)
{
    int rc = kp_sq_exec_stmt(q, st);
    return rc ? rc : sqlite3_changes(q->db) ? 0 : KP_ENOTFOUND;
}

/* ---- agents and teams ---- */

static int agent_create(struct kp_store *s, const struct kp_agent_new *in, int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO agents(email, name, role, password_hash, "
                                     "created_at) VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, in->email);
    kp_sq_bind_text(st, 2, in->name);
    kp_sq_bind_text(st, 3, in->role);
    kp_sq_bind_text(st, 4, in->password_hash);
    sqlite3_bind_int64(st, 5, kp_clock_now_ms());
    return insert(q, st, id);
}

static int agent_update(struct kp_store *s, int64_t id, const struct kp_agent_change *ch)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE agents SET name = coalesce(?2, name), "
                                     "role = coalesce(?3, role), "
                                     "password_hash = coalesce(?4, password_hash), "
                                     "active = CASE WHEN ?5 < 0 THEN active ELSE ?5 END "
                                     "WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    kp_sq_bind_text(st, 2, ch->name);
    kp_sq_bind_text(st, 3, ch->role);
    kp_sq_bind_text(st, 4, ch->password_hash);
    sqlite3_bind_int(st, 5, ch->active);
    int rc = change(q, st);
    if (!rc && ch->active == 0) {
        /* a deactivated agent loses every session and token at once */
        st = kp_sq_stmt(q, "DELETE FROM sessions WHERE agent_id = ?");
        sqlite3_bind_int64(st, 1, id);
        rc = kp_sq_exec_stmt(q, st);
    }
    return rc;
}

#define AGENT_COLUMNS                                                                              \
    "SELECT a.id, a.email, a.name, a.role, a.active = 1 AS active_flag, a.created_at, "            \
    "(SELECT json_group_array(team_id) FROM team_members WHERE agent_id = a.id) AS teams_json "    \
    "FROM agents a "

static void fix_active(json_t *agent)
{
    json_object_set_new(agent, "active",
                        json_boolean(json_integer_value(json_object_get(agent, "active_flag"))));
    json_object_del(agent, "active_flag");
}

static int agent_get(struct kp_store *s, int64_t id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, AGENT_COLUMNS "WHERE a.id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = kp_sq_row1(q, st, out);
    if (!rc)
        fix_active(*out);
    return rc;
}

static int agent_list(struct kp_store *s, json_t **out)
{
    struct sq *q = SQ(s);
    int rc = kp_sq_rows(q, kp_sq_stmt(q, AGENT_COLUMNS "ORDER BY a.name, a.id"), out);
    size_t i;
    json_t *a;
    if (!rc)
        json_array_foreach(*out, i, a) fix_active(a);
    return rc;
}

static int agent_credentials(struct kp_store *s, const char *email, int64_t *id, char *hash,
                             size_t cap)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "SELECT id, password_hash FROM agents "
                      "WHERE email = ? AND active = 1 AND password_hash IS NOT NULL");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, email);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(hash, cap, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

static int agent_principal(struct kp_store *s, int64_t id, struct kp_principal *out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "SELECT role = 'admin', active, name FROM agents WHERE id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->agent_id = id;
        out->admin = sqlite3_column_int(st, 0) != 0;
        out->active = sqlite3_column_int(st, 1) != 0;
        snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

static int team_create(struct kp_store *s, const char *name, int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO teams(name, created_at) VALUES (?, ?)");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, kp_clock_now_ms());
    return insert(q, st, id);
}

static int team_rename(struct kp_store *s, int64_t id, const char *name)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE teams SET name = ? WHERE id = ?");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, id);
    return change(q, st);
}

#define TEAM_COLUMNS                                                                               \
    "SELECT t.id, t.name, t.created_at, (SELECT json_group_array(agent_id) FROM team_members "     \
    "WHERE team_id = t.id) AS members_json FROM teams t "

static int team_get(struct kp_store *s, int64_t id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, TEAM_COLUMNS "WHERE t.id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    return kp_sq_row1(q, st, out);
}

static int team_list(struct kp_store *s, json_t **out)
{
    return kp_sq_rows(SQ(s), kp_sq_stmt(SQ(s), TEAM_COLUMNS "ORDER BY t.name"), out);
}

static int team_member(struct kp_store *s, int64_t team_id, int64_t agent_id, bool add)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, add ? "INSERT OR IGNORE INTO team_members(team_id, agent_id) VALUES (?, ?)"
                          : "DELETE FROM team_members WHERE team_id = ? AND agent_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, team_id);
    sqlite3_bind_int64(st, 2, agent_id);
    int rc = kp_sq_exec_stmt(q, st);
    /* a foreign key failure means the team or agent does not exist */
    return rc == KP_EEXIST ? KP_ENOTFOUND : rc;
}

static int agent_teams(struct kp_store *s, int64_t agent_id, int64_t *teams, size_t *n)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT team_id FROM team_members WHERE agent_id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, agent_id);
    size_t cap = *n, k = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (k < cap)
            teams[k++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    *n = k;
    return rc == SQLITE_DONE ? 0 : kp_sq_err(q, rc);
}

/* ---- sessions and tokens ---- */

static int session_create(struct kp_store *s, const uint8_t hash[32], int64_t agent_id,
                          const char *csrf, int64_t expires_ms)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO sessions(token_hash, agent_id, csrf, "
                                     "created_at, expires_at) VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, agent_id);
    kp_sq_bind_text(st, 3, csrf);
    sqlite3_bind_int64(st, 4, kp_clock_now_ms());
    sqlite3_bind_int64(st, 5, expires_ms);
    int rc = kp_sq_exec_stmt(q, st);
    if (!rc) {
        st = kp_sq_stmt(q, "DELETE FROM sessions WHERE expires_at < ?");
        sqlite3_bind_int64(st, 1, kp_clock_now_ms());
        rc = kp_sq_exec_stmt(q, st);
    }
    return rc;
}

static int session_lookup(struct kp_store *s, const uint8_t hash[32], int64_t now_ms,
                          int64_t *agent_id, char csrf[64])
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "SELECT s.agent_id, s.csrf FROM sessions s "
                      "JOIN agents a ON a.id = s.agent_id "
                      "WHERE s.token_hash = ? AND s.expires_at > ? AND a.active = 1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *agent_id = sqlite3_column_int64(st, 0);
        snprintf(csrf, 64, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

static int session_delete(struct kp_store *s, const uint8_t hash[32])
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "DELETE FROM sessions WHERE token_hash = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    return kp_sq_exec_stmt(q, st);
}

static int token_create(struct kp_store *s, int64_t agent_id, const char *name,
                        const uint8_t hash[32], int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO api_tokens(agent_id, name, token_hash, "
                                     "created_at) VALUES (?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, agent_id);
    kp_sq_bind_text(st, 2, name);
    sqlite3_bind_blob(st, 3, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, kp_clock_now_ms());
    return insert(q, st, id);
}

static int token_lookup(struct kp_store *s, const uint8_t hash[32], int64_t *agent_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st =
        kp_sq_stmt(q, "SELECT t.agent_id FROM api_tokens t JOIN agents a "
                      "ON a.id = t.agent_id WHERE t.token_hash = ? AND a.active = 1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *agent_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return kp_sq_one(q, rc);
}

static int token_list(struct kp_store *s, int64_t agent_id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id, name, created_at FROM api_tokens "
                                     "WHERE agent_id = ? ORDER BY id");
    if (st)
        sqlite3_bind_int64(st, 1, agent_id);
    return kp_sq_rows(q, st, out);
}

static int token_delete(struct kp_store *s, int64_t agent_id, int64_t id, uint8_t hash[32])
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "DELETE FROM api_tokens WHERE id = ? AND agent_id = ? "
                                     "RETURNING token_hash");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, agent_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
        memcpy(hash, sqlite3_column_blob(st, 0), 32);
    int done = rc == SQLITE_ROW ? sqlite3_step(st) : rc;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return KP_ENOTFOUND;
    return rc == SQLITE_ROW && done == SQLITE_DONE ? 0 : kp_sq_err(q, rc == SQLITE_ROW ? done : rc);
}

/* ---- inboxes ---- */

static int inbox_create(struct kp_store *s, const char *name, const char *channel, int64_t team_id,
                        int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO inboxes(name, channel, team_id, created_at) "
                                     "VALUES (?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    kp_sq_bind_text(st, 1, name);
    kp_sq_bind_text(st, 2, channel);
    if (team_id)
        sqlite3_bind_int64(st, 3, team_id);
    sqlite3_bind_int64(st, 4, kp_clock_now_ms());
    int rc = insert(q, st, id);
    return rc == KP_EEXIST ? KP_ENOTFOUND : rc; /* foreign key: no such team */
}

static int inbox_update(struct kp_store *s, int64_t id, const char *name, int64_t team_id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "UPDATE inboxes SET name = coalesce(?2, name), team_id = "
                                     "CASE WHEN ?3 = 0 THEN team_id WHEN ?3 < 0 THEN NULL "
                                     "ELSE ?3 END WHERE id = ?1");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    kp_sq_bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, team_id);
    int rc = change(q, st);
    return rc == KP_EEXIST ? KP_ENOTFOUND : rc; /* foreign key: no such team */
}

#define INBOX_COLUMNS "SELECT id, name, channel, team_id, created_at FROM inboxes "

static int inbox_get(struct kp_store *s, int64_t id, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, INBOX_COLUMNS "WHERE id = ?");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, id);
    return kp_sq_row1(q, st, out);
}

static int inbox_list(struct kp_store *s, json_t **out)
{
    return kp_sq_rows(SQ(s), kp_sq_stmt(SQ(s), INBOX_COLUMNS "ORDER BY id"), out);
}

/* ---- audit, events ---- */

static int audit_add(struct kp_store *s, int64_t agent_id, const char *action,
                     const char *object_type, int64_t object_id, json_t *detail)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO audit_log(ts, agent_id, action, object_type, "
                                     "object_id, detail) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    sqlite3_bind_int64(st, 1, kp_clock_now_ms());
    if (agent_id)
        sqlite3_bind_int64(st, 2, agent_id);
    kp_sq_bind_text(st, 3, action);
    kp_sq_bind_text(st, 4, object_type);
    sqlite3_bind_int64(st, 5, object_id);
    kp_sq_bind_text(st, 6, d);
    int rc = kp_sq_exec_stmt(q, st);
    free(d);
    return rc;
}

static int audit_list(struct kp_store *s, int64_t before_id, int limit, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id, ts, agent_id, action, object_type, object_id, "
                                     "detail AS detail_json FROM audit_log "
                                     "WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2");
    if (st) {
        sqlite3_bind_int64(st, 1, before_id);
        sqlite3_bind_int(st, 2, limit);
    }
    return kp_sq_rows(q, st, out);
}

static int notify(struct kp_store *s, const struct kp_notice *n)
{
    struct sq *q = SQ(s);
    if (q->n_tx_notices == q->cap_tx_notices) {
        q->cap_tx_notices = q->cap_tx_notices ? 2 * q->cap_tx_notices : 64;
        q->tx_notices = kp_xrealloc(q->tx_notices, q->cap_tx_notices * sizeof(*q->tx_notices));
    }
    q->tx_notices[q->n_tx_notices++] = *n;
    return 0;
}

static int notices_drain(struct kp_store *s, struct kp_notice **out, size_t *n)
{
    struct sq *q = SQ(s);
    *n = q->n_tx_notices;
    *out = NULL;
    if (*n) {
        *out = kp_xmalloc(*n * sizeof(**out));
        memcpy(*out, q->tx_notices, *n * sizeof(**out));
    }
    q->n_tx_notices = 0;
    return 0;
}

static int event_add(struct kp_store *s, struct kp_event *ev)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "INSERT INTO events(ts, type, conversation_id, message_id, "
                                     "team_id, assignee_id) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, kp_clock_now_ms());
    kp_sq_bind_text(st, 2, ev->type);
    int64_t refs[] = {ev->conversation_id, ev->message_id, ev->team_id, ev->assignee_id};
    for (int i = 0; i < 4; i++)
        if (refs[i])
            sqlite3_bind_int64(st, 3 + i, refs[i]);
    int rc = insert(q, st, &ev->id);
    if (rc)
        return rc;
    struct kp_notice n = {.kind = KP_NOTICE_EVENT, .ev = *ev};
    return notify(s, &n);
}

static int event_since(struct kp_store *s, int64_t since_id, int limit, json_t **out)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT id, ts, type, conversation_id, message_id, team_id, "
                                     "assignee_id FROM events WHERE id > ? ORDER BY id LIMIT ?");
    if (st) {
        sqlite3_bind_int64(st, 1, since_id);
        sqlite3_bind_int(st, 2, limit);
    }
    return kp_sq_rows(q, st, out);
}

static int event_prune(struct kp_store *s, int64_t before_ms)
{
    struct sq *q = SQ(s);
    /* events are in time order: find the newest old one by id, delete up to it; the newest
     * event stays, so that ids are never reused */
    sqlite3_stmt *st = kp_sq_stmt(q, "DELETE FROM events WHERE id <= (SELECT max(id) FROM events "
                                     "WHERE ts < ?) AND id < (SELECT max(id) FROM events)");
    if (!st)
        return KP_EIO;
    sqlite3_bind_int64(st, 1, before_ms);
    return kp_sq_exec_stmt(q, st);
}

static int event_last(struct kp_store *s, int64_t *id)
{
    struct sq *q = SQ(s);
    sqlite3_stmt *st = kp_sq_stmt(q, "SELECT coalesce(max(id), 0) FROM events");
    if (!st)
        return KP_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : kp_sq_err(q, rc);
}

static int stats(struct kp_store *s, json_t **out)
{
    struct sq *q = SQ(s);
    return kp_sq_row1(q,
                      kp_sq_stmt(q, "SELECT (SELECT count(*) FROM agents) AS agents, "
                                    "(SELECT count(*) FROM teams) AS teams, "
                                    "(SELECT count(*) FROM contacts) AS contacts, "
                                    "(SELECT count(*) FROM conversations) AS conversations, "
                                    "(SELECT count(*) FROM messages) AS messages, "
                                    "(SELECT coalesce(max(id), 0) FROM messages) - "
                                    "(SELECT last_message_id FROM pipeline) AS pipeline_pending"),
                      out);
}

const struct kp_store_ops kp_store_sqlite_ops = {
    .name = "sqlite",
    .scheme = "sqlite:",
    .open = sq_open,
    .restore = sq_restore,
    .close = sq_close,
    .migrate = sq_migrate,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .undo = sq_undo,
    .agent_create = agent_create,
    .agent_update = agent_update,
    .agent_get = agent_get,
    .agent_list = agent_list,
    .agent_credentials = agent_credentials,
    .agent_principal = agent_principal,
    .team_create = team_create,
    .team_rename = team_rename,
    .team_get = team_get,
    .team_list = team_list,
    .team_member = team_member,
    .agent_teams = agent_teams,
    .session_create = session_create,
    .session_lookup = session_lookup,
    .session_delete = session_delete,
    .token_create = token_create,
    .token_lookup = token_lookup,
    .token_list = token_list,
    .token_delete = token_delete,
    .inbox_create = inbox_create,
    .inbox_get = inbox_get,
    .inbox_list = inbox_list,
    .inbox_update = inbox_update,
    .contact_create = kp_sq_contact_create,
    .contact_get = kp_sq_contact_get,
    .contact_list = kp_sq_contact_list,
    .contact_update = kp_sq_contact_update,
    .identity_add = kp_sq_identity_add,
    .identity_delete = kp_sq_identity_delete,
    .conversation_list = kp_sq_conversation_list,
    .conversation_get = kp_sq_conversation_get,
    .conversation_access = kp_sq_conversation_access,
    .conversation_update = kp_sq_conversation_update,
    .conversation_tag = kp_sq_conversation_tag,
    .message_list = kp_sq_message_list,
    .conversation_text = kp_sq_conversation_text,
    .message_text = kp_sq_message_text,
    .message_add = kp_sq_message_add,
    .attachment_get = kp_sq_attachment_get,
    .ingest = kp_sq_ingest,
    .mail_inbox_set = kp_sq_mail_inbox_set,
    .mail_inbox_get = kp_sq_mail_inbox_get,
    .mail_inbox_by_address = kp_sq_mail_inbox_by_address,
    .mail_inbox_ids = kp_sq_mail_inbox_ids,
    .mail_imap_mark = kp_sq_mail_imap_mark,
    .mail_thread = kp_sq_mail_thread,
    .mail_kept_seen = kp_sq_mail_kept_seen,
    .mail_drop = kp_sq_mail_drop,
    .mail_bounce = kp_sq_mail_bounce,
    .mail_reply_context = kp_sq_mail_reply_context,
    .mail_queue = kp_sq_mail_queue,
    .mail_due = kp_sq_mail_due,
    .mail_outgoing = kp_sq_mail_outgoing,
    .mail_sent = kp_sq_mail_sent,
    .mail_failed = kp_sq_mail_failed,
    .mail_raw = kp_sq_mail_raw,
    .mail_autoreply_allowed = kp_sq_mail_autoreply_allowed,
    .mail_dropped_list = kp_sq_mail_dropped_list,
    .mail_dropped_raw = kp_sq_mail_dropped_raw,
    .message_move = kp_sq_message_move,
    .search = kp_sq_search,
    .audit_add = audit_add,
    .audit_list = audit_list,
    .event_add = event_add,
    .event_since = event_since,
    .event_last = event_last,
    .notify = notify,
    .notices_drain = notices_drain,
    .event_prune = event_prune,
    .pipeline_next = kp_sq_pipeline_next,
    .pipeline_done = kp_sq_pipeline_done,
    .canned_create = kp_sq_canned_create,
    .canned_update = kp_sq_canned_update,
    .canned_delete = kp_sq_canned_delete,
    .canned_get = kp_sq_canned_get,
    .canned_list = kp_sq_canned_list,
    .notification_add = kp_sq_notification_add,
    .notification_get = kp_sq_notification_get,
    .notification_list = kp_sq_notification_list,
    .notification_read = kp_sq_notification_read,
    .widget_secret = kp_sq_widget_secret,
    .widget_update = kp_sq_widget_update,
    .widget_get = kp_sq_widget_get,
    .visitor_session_create = kp_sq_visitor_session_create,
    .visitor_session_get = kp_sq_visitor_session_get,
    .visitor_session_touch = kp_sq_visitor_session_touch,
    .visitor_prune = kp_sq_visitor_prune,
    .visitor_identify = kp_sq_visitor_identify,
    .identity_owner = kp_sq_identity_owner,
    .visitor_conversation = kp_sq_visitor_conversation,
    .visitor_route = kp_sq_visitor_route,
    .visitor_inbox = kp_sq_visitor_inbox,
    .visitor_message = kp_sq_visitor_message,
    .visitor_history = kp_sq_visitor_history,
    .visitor_facts = kp_sq_visitor_facts,
    .visitor_event_add = kp_sq_visitor_event_add,
    .visitor_event_list = kp_sq_visitor_event_list,
    .contact_access = kp_sq_contact_access,
    .backup = sq_backup,
    .stats = stats,
};
