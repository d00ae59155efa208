/* SPDX-License-Identifier: MIT */
/* api_attachments.c - GET /api/v1/attachments/{id}: the stored bytes of a message attachment,
 * for agents who may see its conversation. Served as a download that browsers never sniff. */
#include "api.h"

#include <strings.h>

/* Types a browser may show inline without running anything. */
static bool inline_safe(const char *type)
{
    static const char *safe[] = {"image/png",  "image/jpeg",      "image/gif",
                                 "image/webp", "application/pdf", "text/plain"};
    for (size_t i = 0; i < KP_ARRAY_LEN(safe); i++)
        if (strcasecmp(type, safe[i]) == 0)
            return true;
    return false;
}

static void get(struct kp_call *call)
{
    json_t *meta;
    void *data;
    size_t size;
    int rc = KP_STORE(call->api->store, attachment_get, call->ids[0], &meta, &data, &size);
    if (rc) {
        kp_call_store_error(call, rc, "attachment");
        return;
    }
    struct kp_viewer v = kp_call_viewer(call);
    int64_t team, assignee;
    rc = KP_STORE(call->api->store, conversation_access, &v,
                  json_integer_value(json_object_get(meta, "conversation_id")), &team, &assignee);
    if (rc) {
        json_decref(meta);
        free(data);
        kp_call_store_error(call, rc, "attachment");
        return;
    }
    const char *type = json_string_value(json_object_get(meta, "content_type"));
    bool safe = inline_safe(type);
    char name[256];
    size_t o = 0;
    for (const char *p = json_string_value(json_object_get(meta, "filename")); *p && o < 200; p++)
        if ((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f)
            name[o++] = *p;
    name[o] = '\0';
    char headers[512];
    snprintf(headers, sizeof(headers),
             "Content-Disposition: %s; filename=\"%s\"\r\n"
             "Content-Security-Policy: sandbox\r\nCache-Control: private, max-age=3600\r\n",
             safe ? "inline" : "attachment", name);
    kp_req_respond(call->req, 200, safe ? type : "application/octet-stream", headers, data, size);
    json_decref(meta);
    free(data);
}

const struct kp_route kp_api_attachments_routes[] = {
    {"GET", "/api/v1/attachments/{id}", get, KP_AGENT, false},
    {0},
};
