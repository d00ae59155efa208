/* SPDX-License-Identifier: MIT */
/*
 * main.c - the knotenpunkt command: serve, demo, user, migrate, backup, restore, version. Settings
 * come from defaults, a config file (--config or KNOTENPUNKT_CONFIG), KNOTENPUNKT_* environment
 * variables and flags, in that order.
 */
#include "cli_backup.h"
#include "cli_user.h"
#include "config.h"
#include "hub.h"
#include "../base/log.h"

#include <getopt.h>
#include <sodium.h>

static const char usage[] =
    "usage: knotenpunkt <command> [options]\n"
    "\n"
    "Knotenpunkt takes customer messages from every channel into one inbox.\n"
    "\n"
    "commands:\n"
    "  serve     run the server\n"
    "  demo      run the server with demo data (seeded into an empty data directory)\n"
    "  user      add agents, set passwords, issue API tokens (knotenpunkt user --help)\n"
    "  migrate   apply database migrations and exit\n"
    "  backup    write a consistent copy of the database, also while the server runs\n"
    "  restore   fill an empty data directory from a backup\n"
    "  version   print the version\n"
    "\n"
    "Run 'knotenpunkt <command> --help' for a command's options.\n";

static const char serve_usage[] =
    "usage: knotenpunkt %s [--config FILE] [--listen HOST:PORT] [--data DIR]\n"
    "\n"
    "%s\n"
    "Prints 'listening on http://HOST:PORT' on standard output once it accepts requests.\n"
    "SIGTERM or SIGINT: answers and commits what is in flight, then exits 0.\n\n";

/* Parses --config/--listen/--data/--help after argv[0]; returns -1 to go on, else exit code. */
static int parse_server_flags(int argc, char **argv, struct kp_config *cfg, const char *what)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    char err[512];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'c':
            break; /* loaded before the environment, see config_file() */
        case 'l':
            rc = kp_config_set(cfg, "listen", optarg, err, sizeof(err));
            break;
        case 'd':
            rc = kp_config_set(cfg, "data", optarg, err, sizeof(err));
            break;
        case 'h':
            printf(serve_usage, argv[0], what);
            kp_config_usage(stdout);
            return 0;
        default:
            fprintf(stderr, serve_usage, argv[0], what);
            return 2;
        }
        if (rc) {
            fprintf(stderr, "knotenpunkt: %s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "knotenpunkt %s: unexpected argument '%s'\n", argv[0], argv[optind]);
        return 2;
    }
    return -1;
}

/* The config file: --config FILE (or --config=FILE) anywhere, else KNOTENPUNKT_CONFIG. It is
 * read before the environment so that the order is always file, environment, flags. */
static const char *config_file(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return getenv("KNOTENPUNKT_CONFIG");
}

int main(int argc, char **argv)
{
    /* Before any thread: the email channel's blocking mail I/O and MIME parsing share libuv's
     * worker pool with password hashing and language detection, so it gets more threads than
     * libuv's 4. */
    setenv("UV_THREADPOOL_SIZE", "16", 0);
    if (sodium_init() < 0) {
        fprintf(stderr, "knotenpunkt: cannot initialise libsodium\n");
        return 1;
    }
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("knotenpunkt %s\n", KP_VERSION);
        return 0;
    }
    struct kp_config cfg;
    char err[512];
    kp_config_defaults(&cfg);
    const char *file = config_file(argc, argv);
    if ((file && kp_config_load_file(&cfg, file, err, sizeof(err))) ||
        kp_config_load_env(&cfg, err, sizeof(err))) {
        fprintf(stderr, "knotenpunkt: %s\n", err);
        return 2;
    }
    enum kp_log_level level;
    if (kp_log_parse_level(cfg.log_level, &level) == 0)
        kp_log_set_level(level);
    if (strcmp(cmd, "user") == 0)
        return kp_cli_user(argc - 1, argv + 1, &cfg);
    if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0)
        return kp_cli_backup(argc - 1, argv + 1, &cfg);
    bool demo = strcmp(cmd, "demo") == 0;
    if (demo || strcmp(cmd, "serve") == 0 || strcmp(cmd, "migrate") == 0) {
        const char *what = demo
                               ? "Runs the server with demo data: 3 teams, 6 agents, 200 contacts, "
                                 "500 conversations."
                           : strcmp(cmd, "serve") == 0 ? "Runs the server."
                                                       : "Applies database migrations and exits.";
        int code = parse_server_flags(argc - 1, argv + 1, &cfg, what);
        if (code >= 0)
            return code;
        if (kp_log_parse_level(cfg.log_level, &level) == 0)
            kp_log_set_level(level);
        if (strcmp(cmd, "migrate") == 0) {
            struct kp_store *s;
            int rc = kp_hub_open_store(&cfg, &s);
            if (rc) {
                fprintf(stderr, "knotenpunkt migrate: %s\n", kp_strerror(rc));
                return 1;
            }
            kp_store_close(s);
            printf("migrations applied in '%s'\n", cfg.data);
            return 0;
        }
        return kp_hub_run(&cfg, demo);
    }
    fprintf(stderr, "knotenpunkt: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
