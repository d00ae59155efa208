/* SPDX-License-Identifier: MIT */
/*
 * fuzz_json.c - libFuzzer target for request-body JSON: kp_json_parse_body with the API's depth
 * limit, then kp_json_check against the fields of the ingest body, as the API does.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct kp_json_field ingest_fields[] = {
    {"sender", KP_JSON_OBJECT, true, false, 0},
    {"text", KP_JSON_STRING, true, false, 65536},
    {"html", KP_JSON_STRING, false, true, 262144},
    {"subject", KP_JSON_STRING, false, true, 998},
    {"external_id", KP_JSON_STRING, false, true, 200},
    {"attachments", KP_JSON_ARRAY, false, false, 20},
};

static const struct kp_json_field sender_fields[] = {
    {"name", KP_JSON_STRING, false, true, 200},
    {"email", KP_JSON_STRING, false, true, 320},
    {"phone", KP_JSON_STRING, false, true, 32},
    {"id", KP_JSON_STRING, false, true, 200},
};

static void check_error(int rc, const struct kp_json_error *err)
{
    if (rc == 0)
        return;
    if (rc != KP_EINVAL || !err->code || !err->message[0])
        abort();
    if (strlen(err->field) >= sizeof(err->field) || strlen(err->message) >= sizeof(err->message))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy without a terminating NUL: the parser must respect size */
    char *body = kp_xmalloc(size ? size : 1);
    if (size)
        memcpy(body, data, size);
    json_t *v = NULL;
    struct kp_json_error err = {0};
    int rc = kp_json_parse_body(body, size, 32, &v, &err);
    check_error(rc, &err);
    if (rc == 0) {
        if (!json_is_object(v))
            abort();
        struct kp_json_error e1 = {0}, e2 = {0};
        check_error(kp_json_check(v, ingest_fields, KP_ARRAY_LEN(ingest_fields), true, &e1), &e1);
        rc = kp_json_check(v, ingest_fields, KP_ARRAY_LEN(ingest_fields), false, &e2);
        check_error(rc, &e2);
        if (rc == 0) {
            json_t *sender = json_object_get(v, "sender");
            struct kp_json_error e3 = {0};
            check_error(
                kp_json_check(sender, sender_fields, KP_ARRAY_LEN(sender_fields), true, &e3), &e3);
            const char *text = kp_json_str(v, "text");
            if (!text)
                abort();
            kp_json_str(sender, "email");
            kp_json_int(v, "priority", 0);
            /* a value that was accepted is valid UTF-8 all the way */
            if (kp_json_check_utf8(text, strlen(text)) != 0)
                abort();
        }
        json_decref(v);
    } else if (v) {
        abort();
    }
    free(body);
    return 0;
}
