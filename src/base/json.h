/* SPDX-License-Identifier: MIT */
/*
 * json.h - request-body JSON: parsing with limits (size, nesting depth, valid UTF-8) and
 * checking an object against a field list, with errors that name the offending field.
 */
#ifndef KP_BASE_JSON_H
#define KP_BASE_JSON_H

#include <jansson.h>

#include "kp.h"

/* Why a body was refused; code is a stable machine name used in API errors. */
struct kp_json_error {
    const char *code; /* "invalid_json", "invalid_utf8", "too_deep", "missing_field", ... */
    char message[160];
    char field[64];
};

enum kp_json_kind {
    KP_JSON_STRING,
    KP_JSON_INT,
    KP_JSON_BOOL,
    KP_JSON_OBJECT,
    KP_JSON_ARRAY,
};

struct kp_json_field {
    const char *name;
    enum kp_json_kind kind;
    bool required;
    bool nullable;
    size_t max_len; /* strings: bytes; arrays: items; 0 = no limit beyond the body cap */
};

/* Returns 0 when the bytes are valid UTF-8 without NUL bytes. */
int kp_json_check_utf8(const char *s, size_t n);

/*
 * Parses a request body. Refuses invalid UTF-8, nesting deeper than max_depth and anything but
 * an object at the top. On success *out is a new reference owned by the caller.
 */
int kp_json_parse_body(const char *s, size_t n, int max_depth, json_t **out,
                       struct kp_json_error *err);

/*
 * Checks obj against fields: required ones present, kinds right, lengths in bounds, and (when
 * reject_unknown) no other keys. Returns 0 or KP_EINVAL with err filled in.
 */
int kp_json_check(json_t *obj, const struct kp_json_field *fields, size_t n, bool reject_unknown,
                  struct kp_json_error *err);

/* Convenience getters: NULL / def when the key is missing or null. */
const char *kp_json_str(json_t *obj, const char *key);
int64_t kp_json_int(json_t *obj, const char *key, int64_t def);

#endif
