/* SPDX-License-Identifier: MIT */
/*
 * Raw SQLite insert reference for `make bench`.
 *
 * Measures how fast one process can insert message rows shaped like the server's `messages`
 * table (see src/store/sqlite/001_init.sql) straight through the SQLite C API, with no HTTP,
 * JSON or event loop in the way. bench/run.sh prints the server's ingest rate next to these
 * figures, so the server is judged against what the storage engine allows on the same machine
 * in the same run.
 *
 * Two runs, each on a fresh database file in a private temporary folder:
 *   - fts:   messages table plus an FTS5 external-content index (tokenize 'unicode61
 *            remove_diacritics 2'), filled with one statement per transaction, as the server's
 *            message pipeline does;
 *   - plain: the same table without the full-text index.
 * Both use the server's page size (8 KiB), journal_mode=WAL, the chosen synchronous level and
 * 1,000 rows per transaction.
 *
 * Usage: sqlite_insert [ROWS [NORMAL|FULL [DIR]]]
 *   ROWS defaults to 200000; DIR (default $TMPDIR or /tmp) holds the temporary folder, which
 *   is removed at the end.
 * Output (stdout), one line per run:
 *   sqlite_insert_fts rows_per_s=<n> rows=<n> secs=<s> sync=<level>
 *   sqlite_insert_plain rows_per_s=<n> rows=<n> secs=<s> sync=<level>
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define ROWS_PER_TXN 1000
#define TEXT_POOL 4096
#define TEXT_MAX 640
#define CONVERSATIONS 20000

/* Words of customer messages in a few languages, some with diacritics for the tokenizer. */
static const char vocabulary[] =
    "hello thanks order delivery invoice refund account password reset please could you "
    "help with my the package arrived damaged yesterday tracking number shows still "
    "pending subscription cancel renewal payment failed card charged twice warranty "
    "replacement address changed shipping weeks waiting customer support answer urgent "
    "problem login error message screen app update version phone email receipt discount "
    "coupon store product size colour exchange return label courier office monday friday "
    "morning evening Bestellung Lieferung Rechnung Rückerstattung Konto bitte danke Grüße "
    "Paket beschädigt gestern Sendungsnummer Kündigung Zahlung fehlgeschlagen Adresse "
    "geändert Versand Wochen warten Kundendienst dringend Problem Anmeldung Fehler Größe "
    "Umtausch commande livraison facture remboursement compte merci reçu problème adresse "
    "délai échange pedido envío factura devolución gracias señal información ";

#define MAX_WORDS 256
static const char *words[MAX_WORDS];
static size_t word_len[MAX_WORDS];
static size_t nwords;

static const char *const directions[] = {"in", "in", "in", "out", "out", "note"};
static const char *const channels[] = {"email", "email", "webchat", "whatsapp", "api", "sms"};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

