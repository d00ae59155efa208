/* SPDX-License-Identifier: MIT */
/* language.h - a quick guess of a message's language (German or English) from common words;
 * the first step of analysing every inbound message. */
#ifndef KP_UNDERSTAND_LANGUAGE_H
#define KP_UNDERSTAND_LANGUAGE_H

#include "../base/kp.h"

/* Returns "de", "en", or NULL when the text gives too little to tell. */
const char *kp_language_detect(const char *text);

#endif
