/*
 * privdrop.h: giving up root in the worker process before it touches a
 * client socket.
 */
#ifndef ECHOD_PRIVDROP_H
#define ECHOD_PRIVDROP_H

#include "config.h"

/*
 * When running as root and cfg names a user: switches to that user and
 * group (supplementary groups cleared), leaves no capability in any set,
 * and sets PR_SET_NO_NEW_PRIVS. Returns 0, or -1 (logged).
 */
int privdrop(const struct config *cfg);

#endif
