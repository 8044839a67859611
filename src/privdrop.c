/*
 * privdrop.c: dropping root in the worker process (see privdrop.h).
 * The master keeps root only to bind ports and start workers; it serves
 * no client. The order matters: the capability bounding set can only be
 * emptied while root, and groups must change before the user does.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* Empties the bounding and ambient capability sets (needs CAP_SETPCAP). */
static int
privdrop_bounding(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			log_err("prctl PR_CAPBSET_DROP %d", cap);
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		log_err("prctl PR_CAP_AMBIENT_CLEAR_ALL");
		return -1;
	}
	return 0;
}

static int
privdrop_ids(const struct config *cfg)
{
	if (setgroups(0, NULL) < 0) {
		log_err("setgroups");
		return -1;
	}
	if (setresgid(cfg->gid, cfg->gid, cfg->gid) < 0) {
		log_err("setresgid %ld", (long)cfg->gid);
		return -1;
	}
	if (setresuid(cfg->uid, cfg->uid, cfg->uid) < 0) {
		log_err("setresuid %ld", (long)cfg->uid);
		return -1;
	}
	return 0;
}

/*
 * Empties the permitted, effective and inheritable sets. A change of user
 * from root empties the first two, not the inheritable one.
 */
static int
privdrop_capsets(void)
{
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (syscall(SYS_capset, &head, none) < 0) {
		log_err("capset");
		return -1;
	}
	return 0;
}

int
privdrop(const struct config *cfg)
{
	if (cfg->user[0] == '\0')
		return 0;
	if (geteuid() != 0) {
		log_warnx("user \"%s\" is set but echod does not run as root: "
		    "not changing user", cfg->user);
		return 0;
	}
	if (privdrop_bounding() < 0 || privdrop_ids(cfg) < 0 || privdrop_capsets() < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("prctl PR_SET_NO_NEW_PRIVS");
		return -1;
	}
	return 0;
}
