/*
 * iov.c: helpers for arrays of struct iovec (see iov.h).
 */
#include "iov.h"

#include <string.h>

size_t
iov_total(const struct iovec *iov, int cnt)
{
	size_t total = 0;

	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return total;
}

size_t
iov_gather(const struct iovec *iov, int cnt, char *buf, size_t cap)
{
	size_t len = 0;

	for (int i = 0; i < cnt && len < cap; i++) {
		size_t k = iov[i].iov_len < cap - len ? iov[i].iov_len : cap - len;
		memcpy(buf + len, iov[i].iov_base, k);
		len += k;
	}
	return len;
}
