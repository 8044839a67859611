/*
 * exitcodes.h: echod's exit statuses (sysexits.h), documented in echod(8).
 */
#ifndef ECHOD_EXITCODES_H
#define ECHOD_EXITCODES_H

#include <sysexits.h>

#define EXIT_STOPPED_EARLY 1       /* told to stop before serving (the starting process) */
#define EXIT_USAGE    EX_USAGE     /* 64: bad command line */
#define EXIT_OSERR    EX_OSERR     /* 71: bind, listen, fork, thread start failed */
#define EXIT_CANTCREAT EX_CANTCREAT /* 73: the pidfile cannot be created */
#define EXIT_RUNNING  EX_TEMPFAIL  /* 75: another instance holds the pidfile */
#define EXIT_CONFIG   EX_CONFIG    /* 78: the config file is wrong */

#endif
