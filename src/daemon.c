/*
 * daemon.c: detaching from the terminal and the pidfile.
 *
 * The pidfile is locked with flock(2) (the lock follows the open file
 * across fork), so a second echod finds it locked however the first one
 * was started; and checked to be still the file on disk once locked, as
 * the first may remove it between the second's open and its lock. The
 * original process waits on a pipe until the daemon says it is serving,
 * so a user who types "echod" gets a truthful exit status.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcodes.h"
#include "log.h"
#include "sysutil.h"

#define PIDFILE_ATTEMPTS 10     /* locks of a file removed meanwhile, at most */

/* Creates the pidfile's directory when it is missing (one level only). */
static void
pidfile_mkdir(const char *path)
{
	char dir[sizeof(((struct pidfile *)0)->path)];

	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		log_warn("mkdir %s", dir);
}

/* Reads the pid another instance wrote, or 0 if there is none yet. */
static long
pidfile_holder(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

/* Whether path still names the open file fd, not one removed meanwhile. */
static bool
pidfile_on_disk(int fd, const char *path)
{
	struct stat held, named;

	return fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
	    held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/*
 * Opens and locks path as pf->fd. Returns 0, an exit status (logged), or
 * -1 when the file locked is no longer the one on disk: the echod that
 * held the lock removed it, as it stopped, between the open and the lock.
 */
static int
pidfile_lock(struct pidfile *pf, const char *path)
{
	int err;

	pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (pf->fd < 0) {
		log_err("cannot create pidfile %s", path);
		return EXIT_CANTCREAT;
	}
	if (flock(pf->fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno;
		if (err == EWOULDBLOCK)
			log_errx("%s: another echod is running (pid %ld)", path,
			    pidfile_holder(pf->fd));
		else
			log_err("cannot lock pidfile %s", path);
		close_quietly(pf->fd);
		pf->fd = -1;
		return err == EWOULDBLOCK ? EXIT_RUNNING : EXIT_CANTCREAT;
	}
	if (pidfile_on_disk(pf->fd, path))
		return 0;
	close_quietly(pf->fd);
	pf->fd = -1;
	return -1;
}

int
pidfile_acquire(struct pidfile *pf, const char *path)
{
	int status = -1;

	pf->fd = -1;
	pf->path[0] = '\0';
	if (path == NULL || path[0] == '\0')
		return 0;
	if (strlen(path) >= sizeof(pf->path)) {
		log_errx("%s: pidfile path too long", path);
		return EXIT_CANTCREAT;
	}
	pidfile_mkdir(path);
	for (int i = 0; i < PIDFILE_ATTEMPTS && status < 0; i++)
		status = pidfile_lock(pf, path);
	if (status < 0) {
		log_errx("%s: the pidfile was removed each time it was locked", path);
		return EXIT_CANTCREAT;
	}
	if (status == 0)
		snprintf(pf->path, sizeof(pf->path), "%s", path);
	return status;
}

int
pidfile_write(struct pidfile *pf, pid_t pid)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);

	if (pf->fd < 0)
		return 0;
	if (ftruncate(pf->fd, 0) < 0 || pwrite(pf->fd, buf, (size_t)len, 0) != len) {
		log_err("write pidfile %s", pf->path);
		return -1;
	}
	return 0;
}

void
pidfile_release(struct pidfile *pf)
{
	if (pf->fd < 0)
		return;
	if (!pidfile_on_disk(pf->fd, pf->path))
		log_warnx("pidfile %s was removed or replaced meanwhile: left as it is",
		    pf->path);
	else if (unlink(pf->path) < 0)
		log_warn("remove pidfile %s", pf->path);
	close_quietly(pf->fd);
	pf->fd = -1;
}

/*
 * In the original process: waits for the daemon's word, then exits with
 * it. The signals echod blocked for its own threads are let through
 * here, so that Ctrl-C stops the wait for a start that hangs (the daemon,
 * in a session of its own, goes on).
 */
static void __attribute__((noreturn))
daemon_wait_ready(int fd)
{
	unsigned char status;
	sigset_t none;
	ssize_t n;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	do
		n = read(fd, &status, 1);
	while (n < 0 && errno == EINTR);
	_exit(n == 1 ? status : EXIT_OSERR);
}

int
daemon_detach(void)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_err("pipe");
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_err("fork");
		close_quietly(fds[0]);
		close_quietly(fds[1]);
		return -1;
	}
	if (pid > 0) {
		close_quietly(fds[1]);
		daemon_wait_ready(fds[0]);
	}
	close_quietly(fds[0]);
	/* A failure here is the caller's to clean up (the pidfile): the
	 * original process sees the pipe close without a word, and exits 71. */
	if (setsid() < 0 || (pid = fork()) < 0) {
		log_err("setsid/fork");
		close_quietly(fds[1]);
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		log_warn("chdir /");
	umask(022);
	return fds[1];
}

void
daemon_ready(int fd, int status)
{
	unsigned char b = (unsigned char)status;

	if (fd < 0)
		return;
	if (write_all(fd, &b, 1) < 0)
		log_warn("telling the starting process we are ready");
	close_quietly(fd);
}
