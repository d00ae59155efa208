/* SPDX-License-Identifier: MIT */
/*
 * openapi_test.c - the embedded OpenAPI document (src/api/openapi.json) against the routes the
 * server really has: the same (method, path) pairs in both directions, OpenAPI 3.1, a unique
 * operationId and a responses object on every operation, every path parameter declared, and
 * public routes (and only those) marked `security: []`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "base/embed.h"

extern const struct kp_embed kp_api_docs[];
extern const size_t kp_api_docs_count;

static const char *const methods[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};

/* One (METHOD, path) pair, from the route tables or from the document. */
struct op {
    char key[256]; /* "GET /api/v1/teams/{id}" */
    enum kp_access access;
};

struct ops {
    struct op *v;
    size_t n, cap;
};

struct fixture {
    json_t *doc;
    struct ops routes, documented;
};

static void ops_add(struct ops *o, const char *method, const char *path, enum kp_access access)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->v = realloc(o->v, o->cap * sizeof(*o->v));
        assert_non_null(o->v);
    }
    struct op *e = &o->v[o->n++];
    size_t i = 0;
    for (; method[i] && i < 15; i++)
        e->key[i] = (char)toupper((unsigned char)method[i]);
    snprintf(e->key + i, sizeof(e->key) - i, " %s", path);
    e->access = access;
}

static int op_cmp(const void *a, const void *b)
{
    return strcmp(((const struct op *)a)->key, ((const struct op *)b)->key);
}

static void collect_route(const struct kp_route *r, void *ud)
{
    ops_add(ud, r->method, r->pattern, r->access);
}

/* The path item's or the operation's parameter, resolving a local $ref. */
static json_t *resolve(json_t *doc, json_t *p)
{
    const char *ref = json_string_value(json_object_get(p, "$ref"));
    if (!ref)
        return p;
    const char *prefix = "#/components/parameters/";
    if (strncmp(ref, prefix, strlen(prefix)) != 0)
        return NULL;
    json_t *params = json_object_get(json_object_get(doc, "components"), "parameters");
    return json_object_get(params, ref + strlen(prefix));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    kp_api_routes_foreach(collect_route, &f->routes);
    const struct kp_embed *e = kp_embed_find(kp_api_docs, kp_api_docs_count, "openapi.json");
    if (!e) {
        print_error("openapi.json is not embedded (kp_api_docs)\n");
        free(f);
        return -1;
    }
    json_error_t err;
    f->doc = json_loadb(e->data, e->size, 0, &err);
    if (!f->doc) {
        print_error("openapi.json is not valid JSON: line %d column %d: %s\n", err.line, err.column,
                    err.text);
        free(f);
        return -1;
    }
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(f->doc, "paths"), path, item)
    {
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
            if (json_object_get(item, methods[m]))
                ops_add(&f->documented, methods[m], path, KP_AGENT);
    }
    qsort(f->routes.v, f->routes.n, sizeof(struct op), op_cmp);
    qsort(f->documented.v, f->documented.n, sizeof(struct op), op_cmp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_decref(f->doc);
    free(f->routes.v);
    free(f->documented.v);
    free(f);
    return 0;
}

static void test_version_and_info(void **state)
{
    struct fixture *f = *state;
    const char *v = json_string_value(json_object_get(f->doc, "openapi"));
    assert_non_null(v);
    assert_true(strncmp(v, "3.1", 3) == 0);
    json_t *info = json_object_get(f->doc, "info");
    assert_non_null(json_string_value(json_object_get(info, "title")));
    assert_non_null(json_string_value(json_object_get(info, "version")));
    json_t *schemes = json_object_get(json_object_get(f->doc, "components"), "securitySchemes");
    assert_non_null(json_object_get(schemes, "bearerAuth"));
    assert_non_null(json_object_get(schemes, "cookieAuth"));
}

static void test_routes_match_document(void **state)
{
    struct fixture *f = *state;
    const struct ops *r = &f->routes, *d = &f->documented;
    assert_true(r->n > 0);
    int problems = 0;
    for (size_t i = 1; i < r->n; i++)
        if (strcmp(r->v[i - 1].key, r->v[i].key) == 0) {
            print_error("route declared twice: %s\n", r->v[i].key);
            problems++;
        }
    size_t i = 0, j = 0;
    while (i < r->n || j < d->n) {
        int c = i == r->n ? 1 : j == d->n ? -1 : strcmp(r->v[i].key, d->v[j].key);
        if (c == 0) {
            i++, j++;
        } else if (c < 0) {
            print_error("routed but not in openapi.json: %s\n", r->v[i++].key);
            problems++;
        } else {
            print_error("in openapi.json but not routed: %s\n", d->v[j++].key);
            problems++;
        }
    }
    assert_int_equal(problems, 0);
}

