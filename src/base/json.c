/* SPDX-License-Identifier: MIT */
/* json.c - JSON body parsing with limits and field checks (see json.h). */
#include "json.h"

#include <stdarg.h>

static void seterr(struct kp_json_error *err, const char *code, const char *field, const char *fmt,
                   ...) KP_PRINTF(4, 5);

static void seterr(struct kp_json_error *err, const char *code, const char *field, const char *fmt,
                   ...)
{
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

int kp_json_check_utf8(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0, len; i < n; i += len)
        if (!s[i] || !(len = kp_utf8_len(s + i, n - i)))
            return KP_EINVAL;
    return 0;
}

/* Nesting depth of JSON text, counting brackets outside strings. */
static int depth_exceeds(const char *s, size_t n, int max_depth)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

int kp_json_parse_body(const char *s, size_t n, int max_depth, json_t **out,
                       struct kp_json_error *err)
{
    *out = NULL;
    if (n == 0) {
        seterr(err, "invalid_json", NULL, "request body is empty, a JSON object is expected");
        return KP_EINVAL;
    }
    if (memchr(s, '\0', n)) {
        seterr(err, "invalid_json", NULL, "request body contains a NUL byte");
        return KP_EINVAL;
    }
    if (kp_json_check_utf8(s, n)) {
        seterr(err, "invalid_utf8", NULL, "request body is not valid UTF-8");
        return KP_EINVAL;
    }
    if (depth_exceeds(s, n, max_depth)) {
        seterr(err, "too_deep", NULL, "JSON nesting is deeper than %d levels", max_depth);
        return KP_EINVAL;
    }
    json_error_t jerr;
    json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        seterr(err, "invalid_json", NULL, "malformed JSON at line %d column %d: %s", jerr.line,
               jerr.column, jerr.text);
        return KP_EINVAL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        seterr(err, "invalid_json", NULL, "request body must be a JSON object");
        return KP_EINVAL;
    }
    *out = v;
    return 0;
}

static const char *kind_name(enum kp_json_kind k)
{
    static const char *names[] = {"string", "integer", "boolean", "object", "array"};
    return names[k];
}

static bool kind_matches(json_t *v, enum kp_json_kind k)
{
    switch (k) {
    case KP_JSON_STRING:
        return json_is_string(v);
    case KP_JSON_INT:
        return json_is_integer(v);
    case KP_JSON_BOOL:
        return json_is_boolean(v);
    case KP_JSON_OBJECT:
        return json_is_object(v);
    case KP_JSON_ARRAY:
        return json_is_array(v);
    }
    return false;
}

int kp_json_check(json_t *obj, const struct kp_json_field *fields, size_t n, bool reject_unknown,
                  struct kp_json_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct kp_json_field *f = &fields[i];
        json_t *v = json_object_get(obj, f->name);
        if (!v || (json_is_null(v) && !f->nullable)) {
            if (f->required) {
                seterr(err, "missing_field", f->name, "field '%s' is required", f->name);
                return KP_EINVAL;
            }
            if (v && json_is_null(v)) {
                seterr(err, "wrong_type", f->name, "field '%s' must not be null", f->name);
                return KP_EINVAL;
            }
            continue;
        }
        if (json_is_null(v))
            continue;
        if (!kind_matches(v, f->kind)) {
            seterr(err, "wrong_type", f->name, "field '%s' must be a %s", f->name,
                   kind_name(f->kind));
            return KP_EINVAL;
        }
        if (f->max_len && f->kind == KP_JSON_STRING && json_string_length(v) > f->max_len) {
            seterr(err, "too_long", f->name, "field '%s' is longer than %zu bytes", f->name,
                   f->max_len);
            return KP_EINVAL;
        }
        if (f->max_len && f->kind == KP_JSON_ARRAY && json_array_size(v) > f->max_len) {
            seterr(err, "too_long", f->name, "field '%s' has more than %zu items", f->name,
                   f->max_len);
            return KP_EINVAL;
        }
    }
    if (reject_unknown) {
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            size_t i;
            for (i = 0; i < n; i++)
                if (strcmp(key, fields[i].name) == 0)
                    break;
            if (i == n) {
                seterr(err, "unknown_field", key, "field '%.40s' is not known here", key);
                return KP_EINVAL;
            }
        }
    }
    return 0;
}

const char *kp_json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t kp_json_int(json_t *obj, const char *key, int64_t def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}
