/* SPDX-License-Identifier: MIT */
/*
 * cli_backup.c - backups of a data directory. `backup` writes a consistent copy while the
 * server keeps running (SQLite reads a snapshot); `restore` fills an empty data directory from
 * such a copy after checking it, and applies newer migrations.
 */
#include "cli_backup.h"
#include "hub.h"

#include <getopt.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: knotenpunkt backup [--data DIR] [--config FILE] FILE\n"
    "       knotenpunkt restore [--data DIR] [--config FILE] FILE\n"
    "backup writes a consistent copy of the data directory's database to FILE (which must not\n"
    "exist) while the server keeps running. restore fills an empty data directory from FILE.\n";

int kp_cli_backup(int argc, char **argv, struct kp_config *cfg)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool restore = strcmp(argv[0], "restore") == 0;
    char err[512];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd' && kp_config_set(cfg, "data", optarg, err, sizeof(err)) == 0)
            continue;
        if (c == 'c')
            continue; /* main() read it before the environment */
        if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (c == 'd')
            fprintf(stderr, "knotenpunkt %s: %s\n", argv[0], err);
        fputs(usage, stderr);
        return 2;
    }
    if (optind != argc - 1) {
        fputs(usage, stderr);
        return 2;
    }
    const char *file = argv[optind];
    if (restore) {
        int rc = kp_store_restore(cfg->data, file);
        if (rc) {
            fprintf(stderr, "knotenpunkt restore: %s\n",
                    rc == KP_EEXIST   ? "the data directory already holds a database"
                    : rc == KP_EINVAL ? "not an intact Knotenpunkt backup"
                                      : kp_strerror(rc));
            return 1;
        }
        struct kp_store *s;
        if ((rc = kp_hub_open_store(cfg, &s))) { /* applies newer migrations */
            fprintf(stderr, "knotenpunkt restore: cannot open the restored store: %s\n",
                    kp_strerror(rc));
            return 1;
        }
        kp_store_close(s);
        printf("restored '%s' into '%s'\n", file, cfg->data);
        return 0;
    }
    struct stat st;
    if (stat(file, &st) == 0) {
        fprintf(stderr, "knotenpunkt backup: '%s' exists; name a new file\n", file);
        return 1;
    }
    struct kp_store *s;
    int rc = kp_hub_open_store(cfg, &s);
    if (!rc)
        rc = KP_STORE(s, backup, file);
    kp_store_close(s);
    if (rc || stat(file, &st) != 0) {
        fprintf(stderr, "knotenpunkt backup: %s\n", kp_strerror(rc ? rc : KP_EIO));
        return 1;
    }
    printf("wrote %s (%lld bytes)\n", file, (long long)st.st_size);
    return 0;
}
