/*
 * mailbox.c: a worker thread's mailbox (see mailbox.h).
 *
 * Owns the mailbox's eventfd, its lock and the sockets waiting in it until
 * the owner takes them.
 */
#include "mailbox.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "sysutil.h"

int
mailbox_init(struct mailbox *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->fd < 0)
		return -1;
	pthread_mutex_init(&mb->lock, NULL);
	return 0;
}

void
mailbox_free(struct mailbox *mb)
{
	if (mb->fd < 0)
		return;
	for (int i = 0; i < mb->nconns; i++)
		close_quietly(mb->conns[i].fd);
	close_quietly(mb->fd);
	mb->fd = -1;
	pthread_mutex_destroy(&mb->lock);
}

static void
mailbox_ring(struct mailbox *mb)
{
	uint64_t one = 1;

	if (write(mb->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("write to a worker's mailbox");
}

void
mailbox_post_stop(struct mailbox *mb, uint64_t deadline_ms)
{
	pthread_mutex_lock(&mb->lock);
	mb->stop = true;
	mb->deadline_ms = deadline_ms;
	pthread_mutex_unlock(&mb->lock);
	mailbox_ring(mb);
}

bool
mailbox_post_conn(struct mailbox *mb, int fd, const union addr *peer)
{
	bool taken = false;

	pthread_mutex_lock(&mb->lock);
	if (!mb->stop && mb->nconns < MAILBOX_CONNS) {
		mb->conns[mb->nconns].fd = fd;
		mb->conns[mb->nconns++].peer = *peer;
		taken = true;
	}
	pthread_mutex_unlock(&mb->lock);
	if (taken)
		mailbox_ring(mb);
	return taken;
}

void
mailbox_take(struct mailbox *mb, struct mailbox_content *out)
{
	uint64_t ticks;

	if (read(mb->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_err("read a worker's mailbox");
	pthread_mutex_lock(&mb->lock);
	out->stop = mb->stop;
	out->deadline_ms = mb->deadline_ms;
	out->nconns = mb->nconns;
	memcpy(out->conns, mb->conns, (size_t)mb->nconns * sizeof(mb->conns[0]));
	mb->nconns = 0;
	pthread_mutex_unlock(&mb->lock);
}
