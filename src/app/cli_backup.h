/* SPDX-License-Identifier: MIT */
/* cli_backup.h - `knotenpunkt backup FILE` and `knotenpunkt restore FILE`. */
#ifndef KP_APP_CLI_BACKUP_H
#define KP_APP_CLI_BACKUP_H

#include "config.h"

/* argv[0] is "backup" or "restore". Returns the exit code. */
int kp_cli_backup(int argc, char **argv, struct kp_config *cfg);

#endif
