/* SPDX-License-Identifier: MIT */
/* cli_user.c - agent administration from the shell (see cli_user.h). Works while a server runs
 * on the same data directory: SQLite serialises the writes. */
#include "cli_user.h"
#include "hub.h"
#include "../api/auth.h"

#include "../base/json.h"

#include <getopt.h>
#include <strings.h>

static const char usage[] =
    "usage: knotenpunkt user add --email E --name N [--role admin|agent] [--password P]\n"
    "       knotenpunkt user passwd --email E --password P\n"
    "       knotenpunkt user token --email E [--name NAME]   (prints a new API token)\n"
    "       knotenpunkt user list\n"
    "Each also takes --data DIR and --config FILE. A password can come from\n"
    "KNOTENPUNKT_PASSWORD instead of --password, to keep it out of the process list.\n";

static int fail(const char *what, int rc)
{
    fprintf(stderr, "knotenpunkt user: %s: %s\n", what, kp_strerror(rc));
    return 1;
}

static int in_tx(struct kp_store *s, int rc)
{
    if (rc) {
        KP_STORE0(s, rollback);
        return rc;
    }
    return KP_STORE0(s, commit);
}

/* The id of the active agent with this email (with or without a password). */
static int find_agent(struct kp_store *s, const char *email, int64_t *id)
{
    json_t *agents, *a;
    size_t i;
    int rc = KP_STORE(s, agent_list, &agents);
    if (rc)
        return rc;
    rc = KP_ENOTFOUND;
    json_array_foreach(agents, i, a)
    {
        if (strcasecmp(kp_json_str(a, "email"), email) == 0 &&
            json_is_true(json_object_get(a, "active"))) {
            *id = kp_json_int(a, "id", 0);
            rc = 0;
        }
    }
    json_decref(agents);
    return rc;
}

static int check_password(const char *cmd, const char *password)
{
    if (password && strlen(password) >= 8)
        return 0;
    fprintf(stderr, "knotenpunkt user %s: --password with 8 characters or more\n", cmd);
    return 2;
}

static int cmd_add(struct kp_store *s, const char *email, const char *name, const char *role,
                   const char *password)
{
    char hash[KP_AUTH_HASH_LEN];
    int64_t id = 0;
    if (strcmp(role, "admin") && strcmp(role, "agent")) {
        fprintf(stderr, "knotenpunkt user add: --role must be admin or agent\n");
        return 2;
    }
    if (password && check_password("add", password))
        return 2;
    if (password && kp_auth_hash_password(password, hash))
        return fail("cannot hash the password", KP_ENOMEM);
    struct kp_agent_new in = {email, name ? name : email, role, password ? hash : NULL};
    int rc = KP_STORE0(s, begin);
    if (!rc)
        rc = in_tx(s, KP_STORE(s, agent_create, &in, &id));
    if (rc)
        return fail(rc == KP_EEXIST ? "an agent with this email exists" : "cannot add", rc);
    printf("added agent %lld <%s> (%s)\n", (long long)id, email, role);
    return 0;
}

static int cmd_passwd(struct kp_store *s, const char *email, const char *password)
{
    char hash[KP_AUTH_HASH_LEN];
    int64_t id;
    int rc = find_agent(s, email, &id);
    if (rc)
        return fail("no such active agent", rc);
    if (check_password("passwd", password))
        return 2;
    if (kp_auth_hash_password(password, hash))
        return fail("cannot hash the password", KP_ENOMEM);
    struct kp_agent_change ch = {NULL, NULL, hash, -1};
    rc = KP_STORE0(s, begin);
    if (!rc)
        rc = in_tx(s, KP_STORE(s, agent_update, id, &ch));
    if (rc)
        return fail("cannot set the password", rc);
    printf("password set for <%s>\n", email);
    return 0;
}

static int cmd_token(struct kp_store *s, const char *email, const char *name)
{
    char tok[KP_AUTH_TOKEN_LEN];
    uint8_t th[32];
    int64_t id, tid;
    int rc = find_agent(s, email, &id);
    if (rc)
        return fail("no such active agent", rc);
    kp_auth_new_token("kpt_", tok, sizeof(tok));
    kp_auth_hash_token(tok, th);
    rc = KP_STORE0(s, begin);
    if (!rc)
        rc = in_tx(s, KP_STORE(s, token_create, id, name ? name : "cli", th, &tid));
    if (rc)
        return fail("cannot create the token", rc);
    printf("%s\n", tok);
    return 0;
}

static int cmd_list(struct kp_store *s)
{
    json_t *agents, *a;
    size_t i;
    int rc = KP_STORE(s, agent_list, &agents);
    if (rc)
        return fail("cannot list agents", rc);
    json_array_foreach(agents, i, a)
    {
        printf("%-5lld %-6s %-8s %s <%s>\n", (long long)kp_json_int(a, "id", 0),
               kp_json_str(a, "role"),
               json_is_true(json_object_get(a, "active")) ? "active" : "inactive",
               kp_json_str(a, "name"), kp_json_str(a, "email"));
    }
    json_decref(agents);
    return 0;
}

int kp_cli_user(int argc, char **argv, struct kp_config *cfg)
{
    static const struct option opts[] = {
        {"email", required_argument, NULL, 'e'}, {"name", required_argument, NULL, 'n'},
        {"role", required_argument, NULL, 'r'},  {"password", required_argument, NULL, 'p'},
        {"data", required_argument, NULL, 'd'},  {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},        {0},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1], *email = NULL, *name = NULL, *role = "agent";
    const char *password = getenv("KNOTENPUNKT_PASSWORD");
    char err[512];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            email = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'p':
            password = optarg;
            break;
        case 'd':
            if (kp_config_set(cfg, "data", optarg, err, sizeof(err)))
                return fprintf(stderr, "knotenpunkt user: %s\n", err), 2;
            break;
        case 'c':
            break; /* main() read it before the environment */
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    bool known = !strcmp(cmd, "add") || !strcmp(cmd, "passwd") || !strcmp(cmd, "token") ||
                 !strcmp(cmd, "list");
    if (!known) {
        fprintf(stderr, "knotenpunkt user: unknown command '%s'\n%s", cmd, usage);
        return 2;
    }
    if (strcmp(cmd, "list") != 0 && !email) {
        fprintf(stderr, "knotenpunkt user %s: --email is required\n", cmd);
        return 2;
    }
    struct kp_store *s;
    int rc = kp_hub_open_store(cfg, &s);
    if (rc)
        return fail("cannot open the store", rc);
    int code = !strcmp(cmd, "add")      ? cmd_add(s, email, name, role, password)
               : !strcmp(cmd, "passwd") ? cmd_passwd(s, email, password)
               : !strcmp(cmd, "token")  ? cmd_token(s, email, name)
                                        : cmd_list(s);
    kp_store_close(s);
    return code;
}