static void test_operations(void **state)
{
    struct fixture *f = *state;
    json_t *seen = json_object();
    int problems = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(f->doc, "paths"), path, item)
    {
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
            json_t *op = json_object_get(item, methods[m]);
            if (!op)
                continue;
            const char *id = json_string_value(json_object_get(op, "operationId"));
            if (!id || !id[0]) {
                print_error("%s %s: no operationId\n", methods[m], path);
                problems++;
            } else if (json_object_get(seen, id)) {
                print_error("%s %s: operationId '%s' is used twice\n", methods[m], path, id);
                problems++;
            } else {
                json_object_set_new(seen, id, json_true());
            }
            json_t *responses = json_object_get(op, "responses");
            if (!json_is_object(responses) || json_object_size(responses) == 0) {
                print_error("%s %s: no responses object\n", methods[m], path);
                problems++;
            }
        }
    }
    json_decref(seen);
    assert_int_equal(problems, 0);
}

/* True when name is declared as a required path parameter in list (an array or NULL). */
static bool declares(json_t *doc, json_t *list, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        p = resolve(doc, p);
        const char *in = json_string_value(json_object_get(p, "in"));
        const char *n = json_string_value(json_object_get(p, "name"));
        if (in && n && strcmp(in, "path") == 0 && strcmp(n, name) == 0)
            return json_is_true(json_object_get(p, "required"));
    }
    return false;
}

/* Counts the path parameters in list that the template does not have. */
static int stray_params(json_t *doc, json_t *list, const char *path, const char *where)
{
    int problems = 0;
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        p = resolve(doc, p);
        const char *in = json_string_value(json_object_get(p, "in"));
        const char *n = json_string_value(json_object_get(p, "name"));
        if (!in || strcmp(in, "path") != 0 || !n)
            continue;
        char want[128];
        snprintf(want, sizeof(want), "{%s}", n);
        if (!strstr(path, want)) {
            print_error("%s %s: path parameter '%s' is not in the template\n", where, path, n);
            problems++;
        }
    }
    return problems;
}

static void test_path_parameters_declared(void **state)
{
    struct fixture *f = *state;
    int problems = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(f->doc, "paths"), path, item)
    {
        json_t *common = json_object_get(item, "parameters");
        problems += stray_params(f->doc, common, path, "path item");
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
            json_t *op = json_object_get(item, methods[m]);
            if (!op)
                continue;
            json_t *own = json_object_get(op, "parameters");
            problems += stray_params(f->doc, own, path, methods[m]);
            for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
                const char *end = strchr(p, '}');
                assert_non_null(end);
                char name[128];
                snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
                if (!declares(f->doc, own, name) && !declares(f->doc, common, name)) {
                    print_error("%s %s: path parameter '%s' is not declared (required)\n",
                                methods[m], path, name);
                    problems++;
                }
            }
        }
    }
    assert_int_equal(problems, 0);
}

/* Public routes say `security: []`; the others inherit or name a scheme. */
static void test_security_matches_access(void **state)
{
    struct fixture *f = *state;
    json_t *paths = json_object_get(f->doc, "paths");
    bool global = json_array_size(json_object_get(f->doc, "security")) > 0;
    int problems = 0;
    for (size_t i = 0; i < f->routes.n; i++) {
        const struct op *r = &f->routes.v[i];
        char method[16];
        const char *sp = strchr(r->key, ' ');
        snprintf(method, sizeof(method), "%.*s", (int)(sp - r->key), r->key);
        for (char *c = method; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        json_t *op = json_object_get(json_object_get(paths, sp + 1), method);
        if (!op)
            continue; /* reported by test_routes_match_document */
        json_t *sec = json_object_get(op, "security");
        bool open = sec ? json_array_size(sec) == 0 : !global;
        if (open != (r->access == KP_PUBLIC)) {
            print_error("%s: the route is %s but the document says %s\n", r->key,
                        r->access == KP_PUBLIC ? "public" : "authenticated",
                        open ? "security: []" : "authenticated");
            problems++;
        }
    }
    assert_int_equal(problems, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_info),
        cmocka_unit_test(test_routes_match_document),
        cmocka_unit_test(test_operations),
        cmocka_unit_test(test_path_parameters_declared),
        cmocka_unit_test(test_security_matches_access),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
