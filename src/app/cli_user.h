/* SPDX-License-Identifier: MIT */
/* cli_user.h - `knotenpunkt user`: add agents, set passwords, issue API tokens, list agents. */
#ifndef KP_APP_CLI_USER_H
#define KP_APP_CLI_USER_H

#include "config.h"

/* argv[0] is "user". Returns the exit code. */
int kp_cli_user(int argc, char **argv, struct kp_config *cfg);

#endif