/* Splits vocabulary at spaces into words[]. */
static void split_vocabulary(void)
{
    const char *p = vocabulary;
    while (*p && nwords < MAX_WORDS) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (len > 0) {
            words[nwords] = p;
            word_len[nwords] = len;
            nwords++;
        }
        p += len;
        if (*p == ' ')
            p++;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills buf with 300..480 bytes of sentence-like words; returns the length. */
static size_t make_text(char *buf, size_t cap)
{
    size_t target = 300 + (size_t)(rng_next() % 181);
    size_t len = 0;
    int in_sentence = 0;
    while (len < target) {
        size_t k = (size_t)(rng_next() % nwords);
        const char *w = words[k];
        size_t wl = word_len[k];
        if (len + wl + 3 >= cap)
            break;
        if (len > 0)
            buf[len++] = ' ';
        memcpy(buf + len, w, wl);
        len += wl;
        in_sentence++;
        if (in_sentence > 6 && rng_next() % 5 == 0) {
            buf[len++] = rng_next() % 4 == 0 ? '?' : '.';
            in_sentence = 0;
        }
    }
    buf[len] = '\0';
    return len;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite_insert: '%s': %s\n", sql, err ? err : "unknown error");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static const char schema_table[] =
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL,"
    " direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'note')),"
    " channel TEXT NOT NULL,"
    " author_agent_id INTEGER,"
    " author_contact_id INTEGER,"
    " text TEXT NOT NULL,"
    " html TEXT,"
    " external_id TEXT,"
    " lang TEXT,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX messages_conversation ON messages(conversation_id, id);";

/* Indexed as the server's pipeline does it: one INSERT ... SELECT per batch (a trigger per row
 * would make FTS5 write an index segment per statement). */
static const char schema_fts[] = "CREATE VIRTUAL TABLE messages_fts USING fts5("
                                 " text, content = 'messages', content_rowid = 'id',"
                                 " tokenize = 'unicode61 remove_diacritics 2');";

/* Inserts rows into a fresh database at path; returns elapsed seconds or a negative value. */
static double run_one(const char *path, int with_fts, const char *sync, long rows, char **pool,
                      const size_t *pool_len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char pragma[64];
    char text[TEXT_MAX + 64];
    char ext[32];
    double t0, elapsed = -1.0;

    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite_insert: cannot open '%s': %s\n", path, sqlite3_errmsg(db));
        goto out;
    }
    snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s;", sync);
    if (exec_sql(db, "PRAGMA page_size=8192;") < 0 ||
        exec_sql(db, "PRAGMA journal_mode=WAL;") < 0 || exec_sql(db, pragma) < 0 ||
        exec_sql(db, "PRAGMA foreign_keys=ON;") < 0 || exec_sql(db, schema_table) < 0)
        goto out;
    if (with_fts && exec_sql(db, schema_fts) < 0)
        goto out;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO messages (conversation_id, direction, channel,"
                           " author_contact_id, text, external_id, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_insert: prepare: %s\n", sqlite3_errmsg(db));
        goto out;
    }

    rng_state = 0x2545f4914f6cdd1dULL;
    t0 = now_s();
    for (long i = 0; i < rows; i++) {
        if (i % ROWS_PER_TXN == 0 && exec_sql(db, "BEGIN") < 0)
            goto out;
        uint64_t r = rng_next();
        size_t k = (size_t)(r % TEXT_POOL);
        int n = snprintf(text, sizeof(text), "%.*s (ref %ld)", (int)pool_len[k], pool[k], i);
        snprintf(ext, sizeof(ext), "b-%ld", i);
        sqlite3_bind_int64(st, 1, 1 + (sqlite3_int64)((r >> 16) % CONVERSATIONS));
        sqlite3_bind_text(st, 2, directions[(r >> 40) % 6], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, channels[(r >> 48) % 6], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, 1 + (sqlite3_int64)((r >> 16) % CONVERSATIONS));
        sqlite3_bind_text(st, 5, text, n, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, ext, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, 1700000000000LL + i);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "sqlite_insert: insert: %s\n", sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_reset(st);
        if ((i + 1) % ROWS_PER_TXN == 0 || i + 1 == rows) {
            if (with_fts && exec_sql(db, "INSERT INTO messages_fts(rowid, text) SELECT id, text "
                                         "FROM messages WHERE id > (SELECT coalesce(max(rowid), "
                                         "0) FROM messages_fts_docsize)") < 0)
                goto out;
            if (exec_sql(db, "COMMIT") < 0)
                goto out;
        }
    }
    elapsed = now_s() - t0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return elapsed;
}

static void remove_db(const char *path)
{
    char p[PATH_MAX + 8];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

int main(int argc, char **argv)
{
    long rows = 200000;
    const char *sync = "NORMAL";
    const char *base = getenv("TMPDIR");
    char dir[PATH_MAX - 64];
    char path[PATH_MAX];
    char *pool[TEXT_POOL];
    size_t pool_len[TEXT_POOL];
    int rc = 1;

    if (argc > 1) {
        char *end;
        errno = 0;
        rows = strtol(argv[1], &end, 10);
        if (errno || *end || rows <= 0) {
            fprintf(stderr, "usage: sqlite_insert [ROWS [NORMAL|FULL [DIR]]]\n");
            return 2;
        }
    }
    if (argc > 2) {
        if (strcmp(argv[2], "NORMAL") != 0 && strcmp(argv[2], "FULL") != 0) {
            fprintf(stderr, "sqlite_insert: synchronous must be NORMAL or FULL\n");
            return 2;
        }
        sync = argv[2];
    }
    if (argc > 3)
        base = argv[3];
    if (!base || !*base)
        base = "/tmp";

    snprintf(dir, sizeof(dir), "%s/kp-sqlite-bench-XXXXXX", base);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "sqlite_insert: cannot create a folder in '%s': %s\n", base,
                strerror(errno));
        return 1;
    }

    split_vocabulary();
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < TEXT_POOL; i++) {
        pool[i] = malloc(TEXT_MAX);
        if (!pool[i])
            abort();
        pool_len[i] = make_text(pool[i], TEXT_MAX);
    }

    static const struct {
        const char *name;
        const char *file;
        int fts;
    } runs[] = {{"sqlite_insert_fts", "fts.db", 1}, {"sqlite_insert_plain", "plain.db", 0}};
    for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
        snprintf(path, sizeof(path), "%s/%s", dir, runs[r].file);
        double secs = run_one(path, runs[r].fts, sync, rows, pool, pool_len);
        remove_db(path);
        if (secs < 0)
            goto out;
        printf("%s rows_per_s=%.0f rows=%ld secs=%.3f sync=%s\n", runs[r].name, (double)rows / secs,
               rows, secs, sync);
        fflush(stdout);
    }
    rc = 0;
out:
    for (size_t i = 0; i < TEXT_POOL; i++)
        free(pool[i]);
    rmdir(dir);
    return rc;
}
