/* SPDX-License-Identifier: MIT */
/*
 * banned.h - functions that are easy to misuse. Including this after the system headers makes
 * any use a compile error; use snprintf, kp_strlcpy, strtol-based parsing, gmtime_r instead.
 */
#ifndef KP_BASE_BANNED_H
#define KP_BASE_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KP_BANNED(f) sorry_##f##_is_banned
#undef strcpy
#define strcpy(a, b) KP_BANNED(strcpy)
#undef strcat
#define strcat(a, b) KP_BANNED(strcat)
#undef sprintf
#define sprintf(...) KP_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) KP_BANNED(vsprintf)
#undef strtok
#define strtok(a, b) KP_BANNED(strtok)
#undef gmtime
#define gmtime(t) KP_BANNED(gmtime)
#undef localtime
#define localtime(t) KP_BANNED(localtime)
#undef atoi
#define atoi(s) KP_BANNED(atoi)

#endif
